#include "deadline_watch.hpp"

#include <cstdint>

namespace convex_importd {

struct deadline_watch::state {
    explicit state(const boost::asio::any_io_executor& executor) : timer(executor) {}

    boost::asio::steady_timer timer;
    clock::time_point deadline = clock::time_point::max();  // max: nothing is watched
    client_error code = client_error::read_timeout;
    std::optional<client_error> expired;
    boost::asio::ip::tcp::socket* socket = nullptr;
    std::uint64_t generation = 0;  // of the latest wait; an older one was replaced
    bool sleeping = false;
};

deadline_watch::deadline_watch(const boost::asio::any_io_executor& executor)
    : state_(std::make_shared<state>(executor)) {}

deadline_watch::~deadline_watch() {
    state_->socket = nullptr;
    state_->timer.cancel();
}

void deadline_watch::arm(boost::asio::ip::tcp::socket& socket, std::chrono::milliseconds timeout,
                         client_error code) {
    state& watched = *state_;
    watched.socket = &socket;
    watched.code = code;
    watched.expired.reset();
    watched.deadline = clock::now() + timeout;

    // A later deadline waits for the sleeping timer to wake; only an earlier one, rare with
    // the phases' timeouts alike, needs the timer set again.
    if (!watched.sleeping || watched.deadline < watched.timer.expiry()) {
        sleep_until_deadline(state_);
    }
}

void deadline_watch::disarm() {
    state_->deadline = clock::time_point::max();
    state_->socket = nullptr;  // it may be closed and replaced before the next arm()
}

std::optional<client_error> deadline_watch::expired() const {
    return state_->expired;
}

void deadline_watch::sleep_until_deadline(const std::shared_ptr<state>& watched) {
    watched->sleeping = true;
    const std::uint64_t generation = ++watched->generation;
    watched->timer.expires_at(watched->deadline);  // a wait in progress ends as replaced
    watched->timer.async_wait([watched, generation](boost::system::error_code error) {
        if (generation != watched->generation) {
            return;
        }
        watched->sleeping = false;
        if (error || watched->socket == nullptr) {
            return;  // the watch is gone, or nothing is watched until the next arm()
        }
        if (clock::now() < watched->deadline) {
            sleep_until_deadline(watched);
            return;
        }
        // Shut down as well as cancelled: the operation in force may have completed with its
        // handler still queued, and the next one of the phase must not wait without a deadline.
        watched->expired = watched->code;
        watched->deadline = clock::time_point::max();
        boost::system::error_code ignored;
        watched->socket->shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
        watched->socket->cancel(ignored);
    });
}

}  // namespace convex_importd
