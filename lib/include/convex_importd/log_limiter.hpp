#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace convex_importd {

/// Lets at most `burst` lines of one event from one logger through per `window` and counts
/// the rest, so that a flood of the same error shows as a few lines and a dropped count.
/// Time is passed in. Not thread-safe: the logging sink calls it under its lock.
class repeat_limiter {
public:
    using clock = std::chrono::steady_clock;

    struct dropped_lines {
        std::string logger;
        std::string event;
        std::size_t count = 0;
    };

    repeat_limiter(std::size_t burst, clock::duration window);

    /// True when a line may be written now; false counts it as dropped.
    bool admit(std::string_view logger, std::string_view event, clock::time_point now);

    /// The events whose window has closed with lines held back; their counts start again.
    /// Call it before admit() so that no count is carried into the next window unreported.
    std::vector<dropped_lines> take_dropped(clock::time_point now);

    clock::duration window() const { return window_; }

private:
    struct entry {
        clock::time_point started;
        std::size_t admitted = 0;
        std::size_t dropped = 0;
    };

    std::size_t burst_;
    clock::duration window_;
    std::map<std::pair<std::string, std::string>, entry, std::less<>> entries_;
};

}  // namespace convex_importd
