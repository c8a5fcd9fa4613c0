#include "convex_importd/file_layout.hpp"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <vector>

#include "convex_importd/text.hpp"

namespace convex_importd {

namespace {

constexpr std::array<char, 4> candidate_delimiters{',', ';', '\t', '|'};
constexpr const char* no_header_message = "no header row; expected columns email,password";

std::string at_line(std::size_t line, const std::string& what) {
    return "line " + std::to_string(line) + ": " + what;
}

// The first record that is not blank, or false for a file without one.
bool first_record(csv_reader& reader, csv_record& record) {
    while (reader.next(record)) {
        if (!record.blank()) {
            return true;
        }
    }
    return false;
}

// Excel reads, and some tools write, a first line "sep=X" naming the delimiter. Read with
// any delimiter, "sep=," comes out as the fields "sep=" and "", the others as one field.
std::optional<char> excel_separator_line(const csv_record& record) {
    const std::string_view first = record.size() > 0 ? record.field(0) : "";
    if (record.size() == 1 && first.size() == 5 && first.starts_with("sep=")) {
        return first[4];
    }
    if (record.size() == 2 && first == "sep=" && record.field(1).empty()) {
        return ',';
    }
    return std::nullopt;
}

// Faults of the first line that no delimiter can mend.
void check_encoding(const csv_record& record) {
    for (std::size_t i = 0; i < record.size(); ++i) {
        const std::string_view field = record.field(i);
        if (field.find('\0') != std::string_view::npos) {
            throw layout_error(at_line(record.line(),
                                       "the file holds NUL bytes: it looks like UTF-16 without a "
                                       "byte-order mark; save it as UTF-8"));
        }
        if (!simdjson::validate_utf8(field.data(), field.size())) {
            throw layout_error(at_line(record.line(),
                                       "the first line is not valid UTF-8 (a legacy encoding "
                                       "such as Windows-1252?); save the file as UTF-8"));
        }
    }
}

/// What reading the first line with one delimiter gave.
struct attempt {
    char delimiter = ',';
    std::size_t line = 0;
    std::size_t fields = 0;
    int required_found = 0;
    std::optional<column_map> columns;
    std::string problem;
    text_encoding encoding = text_encoding::utf8;
    bool separator_line = false;
};

attempt try_delimiter(const std::filesystem::path& file, const layout_options& options,
                      char delimiter) {
    csv_reader reader(file, {delimiter, options.max_record_bytes});
    csv_record record;
    if (!first_record(reader, record)) {
        throw layout_error(
            "the file is empty; expected a header row with columns "
            "email,password");
    }
    check_encoding(record);
    const bool separator_line = excel_separator_line(record).has_value();
    if (separator_line && !first_record(reader, record)) {
        throw layout_error(
            "the file holds only a sep= line; expected a header row with "
            "columns email,password");
    }

    std::size_t used = record.size();
    while (used > 0 && trim_blanks(record.field(used - 1)).empty()) {
        --used;  // spreadsheets pad rows with empty cells
    }
    attempt result{delimiter, record.line(), used, 0, {}, {}, reader.encoding()};
    result.separator_line = separator_line;
    const auto names = options.header ? header_names(record) : options.columns;
    result.required_found = required_columns_found(names, options.names);
    try {
        result.columns = map_header(names, options.names);
    } catch (const header_error& error) {
        result.problem = error.what();
    }
    return result;
}

// Without a header the names come from the command line, so a delimiter fits when it splits
// the first line into as many fields as there are names (`exact`), or at least into enough
// to reach the email and the password.
bool fits(const attempt& tried, const layout_options& options, bool exact) {
    if (!tried.columns) {
        return false;
    }
    if (options.header || options.delimiter) {
        return true;
    }
    if (exact) {
        return tried.fields == options.columns.size();
    }
    const std::size_t needed = std::max(tried.columns->email, tried.columns->password) + 1;
    return tried.fields >= needed && tried.fields <= options.columns.size();
}

std::vector<const attempt*> fitting_attempts(const std::vector<attempt>& attempts,
                                             const layout_options& options, bool exact) {
    std::vector<const attempt*> fitting;
    for (const auto& tried : attempts) {
        if (fits(tried, options, exact)) {
            fitting.push_back(&tried);
        }
    }
    return fitting;
}

file_layout to_layout(const attempt& chosen, const layout_options& options) {
    file_layout layout;
    layout.csv = {chosen.delimiter, options.max_record_bytes};
    layout.columns = *chosen.columns;
    layout.header = options.header;
    layout.header_line = options.header ? chosen.line : 0;
    layout.encoding = chosen.encoding;
    layout.separator_line = chosen.separator_line;
    return layout;
}

[[noreturn]] void explain_failure(const std::vector<attempt>& attempts,
                                  const layout_options& options) {
    const auto best = std::max_element(
        attempts.begin(), attempts.end(),
        [](const attempt& a, const attempt& b) { return a.required_found < b.required_found; });
    if (!options.header) {
        throw layout_error(at_line(best->line,
                                   "cannot tell the delimiter: no candidate splits "
                                   "the first line into up to " +
                                       std::to_string(options.columns.size()) +
                                       " fields; use --delimiter"));
    }
    if (best->required_found == 0) {
        throw layout_error(at_line(best->line, no_header_message));
    }
    throw layout_error(at_line(best->line, best->problem + "; expected columns email,password"));
}

}  // namespace

// The delimiter a "sep=" first line names, if the file starts with one.
std::optional<char> declared_delimiter(const std::filesystem::path& file,
                                       const layout_options& options) {
    csv_reader reader(file, {',', options.max_record_bytes});
    csv_record record;
    return first_record(reader, record) ? excel_separator_line(record) : std::nullopt;
}

std::string delimiter_name(char delimiter) {
    return delimiter == '\t' ? std::string("tab") : std::string(1, delimiter);
}

file_layout find_layout(const std::filesystem::path& file, const layout_options& options) {
    if (!std::filesystem::is_regular_file(file)) {
        throw layout_error(
            "not a regular file (a pipe or a device?): files are read more "
            "than once; save it to a file first");
    }
    std::vector<attempt> attempts;
    const std::optional<char> declared = declared_delimiter(file, options);
    if (options.delimiter || declared) {
        attempts.push_back(try_delimiter(file, options, options.delimiter.value_or(*declared)));
    } else {
        for (const char delimiter : candidate_delimiters) {
            attempts.push_back(try_delimiter(file, options, delimiter));
        }
    }

    auto fitting = fitting_attempts(attempts, options, true);
    if (fitting.empty()) {
        fitting = fitting_attempts(attempts, options, false);
    }
    if (fitting.empty()) {
        explain_failure(attempts, options);
    }
    if (fitting.size() > 1) {
        throw layout_error(at_line(
            fitting[0]->line,
            "cannot tell the delimiter: both " + delimiter_name(fitting[0]->delimiter) + " and " +
                delimiter_name(fitting[1]->delimiter) + " fit the first line; use --delimiter"));
    }
    return to_layout(*fitting[0], options);
}

std::size_t skip_to_data(csv_reader& reader, const file_layout& layout) {
    csv_record record;
    std::size_t blank = 0;
    const auto skip_blank_and_one = [&] {
        while (reader.next(record) && record.blank()) {
            ++blank;
        }
    };
    if (layout.separator_line) {
        skip_blank_and_one();
    }
    if (layout.header) {
        skip_blank_and_one();
    }
    return blank;
}

}  // namespace convex_importd
