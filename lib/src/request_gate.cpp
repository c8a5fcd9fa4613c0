#include "convex_importd/request_gate.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "convex_importd/logging.hpp"

namespace convex_importd {

namespace asio = boost::asio;

namespace {

constexpr auto with_error = asio::as_tuple(asio::use_awaitable);
constexpr auto report_interval = std::chrono::seconds(1);

std::string_view overload_reason(attempt_fault fault) {
    return fault == attempt_fault::throttled ? "429" : "503";
}

}  // namespace

request_gate::request_gate(asio::any_io_executor executor, std::size_t ceiling,
                           const pacing_options& options)
    : limit_(ceiling, options), doorbell_(executor, asio::steady_timer::time_point::max()) {
    if (options.rate > 0) {
        bucket_.emplace(options.rate, token_bucket::default_burst(options.rate), clock::now());
    }
}

asio::awaitable<std::optional<send_permit>> request_gate::acquire() {
    while (!closed_ && in_flight_ >= limit_.current()) {
        co_await doorbell_.async_wait(with_error);
    }
    if (closed_) {
        co_return std::nullopt;
    }
    ++in_flight_;
    const send_permit permit{limit_.epoch()};

    if (bucket_ && !co_await wait_for_token()) {
        --in_flight_;
        co_return std::nullopt;
    }
    co_return permit;
}

asio::awaitable<bool> request_gate::wait_for_token() {
    using namespace asio::experimental::awaitable_operators;

    const auto when = bucket_->reserve(clock::now());
    asio::steady_timer sleep(doorbell_.get_executor());
    while (!closed_ && clock::now() < when) {
        sleep.expires_at(when);
        co_await (sleep.async_wait(with_error) || doorbell_.async_wait(with_error));
    }
    co_return !closed_;
}

void request_gate::release(const send_permit& permit, attempt_fault fault) {
    --in_flight_;
    std::optional<limit_change> change;
    if (fault == attempt_fault::none) {
        change = limit_.on_success();
    } else if (signals_overload(fault)) {
        change = limit_.on_overload(permit.epoch, overload_reason(fault));
    }
    if (change) {
        report(*change);
    }
    ring();
}

void request_gate::close() {
    closed_ = true;
    ring();
}

void request_gate::ring() {
    doorbell_.cancel();
}

void request_gate::report(const limit_change& change) {
    const auto now = clock::now();
    if (now < next_report_) {
        ++unreported_;
        return;
    }
    next_report_ = now + report_interval;
    log::import().info("concurrency {} limit={} previous={} reason={} unlogged_changes={}",
                       change.current < change.previous ? "lowered" : "raised", change.current,
                       change.previous, change.reason, unreported_);
    unreported_ = 0;
}

}  // namespace convex_importd
