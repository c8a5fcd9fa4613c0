#include "convex_importd/row_queue.hpp"

#include <algorithm>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace convex_importd {

namespace asio = boost::asio;

row_queue::row_queue(asio::any_io_executor executor, std::size_t capacity)
    : rows_(capacity),
      free_slots_(static_cast<std::ptrdiff_t>(capacity)),
      release_batch_(std::max<std::size_t>(1, capacity / 4)),
      doorbell_(std::move(executor), asio::steady_timer::time_point::max()) {}

void row_queue::free_slot() {
    if (++taken_ >= release_batch_) {
        release_taken();
    }
}

void row_queue::release_taken() {
    if (taken_ > 0) {
        free_slots_.release(static_cast<std::ptrdiff_t>(taken_));
        taken_ = 0;
    }
}

bool row_queue::push(user_row row) {
    free_slots_.acquire();
    if (cancelled_.load()) {
        free_slots_.release();
        return false;
    }
    rows_.enqueue(std::move(row));

    // Workers announce themselves before their last look at the queue, so either they see
    // this row or this check sees them.
    if (sleeping_workers_.load() > 0) {
        ring_doorbell();
    }
    return true;
}

void row_queue::close() {
    closed_.store(true);
    ring_doorbell();
}

void row_queue::cancel() {
    cancelled_.store(true);
    free_slots_.release();  // wakes a producer blocked on a full queue
}

void row_queue::ring_doorbell() {
    // One ring pending is enough: it wakes every worker asleep when it runs, and a row pushed
    // before it runs is seen by a worker that goes to sleep after it. Without this, a busy
    // event loop collects one queued handler per row.
    if (doorbell_pending_.exchange(true)) {
        return;
    }
    asio::post(doorbell_.get_executor(), [this] {
        doorbell_pending_.store(false);
        doorbell_.cancel();
    });
}

asio::awaitable<std::optional<user_row>> row_queue::pop() {
    user_row row;
    for (;;) {
        if (rows_.try_dequeue(row)) {
            free_slot();
            co_return std::optional<user_row>(std::move(row));
        }

        // The queue ran dry: the producer must not wait for a batch that will never fill.
        release_taken();
        sleeping_workers_.fetch_add(1);
        const bool closed = closed_.load();
        if (rows_.try_dequeue(row)) {
            sleeping_workers_.fetch_sub(1);
            free_slot();
            co_return std::optional<user_row>(std::move(row));
        }
        if (closed) {
            sleeping_workers_.fetch_sub(1);
            co_return std::nullopt;
        }

        co_await doorbell_.async_wait(asio::as_tuple(asio::use_awaitable));
        sleeping_workers_.fetch_sub(1);
    }
}

}  // namespace convex_importd
