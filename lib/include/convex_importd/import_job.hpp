#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <random>
#include <stdexcept>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "convex_importd/file_layout.hpp"
#include "convex_importd/pacer.hpp"
#include "convex_importd/progress.hpp"
#include "convex_importd/results_writer.hpp"
#include "convex_importd/retry_policy.hpp"
#include "convex_importd/summary.hpp"
#include "convex_importd/user_row.hpp"

namespace convex_importd {

class convex_connection;
class convex_endpoint;
struct http_result;
class row_queue;
class state_store;

struct import_options {
    std::size_t concurrency = 16;  // ceiling of sign-ups in flight; one worker each
    std::size_t queue_capacity = 1024;
    layout_options layout;
    row_rules rules;
    pacing_options pacing;
    retry_options retry;
    bool use_ledger = true;                   // skip emails that ended created or exists before
    std::chrono::milliseconds grace{10'000};  // for requests in flight after stop()
};

/// The file cannot be imported at all (unreadable, no usable header, broken quoting). No
/// sign-up was sent for it.
class file_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Imports one CSV file: a reader thread validates the whole file, then streams its rows
/// through a bounded queue to `concurrency` coroutine workers on `executor`, each with its
/// own keep-alive connection. With a durable store, each row's outcome is committed before
/// its worker takes the next row, so that after a crash at most `concurrency` rows are sent
/// again; rows of the file that have an outcome in the store from an earlier run are not
/// sent at all. The results file is written from the store once every row has an outcome.
class import_job {
public:
    import_job(boost::asio::any_io_executor executor, const convex_endpoint& endpoint,
               state_store& store, import_options options);
    ~import_job();

    /// Runs the import. Throws file_error when the file cannot be imported,
    /// certificate_error when TLS refuses the deployment (before any sign-up), state_error
    /// when progress cannot be recorded, and std::system_error when the results cannot be
    /// written.
    boost::asio::awaitable<import_summary> run(std::filesystem::path input,
                                               std::filesystem::path results);

    /// After a complete run(): the file is where it belongs (done/, or left in place by
    /// `import`), so its rows can leave the state store. Until then a crash resumes it.
    void mark_done();

    /// Starts no further rows and no retries; requests in flight may finish for the grace
    /// period, then stop_now() ends them. Safe from the executor's thread.
    void stop();

    /// Ends the requests in flight at once. Rows without a recorded outcome stay without
    /// one, to be sent again when the file is resumed.
    void stop_now();

    bool stopped() const { return stopped_.load(); }

    /// The running file's counters so far; empty when no file is running. Call it from the
    /// executor's thread, like the workers that count.
    import_progress progress() const;

private:
    struct run_state;

    boost::asio::awaitable<void> work(run_state& state);
    boost::asio::awaitable<std::optional<row_result>> settle_row(run_state& state,
                                                                 convex_connection& connection,
                                                                 user_row& row);
    void note_reachability(run_state& state, const http_result& answer) const;
    boost::asio::awaitable<std::optional<row_result>> sign_up(run_state& state,
                                                              convex_connection& connection,
                                                              user_row& row);
    import_summary write_results(run_state& state, const std::filesystem::path& results);

    enum class commit_delay { now, window };
    boost::asio::awaitable<void> until_durable(run_state& state);
    void schedule_commit(run_state& state, commit_delay delay);
    void commit_now(run_state& state);

    boost::asio::any_io_executor executor_;
    const convex_endpoint& endpoint_;
    state_store& store_;
    import_options options_;
    std::mt19937_64 random_;
    jitter_source jitter_;
    std::atomic<bool> stopped_{false};
    bool stopped_now_ = false;
    run_state* active_ = nullptr;
    std::chrono::steady_clock::time_point started_;
    std::int64_t finished_file_ = 0;
};

}  // namespace convex_importd
