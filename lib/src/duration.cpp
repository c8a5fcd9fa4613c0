#include "convex_importd/duration.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <stdexcept>
#include <utility>

namespace convex_importd {

namespace {

struct unit {
    std::string_view suffix;
    double milliseconds;
};

// Longest suffix first, so that "ms" is not read as "s".
constexpr std::array units{unit{"ms", 1}, unit{"h", 3'600'000}, unit{"m", 60'000},
                           unit{"s", 1'000}};

std::invalid_argument bad_duration(std::string_view text) {
    std::string message(text);
    message.append(" is not a duration; expected e.g. 250ms, 2s, 5m or 1h");
    return std::invalid_argument(message);
}

}  // namespace

std::chrono::milliseconds parse_duration(std::string_view text) {
    std::string_view number = text;
    double scale = 1'000;  // a bare number is seconds
    for (const auto& [suffix, milliseconds] : units) {
        if (number.ends_with(suffix)) {
            number.remove_suffix(suffix.size());
            scale = milliseconds;
            break;
        }
    }

    double value = 0;
    const auto [end, error] = std::from_chars(number.data(), number.data() + number.size(), value);
    if (number.empty() || error != std::errc{} || end != number.data() + number.size() ||
        !std::isfinite(value) || value < 0) {
        throw bad_duration(text);
    }
    return std::chrono::milliseconds(std::llround(value * scale));
}

std::string format_duration(std::chrono::milliseconds value) {
    const auto count = value.count();
    for (const auto& [suffix, milliseconds] :
         {std::pair{"h", 3'600'000LL}, {"m", 60'000LL}, {"s", 1'000LL}}) {
        if (count != 0 && count % milliseconds == 0) {
            return std::to_string(count / milliseconds) + suffix;
        }
    }
    return std::to_string(count) + "ms";
}

}  // namespace convex_importd
