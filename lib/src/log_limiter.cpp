#include "convex_importd/log_limiter.hpp"

namespace convex_importd {

repeat_limiter::repeat_limiter(std::size_t burst, clock::duration window)
    : burst_(burst), window_(window) {}

bool repeat_limiter::admit(std::string_view logger, std::string_view event, clock::time_point now) {
    auto [it, added] = entries_.try_emplace({std::string(logger), std::string(event)});
    entry& current = it->second;
    if (added || now - current.started >= window_) {
        current.started = now;
        current.admitted = 0;
    }

    if (current.admitted < burst_) {
        ++current.admitted;
        return true;
    }
    ++current.dropped;
    return false;
}

std::vector<repeat_limiter::dropped_lines> repeat_limiter::take_dropped(clock::time_point now) {
    std::vector<dropped_lines> closed;
    for (auto& [key, current] : entries_) {
        if (current.dropped > 0 && now - current.started >= window_) {
            closed.push_back({key.first, key.second, current.dropped});
            current.dropped = 0;
        }
    }
    return closed;
}

}  // namespace convex_importd
