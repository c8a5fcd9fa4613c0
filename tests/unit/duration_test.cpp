#include "convex_importd/duration.hpp"

#include <doctest/doctest.h>

#include <stdexcept>

using namespace convex_importd;
using namespace std::chrono_literals;

TEST_CASE("durations are read with a unit, or as seconds") {
    CHECK(parse_duration("250ms") == 250ms);
    CHECK(parse_duration("2s") == 2000ms);
    CHECK(parse_duration("1.5s") == 1500ms);
    CHECK(parse_duration("5m") == 300'000ms);
    CHECK(parse_duration("1h") == 3'600'000ms);
    CHECK(parse_duration("10") == 10'000ms);
    CHECK(parse_duration("0") == 0ms);
}

TEST_CASE("anything else is refused with the text it was given") {
    for (const char* bad : {"", "ms", "-1s", "2 s", "2d", "fast", "1e400"}) {
        CHECK_THROWS_AS(parse_duration(bad), std::invalid_argument);
    }
    CHECK_THROWS_WITH(parse_duration("fast"),
                      "fast is not a duration; expected e.g. 250ms, 2s, 5m or 1h");
}

TEST_CASE("formatted durations read back the same") {
    for (const auto value : {250ms, 2000ms, 300'000ms, 3'600'000ms, 1500ms, 0ms}) {
        CHECK(parse_duration(format_duration(value)) == value);
    }
    CHECK(format_duration(30'000ms) == "30s");
    CHECK(format_duration(1500ms) == "1500ms");
}
