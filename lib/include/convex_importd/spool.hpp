#pragma once

#include <filesystem>
#include <optional>
#include <string_view>
#include <vector>

#include "convex_importd/settle_tracker.hpp"

namespace convex_importd {

/// The spool folder: inbox/ where operators drop files, processing/ while a file is
/// imported, done/ with NAME.results.csv beside each finished file, failed/ with
/// NAME.error.txt beside each file that could not be imported. A file moves between them
/// only by rename(2), so it is always in exactly one place.
class spool {
public:
    /// Creates the four folders when missing; throws std::filesystem::filesystem_error.
    explicit spool(std::filesystem::path root);

    const std::filesystem::path& inbox() const { return inbox_; }
    const std::filesystem::path& processing() const { return processing_; }
    const std::filesystem::path& done() const { return done_; }
    const std::filesystem::path& failed() const { return failed_; }

    /// True for `*.csv` names that are not hidden and not a writer's temporary file.
    static bool importable_name(std::string_view name);

    /// Importable files in inbox/, oldest first.
    std::vector<std::filesystem::path> waiting_files() const;

    /// The same files with their size and modification time, for the settle check.
    std::vector<file_observation> observe_inbox() const;

    /// Files left in processing/ by an earlier run.
    std::vector<std::filesystem::path> unfinished_files() const;

    /// Moves inbox/NAME to processing/, renaming it when NAME was imported before. Returns
    /// the new path, or nothing when the file is gone (another process claimed it).
    std::optional<std::filesystem::path> claim(const std::filesystem::path& waiting);

    /// Where the results of a file in processing/ go once it is done.
    std::filesystem::path results_path(const std::filesystem::path& claimed) const;

    /// Moves a file from processing/ to done/, readable by its owner alone (it holds
    /// passwords). Its results are already in place.
    std::filesystem::path finish(const std::filesystem::path& claimed);

    /// Deletes a finished file from processing/: its results are in done/, and the
    /// plaintext passwords it holds should not outlive the import.
    void discard(const std::filesystem::path& claimed);

    /// Moves a file from processing/ to failed/ (owner-only, like done/) and writes
    /// NAME.error.txt with `reason`.
    std::filesystem::path fail(const std::filesystem::path& claimed, std::string_view reason);

private:
    std::filesystem::path unused_name(const std::filesystem::path& name) const;

    std::filesystem::path inbox_;
    std::filesystem::path processing_;
    std::filesystem::path done_;
    std::filesystem::path failed_;
};

}  // namespace convex_importd
