#include "convex_importd/pacer.hpp"

#include <doctest/doctest.h>

using namespace convex_importd;
using namespace std::chrono_literals;

TEST_CASE("an overload halves the limit once per round of requests") {
    adaptive_limit limit(16, pacing_options{});
    CHECK(limit.current() == 16);
    const auto round = limit.epoch();

    const auto cut = limit.on_overload(round, "429");
    REQUIRE(cut);
    CHECK(cut->previous == 16);
    CHECK(cut->current == 8);
    CHECK(cut->reason == "429");

    // More 429s from requests sent before the cut answer the same round: no further cut.
    CHECK_FALSE(limit.on_overload(round, "429"));
    CHECK_FALSE(limit.on_overload(round, "503"));
    CHECK(limit.current() == 8);

    // A request sent after the cut that is refused again cuts again.
    const auto second = limit.on_overload(limit.epoch(), "503");
    REQUIRE(second);
    CHECK(second->current == 4);
}

TEST_CASE("the limit never falls below one") {
    adaptive_limit limit(3, pacing_options{});
    CHECK(limit.on_overload(limit.epoch(), "429")->current == 1);
    CHECK_FALSE(limit.on_overload(limit.epoch(), "429"));
    CHECK(limit.current() == 1);
}

TEST_CASE("a run of successes as long as the limit raises it by one, up to the ceiling") {
    adaptive_limit limit(6, pacing_options{});
    limit.on_overload(limit.epoch(), "429");
    REQUIRE(limit.current() == 3);

    CHECK_FALSE(limit.on_success());
    CHECK_FALSE(limit.on_success());
    const auto raised = limit.on_success();
    REQUIRE(raised);
    CHECK(raised->previous == 3);
    CHECK(raised->current == 4);
    CHECK(raised->reason == "successes");

    for (int i = 0; i < 100; ++i) {
        limit.on_success();
    }
    CHECK(limit.current() == 6);
}

TEST_CASE("an overload restarts the run of successes") {
    adaptive_limit limit(8, pacing_options{});
    limit.on_overload(limit.epoch(), "429");  // 4
    limit.on_success();
    limit.on_success();
    limit.on_success();
    limit.on_overload(limit.epoch(), "429");  // 2
    CHECK_FALSE(limit.on_success());
    CHECK(limit.on_success());
    CHECK(limit.current() == 3);
}

TEST_CASE("without adaptation the limit stays at the ceiling") {
    adaptive_limit limit(16, pacing_options{.adaptive = false});
    CHECK_FALSE(limit.on_overload(limit.epoch(), "429"));
    CHECK_FALSE(limit.on_success());
    CHECK(limit.current() == 16);
}

TEST_CASE("the token bucket spaces requests 1/rate apart after its burst") {
    const auto start = token_bucket::clock::now();
    token_bucket bucket(10, 2, start);  // 10 a second, burst of 2

    CHECK(bucket.reserve(start) == start);
    CHECK(bucket.reserve(start) == start);
    CHECK(bucket.reserve(start) == start + 100ms);
    CHECK(bucket.reserve(start) == start + 200ms);

    // Later, the bucket has refilled to its burst, never beyond.
    const auto later = start + 10s;
    CHECK(bucket.reserve(later) == later);
    CHECK(bucket.reserve(later) == later);
    CHECK(bucket.reserve(later) == later + 100ms);
}

TEST_CASE("1,000 reservations at 50 a second take 20 s less the burst") {
    const auto start = token_bucket::clock::now();
    const double rate = 50;
    token_bucket bucket(rate, token_bucket::default_burst(rate), start);
    CHECK(token_bucket::default_burst(rate) == doctest::Approx(2.5));

    token_bucket::clock::time_point last;
    for (int i = 0; i < 1000; ++i) {
        last = bucket.reserve(start);
    }
    const std::chrono::duration<double> span = last - start;
    CHECK(span.count() == doctest::Approx((1000 - 2.5) / rate).epsilon(0.001));
}

TEST_CASE("a slow rate still allows a burst of one") {
    CHECK(token_bucket::default_burst(0.5) == 1.0);
}
