#include "convex_importd/log_limiter.hpp"

#include <doctest/doctest.h>

using namespace convex_importd;
using namespace std::chrono_literals;

TEST_CASE("repeats of one event beyond the burst are dropped and counted once per window") {
    repeat_limiter limiter(3, 10s);
    const auto start = repeat_limiter::clock::time_point{} + 1h;

    int admitted = 0;
    for (int i = 0; i < 50; ++i) {
        admitted += limiter.admit("http", "request failed", start + i * 10ms) ? 1 : 0;
    }
    CHECK(admitted == 3);
    CHECK(limiter.take_dropped(start + 9s).empty());

    const auto dropped = limiter.take_dropped(start + 10s);
    REQUIRE(dropped.size() == 1);
    CHECK(dropped[0].logger == "http");
    CHECK(dropped[0].event == "request failed");
    CHECK(dropped[0].count == 47);
    CHECK(limiter.take_dropped(start + 11s).empty());

    CHECK(limiter.admit("http", "request failed", start + 10s));
}

TEST_CASE("different events and loggers have their own budgets") {
    repeat_limiter limiter(1, 10s);
    const auto now = repeat_limiter::clock::time_point{} + 1h;

    CHECK(limiter.admit("http", "request failed", now));
    CHECK_FALSE(limiter.admit("http", "request failed", now));
    CHECK(limiter.admit("http", "connection lost", now));
    CHECK(limiter.admit("watch", "request failed", now));
}
