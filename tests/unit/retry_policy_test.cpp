#include "convex_importd/retry_policy.hpp"

#include <doctest/doctest.h>

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/http/error.hpp>

#include "convex_importd/client_error.hpp"

using namespace convex_importd;
using namespace std::chrono_literals;
using clock_type = retry_schedule::clock;

namespace {

// Jitter pinned to one value, so that a delay is exactly that fraction of its bound.
struct pinned_jitter {
    double value = 0.5;
    jitter_source source() {
        return [this] { return value; };
    }
};

const boost::system::error_code no_error;

}  // namespace

TEST_CASE("throttling, overload and server errors are transient; 4xx are permanent") {
    CHECK(classify_fault(no_error, 200) == attempt_fault::none);
    CHECK(classify_fault(no_error, 560) == attempt_fault::none);
    CHECK(classify_fault(no_error, 429) == attempt_fault::throttled);
    CHECK(classify_fault(no_error, 503) == attempt_fault::overloaded);
    for (const unsigned status : {500U, 502U, 504U}) {
        CHECK(classify_fault(no_error, status) == attempt_fault::server_error);
    }
    for (const unsigned status : {400U, 401U, 403U, 404U, 413U, 501U}) {
        CHECK(classify_fault(no_error, status) == attempt_fault::permanent);
    }
    CHECK(signals_overload(attempt_fault::throttled));
    CHECK(signals_overload(attempt_fault::overloaded));
    CHECK_FALSE(signals_overload(attempt_fault::server_error));
}

TEST_CASE("refused, reset, TLS failures and every phase timeout are transient") {
    namespace error = boost::asio::error;
    CHECK(classify_fault(error::connection_refused, 0) == attempt_fault::network);
    CHECK(classify_fault(error::connection_reset, 0) == attempt_fault::network);
    CHECK(classify_fault(error::eof, 0) == attempt_fault::network);
    CHECK(classify_fault(boost::beast::http::error::end_of_stream, 0) == attempt_fault::network);
    CHECK(classify_fault(boost::asio::ssl::error::stream_truncated, 0) == attempt_fault::network);
    CHECK(classify_fault(error::host_not_found_try_again, 0) == attempt_fault::network);
    for (const auto code :
         {client_error::resolve_timeout, client_error::connect_timeout, client_error::tls_timeout,
          client_error::write_timeout, client_error::read_timeout}) {
        CHECK(classify_fault(make_error_code(code), 0) == attempt_fault::timeout);
    }
    CHECK(classify_fault(error::host_not_found, 0) == attempt_fault::permanent);
    CHECK(classify_fault(boost::beast::http::error::body_limit, 0) == attempt_fault::permanent);
}

TEST_CASE("each phase timeout has its own code and message") {
    const auto read = make_error_code(client_error::read_timeout);
    const auto connect = make_error_code(client_error::connect_timeout);
    CHECK(read != connect);
    CHECK(read.message() == "no answer within the read timeout");
    CHECK(std::string(read.category().name()) == "convex_importd.client");
}

TEST_CASE("backoff bounds double from 250 ms and stop at 30 s, with full jitter") {
    const retry_options options;  // the defaults: 250 ms, 30 s, 10 attempts, 5 min
    pinned_jitter pin{0.999999};
    auto jitter = pin.source();
    const auto start = clock_type::now();
    retry_schedule schedule(options, start, jitter);

    std::vector<long long> delays;
    for (int i = 0; i < 9; ++i) {
        const auto step = schedule.after_failure(attempt_fault::throttled, std::nullopt, start);
        REQUIRE(step.retry);
        delays.push_back(step.delay.count());
    }
    // Just under each bound: 250, 500, 1000, ... 30000 (capped from 32000 and 64000).
    CHECK(delays == std::vector<long long>{249, 499, 999, 1999, 3999, 7999, 15999, 29999, 29999});
    CHECK(schedule.attempts() == 10);

    const auto last = schedule.after_failure(attempt_fault::throttled, std::nullopt, start);
    CHECK_FALSE(last.retry);
    CHECK(last.gave_up == "gave up after 10 attempts");
}

TEST_CASE("full jitter can draw a zero wait") {
    const retry_options options;
    pinned_jitter pin{0.0};
    auto jitter = pin.source();
    const auto start = clock_type::now();
    retry_schedule schedule(options, start, jitter);
    const auto step = schedule.after_failure(attempt_fault::network, std::nullopt, start);
    CHECK(step.retry);
    CHECK(step.delay == 0ms);
    CHECK(schedule.attempts() == 2);
}

TEST_CASE("a permanent fault or an answer is never retried") {
    const retry_options options;
    pinned_jitter pin;
    auto jitter = pin.source();
    const auto start = clock_type::now();
    retry_schedule schedule(options, start, jitter);
    CHECK_FALSE(schedule.after_failure(attempt_fault::permanent, std::nullopt, start).retry);
    CHECK_FALSE(schedule.after_failure(attempt_fault::none, std::nullopt, start).retry);
    CHECK(schedule.attempts() == 1);
}

TEST_CASE("Retry-After raises the wait but never shortens it") {
    const retry_options options;
    pinned_jitter pin{0.5};
    auto jitter = pin.source();
    const auto start = clock_type::now();
    retry_schedule schedule(options, start, jitter);

    CHECK(schedule.after_failure(attempt_fault::throttled, 7s, start).delay == 7000ms);
    // The second bound is 500 ms, half of it drawn: above a Retry-After of 100 ms.
    CHECK(schedule.after_failure(attempt_fault::throttled, 100ms, start).delay == 250ms);
}

TEST_CASE("a row gives up when the next wait would pass its deadline") {
    retry_options options;
    options.row_deadline = 10s;
    pinned_jitter pin{0.5};
    auto jitter = pin.source();
    const auto start = clock_type::now();
    retry_schedule schedule(options, start, jitter);

    CHECK(schedule.after_failure(attempt_fault::timeout, std::nullopt, start + 9s).retry);
    const auto step = schedule.after_failure(attempt_fault::timeout, std::nullopt, start + 9900ms);
    CHECK_FALSE(step.retry);
    CHECK(step.gave_up == "gave up at the row deadline after 2 attempts");
    CHECK_FALSE(schedule.after_failure(attempt_fault::throttled, 60s, start).retry);
}

TEST_CASE("Retry-After is read as seconds or as an HTTP date") {
    // Sun, 06 Nov 1994 08:49:37 GMT
    const auto now = std::chrono::system_clock::from_time_t(784111777);
    CHECK(parse_retry_after("120", now) == std::chrono::milliseconds(120'000));
    CHECK(parse_retry_after(" 0 ", now) == std::chrono::milliseconds(0));
    CHECK(parse_retry_after("Sun, 06 Nov 1994 08:50:07 GMT", now) == 30'000ms);
    CHECK(parse_retry_after("Sunday, 06-Nov-94 08:49:47 GMT", now) == 10'000ms);
    CHECK(parse_retry_after("Sun Nov  6 08:49:42 1994", now) == 5'000ms);
    CHECK(parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now) == 0ms);  // in the past
    CHECK_FALSE(parse_retry_after("soon", now));
    CHECK_FALSE(parse_retry_after("-5", now));
    CHECK_FALSE(parse_retry_after("", now));
    CHECK(parse_retry_after("99999999999999999999999", now) == std::chrono::hours(24));
}
