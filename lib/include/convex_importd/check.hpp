#pragma once

#include <cstddef>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "convex_importd/file_layout.hpp"
#include "convex_importd/user_row.hpp"

namespace convex_importd {

/// What `convex-importd check` found in a file, without sending anything.
struct check_report {
    std::string file;
    file_layout layout;
    std::size_t records = 0;
    std::size_t valid = 0;
    std::size_t blank_lines = 0;
    std::map<std::string, std::size_t> reasons;  // problem -> rows with it

    struct problem_row {
        std::size_t line = 0;
        std::string email;
        std::string reason;
    };
    std::vector<problem_row> first_problems;  // in file order, at most `max_listed`

    static constexpr std::size_t max_listed = 20;
};

/// Reads and checks every row of `file` as an import would. Throws layout_error, csv_error
/// or std::system_error when the file cannot be imported at all.
check_report check_file(const std::filesystem::path& file, const layout_options& layout,
                        const row_rules& rules);

/// Prints the report for an operator: a summary line, counts by reason, the first problem
/// rows by line number.
void print_check_report(const check_report& report, std::FILE* out);

/// `convex-importd check FILE`: exit 0 when every row is valid, 1 when some are not, 2 when
/// the file cannot be imported at all.
int run_check_command(const std::filesystem::path& file, const layout_options& layout,
                      const row_rules& rules);

}  // namespace convex_importd
