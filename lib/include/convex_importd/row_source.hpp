#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string_view>
#include <unordered_map>

#include "convex_importd/csv_reader.hpp"
#include "convex_importd/file_layout.hpp"
#include "convex_importd/user_row.hpp"

namespace convex_importd {

/// Remembers on which line each normalised email first appeared in one file.
/// Holds a 128-bit digest per distinct email, not the address.
class first_seen_emails {
public:
    /// The line `email` was first seen on, or `line` (recording it) when it is new.
    std::size_t first_line(std::string_view email, std::size_t line);

private:
    struct digest {
        std::uint64_t high = 0;
        std::uint64_t low = 0;
        bool operator==(const digest&) const = default;
    };
    struct digest_hash {
        std::size_t operator()(const digest& d) const { return d.low; }
    };

    static digest digest_of(std::string_view email);

    // Memory grows with the number of distinct emails (about 50 bytes each).
    std::unordered_map<digest, std::size_t, digest_hash> lines_;
};

/// A file's data records as checked user rows, in file order: blank lines are counted and
/// skipped, and a repeated email becomes a `duplicate` row naming the line it was first
/// seen on (the first one wins). One pass; not thread-safe.
class row_source {
public:
    row_source(const std::filesystem::path& file, const file_layout& layout,
               const row_rules& rules);

    /// The next row; false at the end. Throws csv_error when the file's structure breaks.
    bool next(user_row& row);

    std::size_t blank_lines() const { return blank_lines_; }
    std::size_t bytes_read() const { return reader_.bytes_read(); }

private:
    csv_reader reader_;
    csv_record record_;
    const file_layout& layout_;
    row_rules rules_;
    first_seen_emails seen_;
    std::size_t index_ = 0;
    std::size_t blank_lines_ = 0;
};

}  // namespace convex_importd
