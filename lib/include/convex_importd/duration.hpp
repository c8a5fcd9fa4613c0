#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace convex_importd {

/// Parses a duration as an operator writes it: a number with a unit, `ms`, `s`, `m` or `h`
/// ("250ms", "1.5s", "2m"), or a bare number of seconds. Throws std::invalid_argument naming
/// the text when it is not one, or is negative.
std::chrono::milliseconds parse_duration(std::string_view text);

/// The shortest exact spelling that parse_duration() reads back: "250ms", "2s", "5m".
std::string format_duration(std::chrono::milliseconds value);

}  // namespace convex_importd
