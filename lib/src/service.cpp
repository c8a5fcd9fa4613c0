#include "convex_importd/service.hpp"

#include <csignal>
#include <cstdio>
#include <optional>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "convex_importd/duration.hpp"
#include "convex_importd/logging.hpp"
#include "convex_importd/settle_tracker.hpp"
#include "convex_importd/spool.hpp"
#include "convex_importd/state_store.hpp"
#include "convex_importd/systemd_notify.hpp"
#include "convex_importd/watcher.hpp"

namespace convex_importd {

namespace asio = boost::asio;
namespace fs = std::filesystem;

namespace {

std::uintmax_t size_or_zero(const fs::path& path) {
    std::error_code error;
    const auto size = fs::file_size(path, error);
    return error ? 0 : size;
}

void rethrow_unexpected(std::exception_ptr error) {
    if (error) {
        std::rethrow_exception(error);
    }
}

bool keep_for_retry(const import_summary& summary) {
    const std::size_t failed = summary.of(outcome::failed);
    if (failed > 0) {
        log::import().warn(
            "input kept file={} failed={} reason=\"rows failed; import the file "
            "again once the deployment answers\"",
            log_value(summary.file), failed);
    }
    return failed > 0;
}

// State keys are absolute paths, so the spool root must not depend on the working folder.
fs::path canonical_root(const fs::path& root) {
    fs::create_directories(root);
    return fs::canonical(root);
}

/// The watch loop: resumes what an earlier run left in processing/, then imports each file
/// that settles in inbox/, one at a time, until stop() is called.
class spool_service {
public:
    spool_service(asio::io_context& io, const fs::path& root, const service_options& options,
                  state_store& store, activity_reporter& reporter)
        : io_(io),
          options_(options),
          reporter_(reporter),
          spool_(canonical_root(root)),
          watcher_(io.get_executor(), spool_.inbox()),
          endpoint_(options.url, options.client),
          store_(store),
          settler_(options.settle) {}

    asio::awaitable<void> run() {
        co_await resume_unfinished();
        while (!stopping_) {
            const auto ready = settler_.observe(spool_.observe_inbox(), clock::now());
            if (!ready.empty()) {
                co_await claim_and_import(ready.front());
                continue;  // scan again: files may have changed during that import
            }

            auto wait = options_.rescan_interval;
            if (const auto due = settler_.next_due(clock::now())) {
                wait = std::min(wait, *due);
            }
            co_await watcher_.wait(wait);
        }
    }

    void stop() {
        stopping_ = true;
        watcher_.cancel();
        if (job_) {
            job_->stop();
        }
    }

    void stop_now() {
        stop();
        if (job_) {
            job_->stop_now();
        }
    }

private:
    using clock = settle_tracker::clock;

    asio::awaitable<void> resume_unfinished() {
        const auto unfinished = spool_.unfinished_files();
        std::vector<std::string> keys;
        for (const auto& file : unfinished) {
            keys.push_back(file.string());
        }
        const std::size_t stale =
            store_.forget_unfinished(spool_.processing().string() + "/", keys);
        if (stale > 0) {
            log::state().info("stale progress dropped files={}", stale);
        }

        for (const auto& file : unfinished) {
            if (stopping_) {
                break;
            }
            log::watch().info("file resumed file={}", log_value(file.filename().string()));
            co_await import_claimed(file);
        }
    }

    asio::awaitable<void> claim_and_import(const fs::path& waiting) {
        if (stopping_) {
            co_return;
        }
        if (const auto claimed = spool_.claim(waiting)) {
            co_await import_claimed(*claimed);  // the reporter logs the claim once it is counted
        }
    }

    asio::awaitable<void> import_claimed(const fs::path& claimed) {
        const std::string name = claimed.filename().string();
        job_.emplace(io_.get_executor(), endpoint_, store_, options_.import);
        if (stopping_) {
            job_->stop();
        }
        reporter_.file_started(name, size_or_zero(claimed), *job_);
        std::optional<std::string> failure;
        try {
            const import_summary summary =
                co_await job_->run(claimed, spool_.results_path(claimed));
            reporter_.file_finished(summary, job_->stopped());
            if (job_->stopped()) {
                log::watch().info("file interrupted file={} done={} left_in=processing",
                                  log_value(name), summary.rows());
            } else {
                // Filed away first, marked done second: a crash in between resumes the file
                // from processing/ and writes the same results again, instead of importing
                // it anew.
                file_away(claimed, summary);
                job_->mark_done();
                log::import().info("file finished {}", summary.fields());
            }
        } catch (const file_error& error) {
            failure = error.what();
        } catch (const std::system_error& error) {
            failure = error.what();  // the results could not be written: this file fails
        }
        job_.reset();

        if (failure) {
            reporter_.file_failed(name);
            spool_.fail(claimed, *failure);
            log::watch().error("file failed file={} reason={}", log_value(name),
                               log_value(*failure));
        }
    }

    // Input files hold plaintext passwords: deleted once done, unless asked to keep them or
    // some rows failed (the file is then the only copy of the passwords to send again).
    void file_away(const fs::path& claimed, const import_summary& summary) {
        if (options_.keep_processed || keep_for_retry(summary)) {
            spool_.finish(claimed);
        } else {
            spool_.discard(claimed);
        }
    }

    asio::io_context& io_;
    const service_options& options_;
    activity_reporter& reporter_;
    spool spool_;
    inbox_watcher watcher_;
    convex_endpoint endpoint_;
    state_store& store_;
    settle_tracker settler_;
    std::optional<import_job> job_;
    bool stopping_ = false;
};

// The first signal stops gently (requests in flight get the grace period); the second stops
// at once. Either way every recorded outcome stays recorded.
template <class Stoppable>
void stop_on_signals(asio::signal_set& signals, Stoppable& target, int received = 0) {
    signals.async_wait([&signals, &target, received](boost::system::error_code error, int number) {
        if (error) {
            return;
        }
        const char* name = number == SIGTERM ? "SIGTERM" : "SIGINT";
        if (received == 0) {
            log::main().info("stopping signal={}", name);
            systemd::notify_stopping();
            target.stop();
        } else {
            log::main().info("stopping now signal={}", name);
            target.stop_now();
        }
        stop_on_signals(signals, target, received + 1);
    });
}

// SIGHUP: a new log file after rotation, then the configuration again. A configuration that
// cannot be used leaves the running one in place.
void reload_on_hangup(asio::signal_set& hangups, service_options& live, const reload_hook& reload) {
    hangups.async_wait([&hangups, &live, &reload](boost::system::error_code error, int) {
        if (error) {
            return;
        }
        systemd::notify_reloading();
        reopen_log_file();
        try {
            if (reload) {
                reload(live);
            }
        } catch (const std::exception& failure) {
            log::main().error("config reload failed reason={} kept=running_config",
                              log_value(failure.what()));
        }
        systemd::notify_ready();
        reload_on_hangup(hangups, live, reload);
    });
}

void delete_finished_input(const fs::path& file) {
    std::error_code error;
    fs::remove(file, error);
    if (error) {
        log::import().warn("input not deleted file={} reason={}",
                           log_value(file.filename().string()), log_value(error.message()));
    }
}

std::unique_ptr<state_store> open_store(const fs::path& dir) {
    if (dir.empty()) {
        return state_store::temporary();
    }
    auto store = state_store::open(dir);
    log::state().info("state opened dir={}", log_value(dir.string()));
    return store;
}

}  // namespace

int run_import_command(const fs::path& file, const fs::path& results,
                       const service_options& options) {
    asio::io_context io(1);
    const convex_endpoint endpoint(options.url, options.client);
    const auto store = open_store(options.state_dir);
    import_job job(io.get_executor(), endpoint, *store, options.import);
    activity_reporter reporter(io.get_executor(), options.reporting, reporter_mode::import);
    asio::signal_set signals(io, SIGINT, SIGTERM);
    stop_on_signals(signals, job);

    std::optional<import_summary> summary;
    std::optional<std::string> failure;
    const std::string name = file.filename().string();
    reporter.file_started(name, size_or_zero(file), job);
    reporter.start("importing " + name);
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            try {
                summary = co_await job.run(file, results);
                reporter.file_finished(*summary, job.stopped());
                if (!job.stopped()) {
                    job.mark_done();
                }
            } catch (const file_error& error) {
                failure = error.what();
            } catch (const certificate_error& error) {
                failure = error.what();
            } catch (const state_error& error) {
                failure = error.what();
            }
            if (failure) {
                reporter.file_failed(name);
            }
            reporter.stop(failure ? "failed" : job.stopped() ? "interrupted" : "finished");
            signals.cancel();
        },
        rethrow_unexpected);
    io.run();

    if (failure) {
        log::import().error("file failed file={} reason={}", log_value(name), log_value(*failure));
        return exit_incomplete;
    }
    if (job.stopped()) {
        log::import().info("file interrupted file={} done={}", log_value(name), summary->rows());
        return exit_incomplete;
    }
    log::import().info("file finished {}", summary->fields());
    if (!options.keep_processed && !keep_for_retry(*summary)) {
        delete_finished_input(file);
    }
    std::printf("%s results=%s\n", summary->fields().c_str(), log_value(results.string()).c_str());
    return exit_ok;
}

int run_watch_command(const fs::path& spool_root, const service_options& options,
                      const reload_hook& reload) {
    asio::io_context io(1);
    service_options live = options;
    const fs::path state_dir = live.state_dir.empty() ? spool_root / "state" : live.state_dir;
    const auto store = open_store(state_dir);
    activity_reporter reporter(io.get_executor(), live.reporting, reporter_mode::watch);
    spool_service service(io, spool_root, live, *store, reporter);
    systemd::watchdog_pinger watchdog(io.get_executor());
    asio::signal_set signals(io, SIGINT, SIGTERM);
    stop_on_signals(signals, service);
    asio::signal_set hangups(io, SIGHUP);
    reload_on_hangup(hangups, live, reload);

    log::main().info("watching spool={} url={} concurrency={} settle={} grace={}",
                     log_value(spool_root.string()), log_value(live.url.text()),
                     live.import.concurrency, format_duration(live.settle),
                     format_duration(live.import.grace));
    reporter.start("watching " + (spool_root / "inbox").string());
    watchdog.start();
    systemd::notify_ready();

    int status = exit_ok;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            try {
                co_await service.run();
            } catch (const certificate_error& error) {
                log::main().error("stopping reason={}", log_value(error.what()));
                systemd::notify_stopping();
                status = exit_incomplete;
            } catch (const state_error& error) {
                log::state().error("stopping: progress cannot be recorded reason={}",
                                   log_value(error.what()));
                systemd::notify_stopping();
                status = exit_incomplete;
            }
            signals.cancel();
            hangups.cancel();
            watchdog.stop();
            reporter.stop("stopped");
        },
        rethrow_unexpected);
    io.run();
    log::main().info("stopped");
    return status;
}

}  // namespace convex_importd
