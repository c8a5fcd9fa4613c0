#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "convex_importd/csv_reader.hpp"
#include "convex_importd/user_row.hpp"

namespace convex_importd {

/// What the command line says about the shape of input files.
struct layout_options {
    std::optional<char> delimiter;  // nothing: detect from the first line
    bool header = true;
    std::vector<std::string> columns;  // without a header: the column names, in order
    column_options names;
    std::size_t max_record_bytes = 64 * 1024;
};

/// How to read one file: its dialect and where the wanted fields are.
struct file_layout {
    csv_options csv;
    column_map columns;
    bool header = true;
    std::size_t header_line = 0;  // 0 without a header
    text_encoding encoding = text_encoding::utf8;
    bool separator_line = false;  // the file starts with Excel's "sep=X" line
};

/// The file cannot be read as a list of users; the message says why and names the line.
class layout_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// How messages name a delimiter: the character itself, or "tab".
std::string delimiter_name(char delimiter);

/// Finds the delimiter (the one given, else one named by an Excel "sep=X" first line, else
/// the one of `,` `;` TAB `|` that makes sense of the header) and the columns from the first
/// non-blank line. Throws layout_error, std::system_error (unreadable) or csv_error.
file_layout find_layout(const std::filesystem::path& file, const layout_options& options);

/// Reads up to and including the header (or up to the first data record, without a header),
/// past a "sep=" line: returns the number of blank lines skipped on the way.
std::size_t skip_to_data(csv_reader& reader, const file_layout& layout);

}  // namespace convex_importd
