#include "convex_importd/timestamp.hpp"

#include <doctest/doctest.h>

using namespace convex_importd;

TEST_CASE("timestamps are UTC with milliseconds") {
    const auto time =
        std::chrono::system_clock::time_point(std::chrono::milliseconds(1714564800123));
    CHECK(utc_timestamp(time) == "2024-05-01T12:00:00.123Z");
}
