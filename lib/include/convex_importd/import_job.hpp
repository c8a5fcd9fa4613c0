#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <stdexcept>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "convex_importd/file_layout.hpp"
#include "convex_importd/progress.hpp"
#include "convex_importd/summary.hpp"
#include "convex_importd/user_row.hpp"

namespace convex_importd {

class convex_endpoint;
class row_queue;

struct import_options {
    std::size_t concurrency = 16;
    std::size_t queue_capacity = 1024;
    layout_options layout;
    row_rules rules;
};

/// The file cannot be imported at all (unreadable, no usable header, broken quoting). No
/// sign-up was sent for it.
class file_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Imports one CSV file: a reader thread validates the whole file, then streams its rows
/// through a bounded queue to `concurrency` coroutine workers on `executor`, each with its
/// own keep-alive connection. Outcomes go to the results file in input order.
class import_job {
public:
    import_job(boost::asio::any_io_executor executor, const convex_endpoint& endpoint,
               import_options options);
    ~import_job();

    /// Runs the import. Throws file_error when the file cannot be imported,
    /// certificate_error when TLS refuses the deployment (before any sign-up), and
    /// std::system_error when the results cannot be written.
    boost::asio::awaitable<import_summary> run(std::filesystem::path input,
                                               std::filesystem::path results);

    /// Starts no further rows; requests in flight finish. Safe from the executor's thread.
    void stop();
    bool stopped() const { return stopped_.load(); }

    /// The running file's counters so far; empty when no file is running. Call it from the
    /// executor's thread, like the workers that count.
    import_progress progress() const;

private:
    struct run_state;

    boost::asio::awaitable<void> work(run_state& state);

    boost::asio::any_io_executor executor_;
    const convex_endpoint& endpoint_;
    import_options options_;
    std::atomic<bool> stopped_{false};
    run_state* active_ = nullptr;
    std::chrono::steady_clock::time_point started_;
};

}  // namespace convex_importd
