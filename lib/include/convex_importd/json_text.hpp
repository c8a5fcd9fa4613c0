#pragma once

#include <string>
#include <string_view>

namespace convex_importd {

/// Appends `value` as a JSON string, quotes included, for text of unknown origin (log
/// lines, file names). Control characters are escaped and bytes that are not valid UTF-8
/// become U+FFFD, so the output always parses. Request bodies, which must keep every byte,
/// use append_json_string() instead.
void append_json_text(std::string& out, std::string_view value);

/// True when `value` is a JSON number as written (an optional minus, digits, an optional
/// fraction), so that it can stand in a JSON document without quotes.
bool looks_like_json_number(std::string_view value);

}  // namespace convex_importd
