#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include "convex_importd/status_file.hpp"
#include "convex_importd/summary.hpp"

namespace convex_importd {

class import_job;

struct reporting_options {
    std::chrono::milliseconds progress_interval{10'000};  // a progress line per active file
    std::filesystem::path status_file;                    // empty: none
    std::chrono::milliseconds status_interval{5'000};
};

/// `watch` announces claimed files and keeps the status file; `import` runs one file and,
/// on a terminal, draws a live progress line.
enum class reporter_mode { watch, import };

/// Tells operators what the service is doing: `file claimed` once a file's records are
/// counted, a progress line per active file every progress_interval, the status file every
/// status_interval, systemd's STATUS=, and a live line on a terminal. Reads `options` at
/// every tick, so a reload takes effect. Runs on the io_context's thread; not thread-safe.
class activity_reporter {
public:
    activity_reporter(boost::asio::any_io_executor executor, const reporting_options& options,
                      reporter_mode mode);
    ~activity_reporter();
    activity_reporter(const activity_reporter&) = delete;
    activity_reporter& operator=(const activity_reporter&) = delete;

    /// Starts the timers; `idle` is the STATUS= text while no file runs.
    void start(std::string idle);

    /// Writes the status file one last time with `state` and stops the timers.
    void stop(const std::string& state);

    /// `job` must stay alive until file_finished() or file_failed() for this file.
    void file_started(const std::string& name, std::uintmax_t bytes, const import_job& job);
    void file_finished(const import_summary& summary, bool interrupted);
    void file_failed(const std::string& name);

    const service_totals& totals() const { return totals_; }

private:
    using clock = std::chrono::steady_clock;

    struct active_file {
        std::string name;
        std::uintmax_t bytes = 0;
        const import_job* job = nullptr;
        bool announced = false;
        clock::time_point next_progress;
    };

    void schedule();
    void tick();
    void announce(active_file& file, const std::string& records);
    void log_due_progress(clock::time_point now);
    void update_status(clock::time_point now, bool now_or_never);
    void draw_terminal_line();
    void forget(const std::string& name);
    std::vector<import_progress> snapshots() const;
    static import_progress snapshot(const active_file& file);

    boost::asio::steady_timer timer_;
    const reporting_options& options_;
    reporter_mode mode_;
    bool live_line_;
    std::string idle_;
    std::string state_ = "watching";
    std::string started_;
    std::string last_status_text_;
    clock::time_point next_status_file_;
    std::vector<active_file> active_;
    service_totals totals_;
    bool running_ = false;
};

}  // namespace convex_importd
