#include "convex_importd/user_row.hpp"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <optional>

#include "convex_importd/text.hpp"

namespace convex_importd {

namespace {

// Header names as header_key() leaves them: "E-mail Address" and "email_address" are both
// "emailaddress". Exports spell these every way.
constexpr std::array email_aliases{"email", "emailaddress", "mail"};
constexpr std::array password_aliases{"password", "temporarypassword", "temppassword",
                                      "initialpassword"};

std::string lower_ascii(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
        return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : static_cast<char>(c);
    });
    return out;
}

// A header name reduced to what tells columns apart: lower case, without spaces, dashes,
// underscores or dots.
std::string header_key(std::string_view name) {
    std::string key = lower_ascii(trim_blanks(name));
    std::erase_if(key, [](char c) { return c == ' ' || c == '-' || c == '_' || c == '.'; });
    return key;
}

// Whether header name `name` is the column asked for, or one of its aliases.
template <std::size_t N>
bool names_column(const std::string& name, const std::string& wanted,
                  const std::array<const char*, N>& aliases) {
    const std::string key = header_key(name);
    return wanted.empty() ? std::find(aliases.begin(), aliases.end(), key) != aliases.end()
                          : key == header_key(wanted);
}

// Finds the one column whose name is `wanted` or, when `wanted` is empty, one of `aliases`.
template <std::size_t N>
std::size_t find_column(const std::vector<std::string>& names, const std::string& wanted,
                        const std::array<const char*, N>& aliases, std::string_view role) {
    std::optional<std::size_t> found;
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (!names_column(names[i], wanted, aliases)) {
            continue;
        }
        if (found) {
            throw header_error("the header names the " + std::string(role) + " column twice (" +
                               std::to_string(*found + 1) + " and " + std::to_string(i + 1) + ")");
        }
        found = i;
    }
    if (!found) {
        throw header_error("no " + std::string(role) + " column in the header");
    }
    return *found;
}

std::optional<std::size_t> find_named(const std::vector<std::string>& names,
                                      std::string_view name) {
    const std::string wanted = header_key(name);
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (header_key(names[i]) == wanted) {
            return i;
        }
    }
    return std::nullopt;
}

void mark_invalid(user_row& row, std::string reason) {
    row.verdict = outcome::invalid;
    row.detail = std::move(reason);
    row.password.wipe();
}

// For a record whose fields may have slipped into the wrong columns: any of them could be
// a password, so none is kept.
void mark_untrusted(user_row& row, std::string reason) {
    row.email.clear();
    mark_invalid(row, std::move(reason));
}

// A plain loop rather than std::any_of, whose loop unrolled by four cost more to set up than
// the one or two bytes that a field holding text takes to look at.
bool holds_text(std::string_view field) {
    for (const char c : field) {
        if (!is_blank(c)) {
            return true;
        }
    }
    return false;
}

// Whether the record, without the empty cells that spreadsheets pad rows with, is at least
// `width` fields wide: whether one of its fields from `width` - 1 on holds text. Asked of
// every record, where fields_in_use() would trim each field from the end.
bool spans_width(const csv_record& record, std::size_t width) {
    for (std::size_t i = width == 0 ? 0 : width - 1; i < record.size(); ++i) {
        if (holds_text(record.field(i))) {
            return true;
        }
    }
    return width == 0;
}

// The record's width without the empty cells that spreadsheets pad rows with.
std::size_t fields_in_use(const csv_record& record) {
    std::size_t used = record.size();
    while (used > 0 && trim_blanks(record.field(used - 1)).empty()) {
        --used;
    }
    return used;
}

bool valid_utf8(std::string_view text) {
    return is_ascii(text) || simdjson::validate_utf8(text.data(), text.size());
}

// Fills in `row` from the record's fields, or marks it invalid with the reason. Inlined into
// both callers: fill_user_row runs once per record, and the call saved and restored six
// registers each time.
[[gnu::always_inline]] inline void check_fields(user_row& row, const csv_record& record,
                                                const column_map& columns, const row_rules& rules) {
    if (record.oversized()) {
        return mark_untrusted(row, "record longer than the size limit");
    }
    if (!record.known_ascii() && !valid_utf8(record.text())) {
        return mark_untrusted(row, "not valid UTF-8");
    }
    const std::size_t needed = std::max(columns.email, columns.password) + 1;
    if (record.size() < needed) {
        return mark_untrusted(row, std::to_string(record.size()) + " fields, expected " +
                                       std::to_string(columns.header_fields));
    }
    // Only a record wider than the header can use more fields than it: most skip the count.
    const bool wider = record.size() > columns.header_fields;
    if (const std::size_t used = wider ? fields_in_use(record) : 0; used > columns.header_fields) {
        // A delimiter inside an unquoted value (a comma in a password) shifts every later
        // field; sending what lands in the password column would sign up a wrong password.
        return mark_untrusted(row, std::to_string(used) + " fields, expected " +
                                       std::to_string(columns.header_fields));
    }
    const std::string_view email = record.field(columns.email);
    const std::string_view password = record.field(columns.password);
    for (const auto& [field, name] : columns.params) {
        if (field < record.size() && !record.field(field).empty()) {
            row.params.emplace_back(name, record.field(field));  // absent or empty: left out
        }
    }

    if (auto problem = normalise_email(email, rules.letter_case, row.email)) {
        // What is in the email column is not an address: it may be a password that slipped
        // into the wrong column, so it is not repeated anywhere.
        return mark_untrusted(row, std::move(*problem));
    }
    if (password.empty()) {
        return mark_invalid(row, "empty password");
    }
    const std::size_t length = record.known_ascii() ? password.size() : utf16_length(password);
    if (length < rules.min_password_length) {
        return mark_invalid(row, "password shorter than " +
                                     std::to_string(rules.min_password_length) + " characters");
    }
    row.password.assign(password);
}

}  // namespace

std::vector<std::string> header_names(const csv_record& header) {
    std::vector<std::string> names;
    for (std::size_t i = 0; i < header.size(); ++i) {
        names.emplace_back(header.field(i));
    }
    return names;
}

int required_columns_found(const std::vector<std::string>& names, const column_options& options) {
    const auto has = [&names](const std::string& wanted, const auto& aliases) {
        return std::any_of(names.begin(), names.end(), [&](const std::string& name) {
            return names_column(name, wanted, aliases);
        });
    };
    return (has(options.email_column, email_aliases) ? 1 : 0) +
           (has(options.password_column, password_aliases) ? 1 : 0);
}

column_map map_header(const std::vector<std::string>& names, const column_options& options) {
    column_map columns;
    columns.email = find_column(names, options.email_column, email_aliases, "email");
    columns.password = find_column(names, options.password_column, password_aliases, "password");

    for (const auto& [column, param] : options.params) {
        const auto index = find_named(names, column);
        if (!index) {
            throw header_error("no column \"" + column + "\" for --param in the header");
        }
        columns.params.emplace_back(*index, param);
    }

    // Trailing empty header cells come from spreadsheets that pad every row; they are no
    // column, so a row that leaves them out is not short.
    std::size_t width = names.size();
    while (width > 0 && trim_blanks(names[width - 1]).empty()) {
        --width;
    }
    columns.header_fields = width;

    for (std::size_t i = 0; i < width; ++i) {
        const bool used = i == columns.email || i == columns.password ||
                          std::any_of(columns.params.begin(), columns.params.end(),
                                      [i](const auto& p) { return p.first == i; });
        if (!used && !trim_blanks(names[i]).empty()) {
            columns.unknown.emplace_back(trim_blanks(names[i]));
        }
    }
    return columns;
}

namespace {

// Zeros that the compiler may not drop: the empty asm claims to read the memory they land in.
// Passwords are short, so up to 16 bytes take two overlapping word stores: explicit_bzero
// cost a call into libc and another into memset for every row.
void wipe_bytes(char* bytes, std::size_t size) {
    constexpr std::uint64_t zero = 0;
    if (size >= 8 && size <= 16) {
        std::memcpy(bytes, &zero, 8);
        std::memcpy(bytes + size - 8, &zero, 8);
    } else if (size < 8) {
        for (std::size_t i = 0; i < size; ++i) {
            bytes[i] = 0;
        }
    } else {
        std::memset(bytes, 0, size);
    }
    asm volatile("" : : "r"(bytes) : "memory");
}

}  // namespace

secret_string::secret_string(std::string_view text) : text_(text) {
    zero_spare();
}

// The moved-from string may keep the bytes of a short value in its own buffer, behind a size
// of zero: zero_spare() reaches them, where wipe() would not.
secret_string::secret_string(secret_string&& other) noexcept : text_(std::move(other.text_)) {
    zero_spare();
    other.wipe();
    other.zero_spare();
}

secret_string& secret_string::operator=(secret_string&& other) noexcept {
    if (this != &other) {
        wipe();
        text_ = std::move(other.text_);
        zero_spare();
        other.wipe();
        other.zero_spare();
    }
    return *this;
}

void secret_string::assign(std::string_view text) {
    wipe();
    if (text.size() > text_.capacity()) {
        // Growing copies nothing of the (wiped) value; the new storage past it is zeroed.
        text_.reserve(text.size());
        zero_spare();
    }
    text_.assign(text);
}

// Not OPENSSL_cleanse, which reaches memset through a volatile pointer: with two wipes per row
// (the row refilled, the password assigned) the calls cost more than the copy of a password.
void secret_string::wipe() {
    if (!text_.empty()) {
        wipe_bytes(text_.data(), text_.size());
        text_.clear();
    }
}

// std::string keeps capacity() + 1 bytes, the last for the terminator, in the buffer that
// data() points to; the spare ones are reached through it.
void secret_string::zero_spare() {
    wipe_bytes(text_.data() + text_.size(), text_.capacity() - text_.size() + 1);
}

bool secret_string::spare_is_zero() const {
    const char* data = text_.data();
    return std::all_of(data + text_.size(), data + text_.capacity() + 1,
                       [](char c) { return c == '\0'; });
}

user_row make_user_row(const csv_record& record, const column_map& columns, std::size_t index,
                       const row_rules& rules) {
    // Built in place and returned by name, so that the password is neither copied nor
    // moved: each move of a secret_string wipes the string it leaves.
    user_row row;
    row.index = index;
    row.line = record.line();
    check_fields(row, record, columns, rules);
    return row;
}

// Flattened: it runs once per record, and the calls it made to small functions of this file
// (storing the password above all) cost more in saving registers than in their work.
[[gnu::flatten]] void fill_user_row(user_row& row, const csv_record& record,
                                    const column_map& columns, std::size_t index,
                                    const row_rules& rules) {
    row.index = index;
    row.line = record.line();
    // The email is left to check_fields, which writes or clears it on every path: cleared
    // here, its storage would be zeroed by the resize that the next email is written into.
    row.password.wipe();
    row.params.clear();
    row.verdict.reset();
    row.detail.clear();
    check_fields(row, record, columns, rules);
}

namespace {

// Kept out of looks_like_fragment: inlined there, the email it builds made every call save and
// restore registers, though nearly every record is as wide as the header and never gets here.
[[gnu::noinline]] bool lacks_email(const csv_record& record, const column_map& columns,
                                   const row_rules& rules) {
    if (columns.email >= record.size() || !valid_utf8(record.field(columns.email))) {
        return true;
    }
    return normalise_email(record.field(columns.email), rules.letter_case).problem.has_value();
}

}  // namespace

bool looks_like_fragment(const csv_record& record, const column_map& columns,
                         const row_rules& rules) {
    if (record.oversized() || spans_width(record, columns.header_fields)) {
        return false;
    }
    return lacks_email(record, columns, rules);
}

void mark_broken_record(user_row& row, std::string reason) {
    mark_untrusted(row, std::move(reason));
}

}  // namespace convex_importd
