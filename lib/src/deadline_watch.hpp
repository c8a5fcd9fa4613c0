#pragma once

#include <chrono>
#include <memory>
#include <optional>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "convex_importd/client_error.hpp"

namespace convex_importd {

/// The deadline of a connection's current write or read, kept without a timer operation per
/// request. Starting and cancelling a timer for every write and every read cost more than a
/// fifth of the client's CPU per sign-up; here arming is a clock read and two stores. One
/// timer sleeps until the earliest deadline it knows of, and on waking either ends the
/// socket, when the deadline now in force has passed, or sleeps again until it. Ending means
/// shut down and cancelled: every later operation on it fails at once, so that a phase whose
/// deadline passed between two of its operations cannot wait on without one.
class deadline_watch {
public:
    using clock = std::chrono::steady_clock;

    explicit deadline_watch(const boost::asio::any_io_executor& executor);
    ~deadline_watch();
    deadline_watch(const deadline_watch&) = delete;
    deadline_watch& operator=(const deadline_watch&) = delete;

    /// From now on, `socket` is ended once `timeout` has passed, and expired() then says
    /// `code`.
    void arm(boost::asio::ip::tcp::socket& socket, std::chrono::milliseconds timeout,
             client_error code);

    /// No deadline until the next arm(): the socket may sit idle between requests.
    void disarm();

    /// The phase whose deadline passed and ended the socket, if one did since the last arm().
    std::optional<client_error> expired() const;

private:
    struct state;  // shared with the timer's handler, which may run after this is gone
    static void sleep_until_deadline(const std::shared_ptr<state>& watched);

    std::shared_ptr<state> state_;
};

}  // namespace convex_importd
