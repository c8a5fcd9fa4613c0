#include "convex_importd/reporter.hpp"

#include <unistd.h>

#include <algorithm>

#include "convex_importd/import_job.hpp"
#include "convex_importd/logging.hpp"
#include "convex_importd/systemd_notify.hpp"
#include "convex_importd/timestamp.hpp"

namespace convex_importd {

namespace {

// Often enough for a live terminal line and a prompt `file claimed`; the other outputs
// keep their own, longer intervals.
constexpr auto tick_interval = std::chrono::milliseconds(250);

std::string now_text() {
    return utc_timestamp(std::chrono::system_clock::now());
}

}  // namespace

// The job names its file only while it runs; the reporter knows it from the start.
import_progress activity_reporter::snapshot(const active_file& file) {
    import_progress progress = file.job->progress();
    progress.file = file.name;
    return progress;
}

activity_reporter::activity_reporter(boost::asio::any_io_executor executor,
                                     const reporting_options& options, reporter_mode mode)
    : timer_(std::move(executor)),
      options_(options),
      mode_(mode),
      live_line_(mode == reporter_mode::import && stderr_is_terminal()),
      started_(now_text()) {}

activity_reporter::~activity_reporter() {
    if (live_line_) {
        clear_terminal_line();
    }
}

void activity_reporter::start(std::string idle) {
    idle_ = std::move(idle);
    state_ = mode_ == reporter_mode::watch ? "watching" : "importing";
    running_ = true;
    update_status(clock::now(), true);
    schedule();
}

void activity_reporter::stop(const std::string& state) {
    state_ = state;
    running_ = false;
    timer_.cancel();
    if (mode_ == reporter_mode::watch) {
        systemd::notify_status(state);
    }
    update_status(clock::now(), true);
    report_dropped_log_lines();
    if (live_line_) {
        clear_terminal_line();
    }
}

void activity_reporter::file_started(const std::string& name, std::uintmax_t bytes,
                                     const import_job& job) {
    active_.push_back({name, bytes, &job, false, clock::now() + options_.progress_interval});
}

void activity_reporter::file_finished(const import_summary& summary, bool interrupted) {
    for (auto& file : active_) {
        if (file.name == summary.file && !file.announced) {
            announce(file, std::to_string(summary.records));
        }
    }
    forget(summary.file);

    ++(interrupted ? totals_.files_interrupted : totals_.files_finished);
    for (std::size_t i = 0; i < outcome_count; ++i) {
        totals_.counts[i] += summary.counts[i];
    }
    update_status(clock::now(), true);
}

void activity_reporter::file_failed(const std::string& name) {
    for (auto& file : active_) {
        if (file.name == name && !file.announced) {
            announce(file, "unknown");
        }
    }
    forget(name);
    ++totals_.files_failed;
    update_status(clock::now(), true);
}

void activity_reporter::forget(const std::string& name) {
    std::erase_if(active_, [&name](const active_file& file) { return file.name == name; });
    if (live_line_) {
        clear_terminal_line();
    }
}

void activity_reporter::schedule() {
    timer_.expires_after(tick_interval);
    timer_.async_wait([this](boost::system::error_code error) {
        if (!error && running_) {
            tick();
            schedule();
        }
    });
}

void activity_reporter::tick() {
    const auto now = clock::now();
    for (auto& file : active_) {
        if (!file.announced) {
            if (const auto total = file.job->progress().total) {
                announce(file, std::to_string(*total));
            }
        }
    }

    log_due_progress(now);
    update_status(now, false);
    draw_terminal_line();
    report_dropped_log_lines();
}

void activity_reporter::announce(active_file& file, const std::string& records) {
    auto& logger = mode_ == reporter_mode::watch ? log::watch() : log::import();
    const char* event = mode_ == reporter_mode::watch ? "file claimed" : "file started";
    logger.info("{} file={} bytes={} records={}", event, log_value(file.name), file.bytes, records);
    file.announced = true;
}

void activity_reporter::log_due_progress(clock::time_point now) {
    for (auto& file : active_) {
        if (now >= file.next_progress) {
            log::import().info("progress {}", progress_fields(snapshot(file)));
            file.next_progress = now + options_.progress_interval;
        }
    }
}

std::vector<import_progress> activity_reporter::snapshots() const {
    std::vector<import_progress> all;
    for (const auto& file : active_) {
        all.push_back(snapshot(file));
    }
    return all;
}

// STATUS= whenever its text changes; the status file every status_interval, or at once
// for a file that starts or ends.
void activity_reporter::update_status(clock::time_point now, bool now_or_never) {
    const auto progress = snapshots();
    const std::string text = progress.empty() ? idle_ : progress_status(progress.front());
    if (text != last_status_text_) {
        systemd::notify_status(text);
        last_status_text_ = text;
    }

    if (options_.status_file.empty() || (!now_or_never && now < next_status_file_)) {
        return;
    }
    next_status_file_ = now + options_.status_interval;
    const status_report report{progress.empty() || !running_ ? state_ : "importing",
                               started_,
                               now_text(),
                               static_cast<long>(::getpid()),
                               progress,
                               totals_};
    try {
        replace_file(options_.status_file, status_json(report));
    } catch (const std::exception& error) {
        log::main().warn("status file not written path={} reason={}",
                         log_value(options_.status_file.string()), log_value(error.what()));
    }
}

void activity_reporter::draw_terminal_line() {
    if (live_line_ && !active_.empty()) {
        show_terminal_line(progress_bar(snapshot(active_.front()), terminal_columns()));
    }
}

}  // namespace convex_importd
