#pragma once

#include <cstddef>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>

#include "convex_importd/outcome.hpp"

namespace convex_importd {

/// One row of a results file.
struct row_result {
    std::size_t line = 0;
    std::string email;
    outcome result = outcome::failed;
    unsigned attempts = 0;
    std::string detail;
};

/// Writes `line,email,outcome,attempts,detail` rows in input order, whatever order the
/// outcomes arrive in. The file is written beside the target and renamed over it by
/// commit(), so a reader never sees half a results file. Not thread-safe.
class results_writer {
public:
    /// Creates the temporary file (mode 0600); throws std::system_error naming the path.
    explicit results_writer(std::filesystem::path target);
    ~results_writer();
    results_writer(const results_writer&) = delete;
    results_writer& operator=(const results_writer&) = delete;

    /// Records the outcome of the data record at `index` (0-based, in file order).
    void add(std::size_t index, const row_result& result);

    /// Writes what is held back, flushes, syncs and renames into place.
    void commit();

    /// Rows waiting for an earlier row's outcome before they can be written.
    std::size_t held_back() const { return waiting_.size(); }

private:
    void write(const row_result& result);

    std::filesystem::path target_;
    std::filesystem::path temporary_;
    std::FILE* file_ = nullptr;
    std::size_t next_index_ = 0;
    std::map<std::size_t, row_result> waiting_;
    std::string scratch_;
};

/// Appends `value` as one CSV cell: control characters written as `\xNN`, quoted when it
/// holds a delimiter or quote, and prefixed with `'` when a spreadsheet would read it as a
/// formula.
void append_csv_cell(std::string& out, std::string_view value);

}  // namespace convex_importd
