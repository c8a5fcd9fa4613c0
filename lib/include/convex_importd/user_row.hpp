#pragma once

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "convex_importd/csv_reader.hpp"
#include "convex_importd/email.hpp"
#include "convex_importd/outcome.hpp"

namespace convex_importd {

/// Which columns to read, as given on the command line. Empty names mean "find it".
struct column_options {
    std::string email_column;
    std::string password_column;
    /// Extra columns passed through as sign-up params: (column name, param name).
    std::vector<std::pair<std::string, std::string>> params;
};

/// Where the wanted fields sit in each record, found from the header row.
struct column_map {
    std::size_t email = 0;
    std::size_t password = 0;
    std::vector<std::pair<std::size_t, std::string>> params;  // (field index, param name)
    std::size_t header_fields = 0;
    std::vector<std::string> unknown;  // header names that nothing reads
};

/// A header row that cannot be used; the message names the missing or ambiguous column.
class header_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Maps header names to columns: names are trimmed and matched case-insensitively, with the
/// common aliases ("e-mail", "temporary password", ...). Throws header_error; its message
/// names columns, never a cell that could be data.
column_map map_header(const std::vector<std::string>& names, const column_options& options);

/// The fields of a header record as names.
std::vector<std::string> header_names(const csv_record& header);

/// How many of the required columns (email, password) the names hold: 0, 1 or 2.
int required_columns_found(const std::vector<std::string>& names, const column_options& options);

/// The checks a row must pass before it is sent.
struct row_rules {
    email_case letter_case = email_case::lower;
    /// In UTF-16 code units, as Convex Auth counts; 0 turns the check off.
    std::size_t min_password_length = 8;
};

/// A string that is overwritten with zeros when it is destroyed or cleared, for passwords
/// and request bodies. Move-only, so that no stray copy outlives its use.
///
/// Invariant: every byte of its storage past size() is zero. A value is wiped before its
/// storage holds another or is given up, so a wipe only has size() bytes to overwrite, not
/// the whole capacity, and no shorter value leaves the tail of a longer one behind it.
class secret_string {
public:
    secret_string() { zero_spare(); }
    explicit secret_string(std::string_view text);
    secret_string(secret_string&& other) noexcept;
    secret_string& operator=(secret_string&& other) noexcept;
    secret_string(const secret_string&) = delete;
    secret_string& operator=(const secret_string&) = delete;
    ~secret_string() { wipe(); }

    std::string_view view() const { return text_; }

    /// Wipes the value held and holds `text` instead.
    void assign(std::string_view text);
    void wipe();

    /// Whether the invariant holds, for tests.
    bool spare_is_zero() const;

private:
    void zero_spare();

    std::string text_;
};

/// One data record on its way to an outcome. `verdict` is set when the record was decided
/// locally (no request will be sent); otherwise the sign-up decides.
struct user_row {
    std::size_t index = 0;  // 0-based position among the file's data records
    std::size_t line = 0;   // line where the record starts
    std::string email;
    secret_string password;
    std::vector<std::pair<std::string, std::string>> params;
    std::optional<outcome> verdict;
    std::string detail;
};

/// Builds the row for one data record: checks that the fields are there and are valid UTF-8,
/// normalises the email, checks the password's length. A faulty record becomes an `invalid`
/// row with a reason that never quotes the record's text; when the record's fields cannot be
/// trusted to be in their columns (too few, too long, not UTF-8) its email is left out too.
user_row make_user_row(const csv_record& record, const column_map& columns, std::size_t index,
                       const row_rules& rules);

/// make_user_row into `row`, reusing its storage, for loops that read row after row.
void fill_user_row(user_row& row, const csv_record& record, const column_map& columns,
                   std::size_t index, const row_rules& rules);

/// True for a record that looks like the rest of the record before it, cut off by a line
/// break that should have been quoted: fewer fields than the header, and no email where the
/// email should be. (A short row that starts with an email is a real row with its optional
/// columns left out.)
bool looks_like_fragment(const csv_record& record, const column_map& columns,
                         const row_rules& rules);

/// Marks a row invalid and forgets its fields: the record was cut apart, so any of them
/// could be part of a password.
void mark_broken_record(user_row& row, std::string reason);

}  // namespace convex_importd
