#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "convex_importd/pacer.hpp"
#include "convex_importd/retry_policy.hpp"

namespace convex_importd {

/// Leave to send one request, from request_gate::acquire(). Give it back with release().
struct send_permit {
    std::uint64_t epoch = 0;
};

/// Where workers wait before each request: at most the adaptive limit of requests are in
/// flight, and with a rate set they start no faster than the token bucket allows. The thin
/// asynchronous driver of adaptive_limit and token_bucket; limit changes are logged here.
/// Not thread-safe: every call on the executor's thread.
class request_gate {
public:
    request_gate(boost::asio::any_io_executor executor, std::size_t ceiling,
                 const pacing_options& options);

    /// Waits for a slot under the limit, then for a token. Nothing once close() was called.
    boost::asio::awaitable<std::optional<send_permit>> acquire();

    /// Gives the slot back, with what the answer said about the deployment's load.
    void release(const send_permit& permit, attempt_fault fault);

    /// Wakes every waiter; acquire() gives nothing from now on.
    void close();

    std::size_t limit() const { return limit_.current(); }
    std::size_t in_flight() const { return in_flight_; }

private:
    using clock = std::chrono::steady_clock;

    boost::asio::awaitable<bool> wait_for_token();
    void report(const limit_change& change);
    void ring();

    adaptive_limit limit_;
    std::optional<token_bucket> bucket_;
    boost::asio::steady_timer doorbell_;
    std::size_t in_flight_ = 0;
    bool closed_ = false;

    // At most one limit line a second; the next one says how many changes went unlogged.
    clock::time_point next_report_{};
    std::size_t unreported_ = 0;
};

}  // namespace convex_importd
