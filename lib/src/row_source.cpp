#include "convex_importd/row_source.hpp"

#include <functional>

namespace convex_importd {

// Two unrelated 64-bit hashes side by side: a false duplicate would need both to collide.
// Not keyed: whoever writes the file already decides which rows it holds.
first_seen_emails::digest first_seen_emails::digest_of(std::string_view email) {
    std::uint64_t fnv = 0xcbf29ce484222325ULL;
    for (const char c : email) {
        fnv = (fnv ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
    }
    return {fnv, std::hash<std::string_view>{}(email)};
}

std::size_t first_seen_emails::first_line(std::string_view email, std::size_t line) {
    return lines_.try_emplace(digest_of(email), line).first->second;
}

row_source::row_source(const std::filesystem::path& file, const file_layout& layout,
                       const row_rules& rules)
    : reader_(file, layout.csv), layout_(layout), rules_(rules) {
    blank_lines_ = skip_to_data(reader_, layout_);
}

bool row_source::next(user_row& row) {
    while (reader_.next(record_)) {
        if (record_.blank()) {
            ++blank_lines_;
            continue;
        }

        row = make_user_row(record_, layout_.columns, index_++, rules_);
        if (row.verdict || row.email.empty()) {
            return true;
        }
        const std::size_t first = seen_.first_line(row.email, row.line);
        if (first != row.line) {
            row.verdict = outcome::duplicate;
            row.detail = "first seen on line " + std::to_string(first);
            row.password.wipe();
        }
        return true;
    }
    return false;
}

}  // namespace convex_importd
