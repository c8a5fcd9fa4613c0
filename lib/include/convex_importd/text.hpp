#pragma once

#include <string_view>

namespace convex_importd {

/// Spaces and tabs: what spreadsheets leave around cell values.
inline bool is_blank(char c) {
    return c == ' ' || c == '\t';
}

/// `text` without leading and trailing spaces and tabs. By hand rather than with
/// find_first_not_of, which calls memchr once per byte it looks at.
inline std::string_view trim_blanks(std::string_view text) {
    while (!text.empty() && is_blank(text.front())) {
        text.remove_prefix(1);
    }
    while (!text.empty() && is_blank(text.back())) {
        text.remove_suffix(1);
    }
    return text;
}

}  // namespace convex_importd
