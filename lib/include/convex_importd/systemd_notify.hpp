#pragma once

#include <chrono>
#include <optional>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

namespace convex_importd::systemd {

/// Messages to the service manager (sd_notify). Each does nothing when the process was not
/// started by systemd with Type=notify, so the same code runs under a shell.
void notify_ready();
void notify_reloading();
void notify_stopping();
void notify_status(std::string_view text);

/// WatchdogSec= as passed to this process, or nothing when the watchdog is off.
std::optional<std::chrono::microseconds> watchdog_interval();

/// Sends WATCHDOG=1 from the io_context every half watchdog interval. The pings come from
/// the event loop on purpose: when the loop stalls, they stop and systemd restarts us.
class watchdog_pinger {
public:
    explicit watchdog_pinger(boost::asio::any_io_executor executor);

    /// Starts pinging when systemd asked for a watchdog; returns whether it did.
    bool start();
    void stop();

private:
    void schedule();

    boost::asio::steady_timer timer_;
    std::chrono::microseconds period_{0};
};

}  // namespace convex_importd::systemd
