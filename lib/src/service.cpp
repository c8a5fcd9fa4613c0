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
                  state_store& store)
        : io_(io),
          options_(options),
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
            log::watch().info("file claimed file={} bytes={}",
                              log_value(claimed->filename().string()), size_or_zero(*claimed));
            co_await import_claimed(*claimed);
        }
    }

    asio::awaitable<void> import_claimed(const fs::path& claimed) {
        const std::string name = claimed.filename().string();
        job_.emplace(io_.get_executor(), endpoint_, store_, options_.import);
        if (stopping_) {
            job_->stop();
        }
        std::optional<std::string> failure;
        try {
            const import_summary summary =
                co_await job_->run(claimed, spool_.results_path(claimed));
            if (job_->stopped()) {
                log::watch().info("file interrupted file={} done={} left_in=processing",
                                  log_value(name), summary.rows());
            } else {
                // Moved first, marked done second: a crash in between resumes the file from
                // processing/ and writes the same results again, instead of importing it anew.
                spool_.finish(claimed);
                job_->mark_done();
                log::import().info("file finished {}", summary.fields());
            }
        } catch (const file_error& error) {
            failure = error.what();
        }
        job_.reset();

        if (failure) {
            spool_.fail(claimed, *failure);
            log::watch().error("file failed file={} reason={}", log_value(name),
                               log_value(*failure));
        }
    }

    asio::io_context& io_;
    const service_options& options_;
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
            target.stop();
        } else {
            log::main().info("stopping now signal={}", name);
            target.stop_now();
        }
        stop_on_signals(signals, target, received + 1);
    });
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
    asio::signal_set signals(io, SIGINT, SIGTERM);
    stop_on_signals(signals, job);

    std::optional<import_summary> summary;
    std::optional<std::string> failure;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            try {
                summary = co_await job.run(file, results);
                if (!job.stopped()) {
                    job.mark_done();
                }
            } catch (const file_error& error) {
                failure = error.what();
            } catch (const state_error& error) {
                failure = error.what();
            }
            signals.cancel();
        },
        rethrow_unexpected);
    io.run();

    if (failure) {
        log::import().error("file failed file={} reason={}", log_value(file.filename().string()),
                            log_value(*failure));
        return exit_incomplete;
    }
    if (job.stopped()) {
        log::import().info("file interrupted file={} done={}", log_value(file.filename().string()),
                           summary->rows());
        return exit_incomplete;
    }
    log::import().info("file finished {}", summary->fields());
    std::printf("%s results=%s\n", summary->fields().c_str(),
                log_value(results.string()).c_str());
    return exit_ok;
}

int run_watch_command(const fs::path& spool_root, const service_options& options) {
    asio::io_context io(1);
    const fs::path state_dir = options.state_dir.empty() ? spool_root / "state" : options.state_dir;
    const auto store = open_store(state_dir);
    spool_service service(io, spool_root, options, *store);
    asio::signal_set signals(io, SIGINT, SIGTERM);
    stop_on_signals(signals, service);

    log::main().info("watching spool={} url={} concurrency={} settle={} grace={}",
                     log_value(spool_root.string()), log_value(options.url.text()),
                     options.import.concurrency, format_duration(options.settle),
                     format_duration(options.import.grace));
    std::optional<std::string> failure;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            try {
                co_await service.run();
            } catch (const state_error& error) {
                failure = error.what();
            }
            signals.cancel();
        },
        rethrow_unexpected);
    io.run();

    if (failure) {
        log::state().error("stopped: progress cannot be recorded reason={}", log_value(*failure));
        return exit_incomplete;
    }
    log::main().info("stopped");
    return exit_ok;
}

}  // namespace convex_importd
