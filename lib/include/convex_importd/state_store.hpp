#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "convex_importd/outcome.hpp"
#include "convex_importd/results_writer.hpp"

namespace convex_importd {

/// The state database cannot be opened, read or written. Progress since the last commit is
/// lost, never corrupted: the rows concerned are sent again after a restart.
class state_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// A file's entry in the state store.
struct file_entry {
    std::int64_t id = 0;
    std::size_t finished_rows = 0;  // rows that already have an outcome: a resumed file
};

/// Where an email ended `created` or `exists` before.
struct ledger_entry {
    outcome result = outcome::created;
    std::string file;
    std::size_t line = 0;
};

/// A keyed hash of a normalised email (HMAC-SHA-256, cut to 128 bits): the store keeps these
/// instead of addresses, so that it does not become a list of the users it imported.
using email_key = std::array<unsigned char, 16>;

/// Durable per-row progress and the ledger, in SQLite (WAL mode) under the state directory.
///
/// Every row's final outcome is written as it ends, in a batch that commit() makes durable:
/// a row that was committed is never sent again, and after a crash exactly the rows without a
/// committed outcome are. The results file and the summary are read back from here. The
/// ledger remembers, across files and runs, each email that ended `created` or `exists`; a
/// file's emails join it when the file is sealed, once every row has its outcome.
///
/// One instance per thread (it owns one SQLite connection); open() locks the directory so
/// that a second process cannot share it.
class state_store {
public:
    /// Opens or creates DIR/state.db, creating DIR (mode 0700) when missing. Throws
    /// state_error, also when another process holds the directory.
    static std::unique_ptr<state_store> open(const std::filesystem::path& dir);

    /// A store in a private temporary file that is deleted when it closes: per-file progress
    /// for one run, with nothing remembered after it (so no ledger either).
    static std::unique_ptr<state_store> temporary();

    ~state_store();
    state_store(const state_store&) = delete;
    state_store& operator=(const state_store&) = delete;

    /// Starts a file, or resumes it when an unfinished entry has the same key and identity.
    /// `key` names the file stably (its absolute path); `identity` tells a different file
    /// under the same name apart (see file_identity()); `name` is what the ledger reports.
    file_entry begin_file(std::string_view key, std::string_view identity, std::string_view name);

    /// True when the row at `index` (0-based, in file order) has an outcome already.
    bool has_outcome(std::int64_t file, std::size_t index);

    /// Adds a row's outcome to the open batch.
    void record(std::int64_t file, std::size_t index, const row_result& row);

    /// Makes the open batch durable. Cheap when nothing is pending.
    void commit();
    std::size_t pending() const;

    /// False for a temporary store: it goes with the process, so waiting for its commits
    /// protects nothing from a crash.
    bool durable() const;

    /// The ledger's entry for an email, normalised as it is sent.
    std::optional<ledger_entry> find_in_ledger(std::string_view email);

    /// Calls `each` for the file's rows in input order, with their indexes.
    void for_each_row(std::int64_t file,
                      const std::function<void(std::size_t, const row_result&)>& each);

    /// Outcome counts of the file's rows.
    std::array<std::size_t, outcome_count> count_outcomes(std::int64_t file);

    /// Every row of the file has its outcome: the emails that ended `created` or `exists`
    /// join the ledger. Safe to repeat (a crash before the file was moved).
    void seal_file(std::int64_t file);

    /// The file is done and its results are written: its rows are dropped, the entry stays
    /// (the ledger names it). Seal it first.
    void finish_file(std::int64_t file);

    /// Drops the rows and the entry of a file that could not be imported.
    void forget_file(std::int64_t file);

    /// Drops unfinished entries whose key starts with `prefix` and is not in `keep`: files
    /// that left processing/ between being moved and being marked done. Returns how many.
    std::size_t forget_unfinished(std::string_view prefix, const std::vector<std::string>& keep);

    email_key key_of(std::string_view email) const;

private:
    struct impl;
    explicit state_store(std::unique_ptr<impl> state);
    std::unique_ptr<impl> impl_;
};

/// Device, inode, size and modification time of a file, as text: unchanged by rename(2),
/// changed when the file is replaced or rewritten. Throws std::filesystem::filesystem_error.
std::string file_identity(const std::filesystem::path& file);

/// For one pass over one file: the first line on which each normalised email appeared, by
/// keyed hash, in a private temporary SQLite file, so that memory stays flat however large
/// the file. Meant for the reader thread; one instance per pass.
class first_line_index {
public:
    first_line_index();
    ~first_line_index();
    first_line_index(const first_line_index&) = delete;
    first_line_index& operator=(const first_line_index&) = delete;

    /// The first line `email` appeared on; `line` itself when this is the first time. Lines
    /// must be fed in increasing order.
    std::size_t first_line(std::string_view email, std::size_t line);

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace convex_importd
