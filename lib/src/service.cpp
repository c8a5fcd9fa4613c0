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
    spool_service(asio::io_context& io, const fs::path& root, const service_options& options)
        : io_(io),
          options_(options),
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
                    log::watch().info("file claimed file={} bytes={}",
                                      log_value(claimed->filename().string()),
                                      size_or_zero(*claimed));
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
        std::optional<std::string> failure;
        try {
            const import_summary summary =
                co_await job_->run(claimed, spool_.results_path(claimed));
            if (job_->stopped()) {
                log::watch().info("file interrupted file={} done={} left_in=processing",
                                  log_value(name), summary.rows());
            } else {
                spool_.finish(claimed);
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
        target.stop();
        stop_on_signals(signals, target);
    });
}

}  // namespace

int run_import_command(const fs::path& file, const fs::path& results,
                       const service_options& options) {
    asio::io_context io(1);
    const convex_endpoint endpoint(options.url, options.client);
    import_job job(io.get_executor(), endpoint, options.import);
    asio::signal_set signals(io, SIGINT, SIGTERM);
    stop_on_signals(signals, job);

    std::optional<import_summary> summary;
    std::optional<std::string> failure;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            try {
                summary = co_await job.run(file, results);
            } catch (const file_error& error) {
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
    log::import().info("file finished {}", summary->fields());
    std::printf("%s results=%s\n", summary->fields().c_str(),
                log_value(results.string()).c_str());
    return job.stopped() ? exit_incomplete : exit_ok;
}

int run_watch_command(const fs::path& spool_root, const service_options& options) {
    asio::io_context io(1);
    spool_service service(io, spool_root, options);
    asio::signal_set signals(io, SIGINT, SIGTERM);
    stop_on_signals(signals, service);

    log::main().info("watching spool={} url={} concurrency={}", log_value(spool_root.string()),
                     log_value(options.url.text()), options.import.concurrency);
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            co_await service.run();
            signals.cancel();
        },
        rethrow_unexpected);
    io.run();
    log::main().info("stopped");
    return exit_ok;
}

}  // namespace convex_importd
