#include "convex_importd/check.hpp"

#include <fmt/format.h>

#include "convex_importd/escape.hpp"
#include "convex_importd/logging.hpp"
#include "convex_importd/row_source.hpp"

namespace convex_importd {

namespace {

std::string encoding_name(text_encoding encoding) {
    switch (encoding) {
        case text_encoding::utf16le:
            return "utf-16le";
        case text_encoding::utf16be:
            return "utf-16be";
        case text_encoding::utf8:
            break;
    }
    return "utf-8";
}

}  // namespace

check_report check_file(const std::filesystem::path& file, const layout_options& layout,
                        const row_rules& rules) {
    check_report report;
    report.file = file.filename().string();
    report.layout = find_layout(file, layout);

    row_source rows(file, report.layout, rules);
    user_row row;
    while (rows.next(row)) {
        ++report.records;
        if (!row.verdict) {
            ++report.valid;
            continue;
        }
        const std::string reason =
            *row.verdict == outcome::duplicate ? std::string("duplicate email") : row.detail;
        ++report.reasons[reason];
        if (report.first_problems.size() < check_report::max_listed) {
            report.first_problems.push_back({row.line, row.email, row.detail});
        }
    }
    report.blank_lines = rows.blank_lines();
    return report;
}

void print_check_report(const check_report& report, std::FILE* out) {
    fmt::print(out,
               "check file={} records={} valid={} problems={} blank_lines={} delimiter={} "
               "encoding={} header_line={}\n",
               log_value(report.file), report.records, report.valid, report.records - report.valid,
               report.blank_lines, log_value(delimiter_name(report.layout.csv.delimiter)),
               encoding_name(report.layout.encoding), report.layout.header_line);
    if (!report.layout.columns.unknown.empty()) {
        std::string names;
        for (const auto& name : report.layout.columns.unknown) {
            names += (names.empty() ? "" : ", ") + name;
        }
        fmt::print(out, "unknown columns ignored: {}\n", escape_controls(names));
    }
    for (const auto& [reason, count] : report.reasons) {
        fmt::print(out, "  {:>8}  {}\n", count, reason);
    }
    for (const auto& problem : report.first_problems) {
        fmt::print(out, "line {}: {}{}\n", problem.line, problem.reason,
                   problem.email.empty() ? "" : " (" + escape_controls(problem.email) + ")");
    }
    const std::size_t unlisted = report.records - report.valid - report.first_problems.size();
    if (unlisted > 0) {
        fmt::print(out, "... and {} more problem rows\n", unlisted);
    }
}

int run_check_command(const std::filesystem::path& file, const layout_options& layout,
                      const row_rules& rules) {
    try {
        const check_report report = check_file(file, layout, rules);
        print_check_report(report, stdout);
        return report.valid == report.records ? 0 : 1;
    } catch (const std::exception& error) {
        fmt::print(stderr, "check file={} cannot be imported: {}\n",
                   log_value(file.filename().string()), error.what());
        return 2;
    }
}

}  // namespace convex_importd
