#include "convex_importd/systemd_notify.hpp"

#include <systemd/sd-daemon.h>

#include <string>

namespace convex_importd::systemd {

namespace {

void send(const std::string& state) {
    // 0: keep NOTIFY_SOCKET set, the daemon sends STATUS= for as long as it runs.
    ::sd_notify(0, state.c_str());
}

}  // namespace

void notify_ready() {
    send("READY=1");
}

void notify_reloading() {
    send("RELOADING=1");
}

void notify_stopping() {
    send("STOPPING=1");
}

void notify_status(std::string_view text) {
    send("STATUS=" + std::string(text));
}

std::optional<std::chrono::microseconds> watchdog_interval() {
    std::uint64_t usec = 0;
    if (::sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) {
        return std::nullopt;
    }
    return std::chrono::microseconds(usec);
}

watchdog_pinger::watchdog_pinger(boost::asio::any_io_executor executor)
    : timer_(std::move(executor)) {}

bool watchdog_pinger::start() {
    const auto interval = watchdog_interval();
    if (!interval) {
        return false;
    }
    period_ = *interval / 2;
    send("WATCHDOG=1");
    schedule();
    return true;
}

void watchdog_pinger::stop() {
    timer_.cancel();
}

void watchdog_pinger::schedule() {
    timer_.expires_after(period_);
    timer_.async_wait([this](boost::system::error_code error) {
        if (error) {
            return;
        }
        send("WATCHDOG=1");
        schedule();
    });
}

}  // namespace convex_importd::systemd
