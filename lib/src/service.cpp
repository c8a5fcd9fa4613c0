#include "convex_importd/service.hpp"

#include <csignal>
#include <cstdio>
#include <optional>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "convex_importd/logging.hpp"
#include "convex_importd/spool.hpp"
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

/// The watch loop: resumes what an earlier run left in processing/, then imports each file
/// that arrives in inbox/, one at a time, until stop() is called.
class spool_service {
public:
    spool_service(asio::io_context& io, const fs::path& root, const service_options& options,
                  activity_reporter& reporter)
        : io_(io),
          options_(options),
          reporter_(reporter),
          spool_(root),
          watcher_(io.get_executor(), spool_.inbox()),
          endpoint_(options.url, options.client) {}

    asio::awaitable<void> run() {
        for (const auto& file : spool_.unfinished_files()) {
            log::watch().info("file resumed file={}", log_value(file.filename().string()));
            co_await import_claimed(file);
        }
        while (!stopping_) {
            for (const auto& file : spool_.waiting_files()) {
                if (stopping_) {
                    break;
                }
                if (const auto claimed = spool_.claim(file)) {
                    co_await import_claimed(*claimed);
                }
            }
            if (!stopping_) {
                co_await watcher_.wait(options_.rescan_interval);
            }
        }
    }

    void stop() {
        stopping_ = true;
        watcher_.cancel();
        if (job_) {
            job_->stop();
        }
    }

private:
    asio::awaitable<void> import_claimed(const fs::path& claimed) {
        const std::string name = claimed.filename().string();
        job_.emplace(io_.get_executor(), endpoint_, options_.import);
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
                file_away(claimed);
                log::import().info("file finished {}", summary.fields());
            }
        } catch (const file_error& error) {
            failure = error.what();
        }
        job_.reset();

        if (failure) {
            reporter_.file_failed(name);
            spool_.fail(claimed, *failure);
            log::watch().error("file failed file={} reason={}", log_value(name),
                               log_value(*failure));
        }
    }

    void file_away(const fs::path& claimed) {
        if (options_.keep_processed) {
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
    std::optional<import_job> job_;
    bool stopping_ = false;
};

template <class Stoppable>
void stop_on_signals(asio::signal_set& signals, Stoppable& target) {
    signals.async_wait([&signals, &target](boost::system::error_code error, int number) {
        if (error) {
            return;
        }
        log::main().info("stopping signal={}", number == SIGTERM ? "SIGTERM" : "SIGINT");
        systemd::notify_stopping();
        target.stop();
        stop_on_signals(signals, target);
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

}  // namespace

int run_import_command(const fs::path& file, const fs::path& results,
                       const service_options& options) {
    asio::io_context io(1);
    const convex_endpoint endpoint(options.url, options.client);
    import_job job(io.get_executor(), endpoint, options.import);
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
            } catch (const file_error& error) {
                failure = error.what();
            } catch (const certificate_error& error) {
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
    log::import().info("file finished {}", summary->fields());
    if (!job.stopped() && !options.keep_processed) {
        delete_finished_input(file);
    }
    std::printf("%s results=%s\n", summary->fields().c_str(),
                log_value(results.string()).c_str());
    return job.stopped() ? exit_incomplete : exit_ok;
}

int run_watch_command(const fs::path& spool_root, const service_options& options,
                      const reload_hook& reload) {
    asio::io_context io(1);
    service_options live = options;
    activity_reporter reporter(io.get_executor(), live.reporting, reporter_mode::watch);
    spool_service service(io, spool_root, live, reporter);
    systemd::watchdog_pinger watchdog(io.get_executor());
    asio::signal_set signals(io, SIGINT, SIGTERM);
    stop_on_signals(signals, service);
    asio::signal_set hangups(io, SIGHUP);
    reload_on_hangup(hangups, live, reload);

    log::main().info("watching spool={} url={} concurrency={}", log_value(spool_root.string()),
                     log_value(options.url.text()), options.import.concurrency);
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
