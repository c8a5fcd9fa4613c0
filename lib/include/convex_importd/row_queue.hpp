#pragma once

#include <atomic>
#include <cstddef>
#include <optional>
#include <semaphore>

#include <concurrentqueue/concurrentqueue.h>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "convex_importd/user_row.hpp"

namespace convex_importd {

/// Hands rows from the reader thread to the coroutine workers.
///
/// Full-queue policy: the producer blocks until workers have taken a quarter of the rows
/// (waking it for every row cost two context switches per row), so memory stays at
/// `capacity` rows however large the file. Empty-queue policy: a worker suspends (without
/// blocking its io_context) until the producer pushes or closes the queue.
/// push() and close() are for one producer thread; pop() is for coroutines on `executor`.
class row_queue {
public:
    row_queue(boost::asio::any_io_executor executor, std::size_t capacity);

    /// Blocks while the queue is full. Returns false once the queue was cancelled.
    bool push(user_row row);

    /// No more rows will come; workers drain what is queued and then see the end.
    void close();

    /// Stops the producer at its next push; rows already queued are still handed out.
    void cancel();
    bool cancelled() const { return cancelled_.load(); }

    /// The next row, or nothing once the queue is closed and empty.
    boost::asio::awaitable<std::optional<user_row>> pop();

private:
    void ring_doorbell();
    void free_slot();
    void release_taken();

    moodycamel::ConcurrentQueue<user_row> rows_;
    std::counting_semaphore<> free_slots_;
    std::size_t release_batch_;
    std::size_t taken_ = 0;  // rows popped whose slots are not released yet; workers only
    boost::asio::steady_timer doorbell_;
    std::atomic<int> sleeping_workers_{0};
    std::atomic<bool> doorbell_pending_{false};
    std::atomic<bool> closed_{false};
    std::atomic<bool> cancelled_{false};
};

}  // namespace convex_importd
