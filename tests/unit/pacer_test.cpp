#include "convex_importd/pacer.hpp"

#include <doctest/doctest.h>

using namespace convex_importd;
using namespace std::chrono_literals;

TEST_CASE("an overload cuts the limit by an eighth once per round of requests") {
    adaptive_limit limit(16, pacing_options{});
    CHECK(limit.current() == 16);
    const auto round = limit.epoch();

    const auto cut = limit.on_overload(round, "429");
    REQUIRE(cut);
    CHECK(cut->previous == 16);
    CHECK(cut->current == 14);
    CHECK(cut->reason == "429");

    // More 429s from requests sent before the cut answer the same round: no further cut.
    CHECK_FALSE(limit.on_overload(round, "429"));
    CHECK_FALSE(limit.on_overload(round, "503"));
    CHECK(limit.current() == 14);

    // A request sent after the cut that is refused again cuts again.
    const auto second = limit.on_overload(limit.epoch(), "503");
    REQUIRE(second);
    CHECK(second->current == 12);
}

TEST_CASE("the limit never falls below one") {
    adaptive_limit limit(3, pacing_options{});
    CHECK(limit.on_overload(limit.epoch(), "429")->current == 2);
    CHECK(limit.on_overload(limit.epoch(), "429")->current == 1);
    CHECK_FALSE(limit.on_overload(limit.epoch(), "429"));
    CHECK(limit.current() == 1);
}

namespace {

// Feeds successes until the limit changes; returns how many it took.
std::size_t successes_until_raised(adaptive_limit& limit) {
    for (std::size_t count = 1; count < 10'000; ++count) {
        if (limit.on_success()) {
            return count;
        }
    }
    return 0;
}

}  // namespace

TEST_CASE("a run of successes as long as the limit raises it by one, up to the ceiling") {
    adaptive_limit limit(40, pacing_options{});
    limit.on_overload(limit.epoch(), "429");
    REQUIRE(limit.current() == 35);

    CHECK(successes_until_raised(limit) == 35);
    CHECK(limit.current() == 36);
    CHECK(successes_until_raised(limit) == 36);
    CHECK(limit.current() == 37);

    for (int i = 0; i < 10'000; ++i) {
        limit.on_success();
    }
    CHECK(limit.current() == 40);
}

TEST_CASE("the step back onto the refused level waits several rounds") {
    adaptive_limit limit(16, pacing_options{});
    limit.on_overload(limit.epoch(), "429");  // 16 refused: 14
    limit.on_overload(limit.epoch(), "429");  // 14 refused: 12
    REQUIRE(limit.current() == 12);

    CHECK(successes_until_raised(limit) == 12);
    CHECK(limit.current() == 13);
    CHECK(successes_until_raised(limit) == 13 * adaptive_limit::probe_rounds);
    CHECK(limit.current() == 14);

    // Above the refused level it keeps probing slowly: the deployment's limit was near.
    CHECK(successes_until_raised(limit) == 14 * adaptive_limit::probe_rounds);
    CHECK(limit.current() == 15);

    // A refusal at 15 makes 15 the level; below it, one round per step again.
    limit.on_overload(limit.epoch(), "429");  // 15 refused: 13
    REQUIRE(limit.current() == 13);
    CHECK(successes_until_raised(limit) == 13);
}

TEST_CASE("an overload restarts the run of successes") {
    adaptive_limit limit(16, pacing_options{});
    limit.on_overload(limit.epoch(), "429");  // 14
    limit.on_success();
    limit.on_success();
    limit.on_success();
    limit.on_overload(limit.epoch(), "429");  // 12
    CHECK(successes_until_raised(limit) == 12);
    CHECK(limit.current() == 13);
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
