#include "convex_importd/request_gate.hpp"

#include <doctest/doctest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

using namespace convex_importd;
using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {

// Acquirers that park their permits here, so that a test decides when each is released.
struct acquirers {
    explicit acquirers(request_gate& target) : gate(target) {}

    request_gate& gate;
    std::vector<send_permit> held;
    std::size_t refused = 0;

    void spawn(asio::io_context& io, int count) {
        for (int i = 0; i < count; ++i) {
            asio::co_spawn(io, acquire(), asio::detached);
        }
    }

    asio::awaitable<void> acquire() {
        if (const auto permit = co_await gate.acquire()) {
            held.push_back(*permit);
        } else {
            ++refused;
        }
    }

    void release_one(attempt_fault fault) {
        const send_permit permit = held.back();
        held.pop_back();
        gate.release(permit, fault);
    }
};

}  // namespace

TEST_CASE("no more requests are in flight than the limit") {
    asio::io_context io;
    request_gate gate(io.get_executor(), 4, pacing_options{});
    acquirers workers{gate};
    workers.spawn(io, 6);
    io.run_for(50ms);
    CHECK(workers.held.size() == 4);
    CHECK(gate.in_flight() == 4);

    workers.release_one(attempt_fault::none);
    io.run_for(50ms);
    CHECK(workers.held.size() == 4);  // a waiter took the slot
    CHECK(gate.in_flight() == 4);
}

TEST_CASE("a 429 cuts the limit and holds back waiters until the flight is below it") {
    asio::io_context io;
    request_gate gate(io.get_executor(), 8, pacing_options{});
    acquirers workers{gate};
    workers.spawn(io, 10);
    io.run_for(50ms);
    REQUIRE(workers.held.size() == 8);

    workers.release_one(attempt_fault::throttled);
    io.run_for(50ms);
    CHECK(gate.limit() == 7);
    CHECK(workers.held.size() == 7);  // nobody got the freed slot: 7 in flight, limit 7

    // A 429 to a request sent before the cut answers the same round: no second cut.
    workers.release_one(attempt_fault::throttled);
    io.run_for(50ms);
    CHECK(gate.limit() == 7);
    CHECK(gate.in_flight() == 7);  // a waiter took the slot freed below the limit

    workers.release_one(attempt_fault::none);
    io.run_for(50ms);
    CHECK(gate.limit() == 7);
    CHECK(gate.in_flight() == 7);
    CHECK(workers.held.size() == 7);
}

TEST_CASE("without adaptation a 429 changes nothing") {
    asio::io_context io;
    request_gate gate(io.get_executor(), 4, pacing_options{.adaptive = false});
    acquirers workers{gate};
    workers.spawn(io, 4);
    io.run_for(50ms);
    workers.release_one(attempt_fault::throttled);
    CHECK(gate.limit() == 4);
}

TEST_CASE("closing the gate wakes every waiter without a permit") {
    asio::io_context io;
    request_gate gate(io.get_executor(), 2, pacing_options{});
    acquirers workers{gate};
    workers.spawn(io, 5);
    io.run_for(50ms);
    gate.close();
    io.run_for(50ms);
    CHECK(workers.held.size() == 2);
    CHECK(workers.refused == 3);
}

TEST_CASE("with a rate, requests start no faster than the rate allows") {
    asio::io_context io;
    request_gate gate(io.get_executor(), 8, pacing_options{.rate = 20});  // burst of one
    std::vector<std::chrono::steady_clock::time_point> starts;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            for (int i = 0; i < 5; ++i) {
                const auto permit = co_await gate.acquire();
                starts.push_back(std::chrono::steady_clock::now());
                gate.release(*permit, attempt_fault::none);
            }
        },
        asio::detached);
    io.run_for(2s);
    REQUIRE(starts.size() == 5);
    const auto span = starts.back() - starts.front();
    CHECK(span >= 195ms);  // four gaps of 50 ms
    CHECK(span < 1s);
}

TEST_CASE("closing the gate also wakes a request waiting for a token") {
    asio::io_context io;
    request_gate gate(io.get_executor(), 8, pacing_options{.rate = 0.1});  // one per 10 s
    acquirers workers{gate};
    workers.spawn(io, 2);
    io.run_for(50ms);
    CHECK(workers.held.size() == 1);
    gate.close();
    io.run_for(50ms);
    CHECK(workers.refused == 1);
    CHECK(gate.in_flight() == 1);
}
