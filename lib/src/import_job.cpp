#include "convex_importd/import_job.hpp"

#include <chrono>
#include <exception>
#include <thread>

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "convex_importd/answer.hpp"
#include "convex_importd/convex_client.hpp"
#include "convex_importd/logging.hpp"
#include "convex_importd/request_gate.hpp"
#include "convex_importd/results_writer.hpp"
#include "convex_importd/row_queue.hpp"
#include "convex_importd/row_source.hpp"
#include "convex_importd/signup_request.hpp"
#include "convex_importd/state_store.hpp"

namespace convex_importd {

namespace asio = boost::asio;

namespace {

void warn_unknown_columns(const std::filesystem::path& input, const column_map& columns) {
    if (columns.unknown.empty()) {
        return;
    }
    std::string names;
    for (const auto& name : columns.unknown) {
        names += (names.empty() ? "" : ",") + name;
    }
    log::csv().warn("unknown columns ignored file={} columns={}",
                    log_value(input.filename().string()), log_value(names));
}

void read_file(const std::filesystem::path& input, const import_options& options, row_queue& queue,
               std::exception_ptr& failure, std::atomic<std::size_t>& records,
               std::atomic<bool>& counted, std::size_t& blank_lines) {
    try {
        const file_layout layout = find_layout(input, options.layout);
        warn_unknown_columns(input, layout.columns);

        // row_source reads the whole file once before its first row (counting records and
        // noting emails), so a structural fault fails the file before the first sign-up. A
        // stop must not wait for that pass over a large file to end.
        row_source rows(input, layout, options.rules, [&queue] { return queue.cancelled(); });
        records.store(rows.records());
        counted.store(true);

        user_row row;
        while (rows.next(row)) {
            if (!queue.push(std::move(row))) {
                break;
            }
        }
        blank_lines = rows.blank_lines();
    } catch (const layout_error& error) {
        failure = std::make_exception_ptr(file_error(error.what()));
    } catch (const csv_error& error) {
        failure = std::make_exception_ptr(file_error(error.what()));
    } catch (const std::system_error& error) {
        failure = std::make_exception_ptr(file_error(error.what()));
    } catch (...) {
        failure = std::current_exception();
    }
    queue.close();
}

}  // namespace

/// What one run shares between the reader thread, the workers and the caller.
struct import_job::run_state {
    run_state(const asio::any_io_executor& executor, const import_options& options,
              std::int64_t file_id)
        : queue(executor, options.queue_capacity),
          gate(executor, options.concurrency, options.pacing),
          file(file_id),
          all_done(executor, asio::steady_timer::time_point::max()),
          committed(executor, asio::steady_timer::time_point::max()),
          commit_timer(executor),
          stopping(executor, asio::steady_timer::time_point::max()),
          grace(executor) {}

    row_queue queue;
    request_gate gate;
    std::int64_t file;
    std::string target;            // the HTTP target of a sign-up
    bool resumed = false;          // rows with an outcome from an earlier run are skipped
    asio::steady_timer all_done;   // cancelled when the last worker ends
    asio::steady_timer committed;  // cancelled after each commit: wakes the rows in it
    asio::steady_timer commit_timer;
    asio::steady_timer stopping;  // cancelled by stop(): wakes rows waiting to retry
    asio::steady_timer grace;
    std::size_t workers_left = 0;
    std::vector<convex_connection*> connections;
    std::size_t waiting_for_commit = 0;  // workers whose sent row waits to be durable
    bool commit_armed = false;           // the commit window's timer runs
    bool commit_posted = false;          // a commit on the next turn of the event loop is queued
    std::uint64_t commit_generation = 0;
    std::exception_ptr worker_failure;
    std::size_t finished = 0;
    std::size_t retries = 0;
    bool unreachable = false;  // the last connection attempt failed; logged once per outage

    std::string name;                                 // the file's name, for progress
    std::array<std::size_t, outcome_count> counts{};  // outcomes so far, for progress

    // Written by the reader thread; `records` is read by progress() once `counted` is set,
    // the others after the thread has been joined.
    std::exception_ptr reader_failure;
    std::atomic<std::size_t> records{0};
    std::atomic<bool> counted{false};
    std::size_t blank_lines = 0;
};

namespace {

constexpr auto with_error = asio::as_tuple(asio::use_awaitable);

// Answers arrive one per turn of the event loop, so committing on the next turn would commit
// one row at a time. Waiting this long gathers the rows of many workers into one commit, for
// a small part of a sign-up's round trip.
constexpr auto commit_window = std::chrono::milliseconds(2);

// Rows decided without a request (invalid, duplicate, skipped) do not wait for a commit: a
// crash only makes them be decided again. They are committed with the next batch, or once
// this many are pending.
constexpr std::size_t max_batch_rows = 4096;

std::string skipped_detail(const ledger_entry& entry) {
    return "already " + std::string(to_string(entry.result)) + " from " + entry.file + " line " +
           std::to_string(entry.line);
}

std::string fault_detail(const http_result& answer, std::string_view password) {
    if (answer.transport_failed()) {
        return answer.error_text();
    }
    return classify_answer(answer.status, answer.body, password).detail;
}

std::optional<std::chrono::milliseconds> retry_after_of(const http_result& answer) {
    if (!answer.retry_after) {
        return std::nullopt;
    }
    return parse_retry_after(*answer.retry_after, std::chrono::system_clock::now());
}

}  // namespace

import_job::import_job(asio::any_io_executor executor, const convex_endpoint& endpoint,
                       state_store& store, import_options options)
    : executor_(std::move(executor)),
      endpoint_(endpoint),
      store_(store),
      options_(std::move(options)),
      random_(std::random_device{}()),
      jitter_([this] { return std::uniform_real_distribution<double>(0.0, 1.0)(random_); }) {}

import_job::~import_job() = default;

void import_job::stop() {
    if (stopped_.exchange(true) || active_ == nullptr) {
        return;
    }
    run_state& state = *active_;
    state.queue.cancel();
    state.gate.close();
    state.stopping.cancel();

    state.grace.expires_after(options_.grace);
    state.grace.async_wait([this](boost::system::error_code error) {
        if (!error) {
            log::import().info("grace period over; ending requests in flight");
            stop_now();
        }
    });
}

void import_job::stop_now() {
    stop();
    stopped_now_ = true;
    if (active_ != nullptr) {
        for (auto* connection : active_->connections) {
            connection->cancel();
        }
    }
}

void import_job::mark_done() {
    if (finished_file_ != 0) {
        store_.finish_file(finished_file_);
        finished_file_ = 0;
    }
}

asio::awaitable<void> import_job::work(run_state& state) {
    convex_connection connection(executor_, endpoint_);

    // stop_now() cancels the connections it finds here: this one must leave the list however
    // the worker ends, an exception included.
    struct listed {
        std::vector<convex_connection*>& list;
        convex_connection* item;
        ~listed() { std::erase(list, item); }
    } registration{state.connections, &connection};
    state.connections.push_back(&connection);

    while (auto row = co_await state.queue.pop()) {
        if (stopped_.load() || state.worker_failure) {
            break;
        }
        if (state.resumed && store_.has_outcome(state.file, row->index)) {
            continue;  // finished in an earlier run of this file
        }

        const auto result = co_await settle_row(state, connection, *row);
        if (!result) {
            break;  // stopped while the row was in flight: it stays without an outcome
        }

        store_.record(state.file, row->index, *result);
        ++state.finished;
        ++state.counts[static_cast<std::size_t>(result->result)];
        if (result->attempts > 0 && store_.durable()) {
            co_await until_durable(state);
        } else if (store_.pending() >= max_batch_rows) {
            commit_now(state);
        }
    }
}

import_progress import_job::progress() const {
    import_progress progress;
    if (active_ == nullptr) {
        return progress;
    }
    progress.file = active_->name;
    progress.counts = active_->counts;
    if (active_->counted.load()) {
        progress.total = active_->records.load();
    }
    progress.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    return progress;
}

asio::awaitable<void> import_job::until_durable(run_state& state) {
    // The row's outcome is durable before this worker takes another row, which bounds what a
    // crash can make us send twice by the number of workers. Committing once half of them
    // wait, rather than all, keeps the other half's requests in flight meanwhile: waiting
    // for all made every worker send, wait and commit in step, the server idle in between.
    ++state.waiting_for_commit;
    const bool half_wait = state.waiting_for_commit * 2 >= state.workers_left;
    schedule_commit(state, half_wait ? commit_delay::now : commit_delay::window);
    co_await state.committed.async_wait(with_error);
}

void import_job::schedule_commit(run_state& state, commit_delay delay) {
    if (delay == commit_delay::now) {
        if (!state.commit_posted) {
            state.commit_posted = true;
            asio::post(executor_, [this, &state, generation = state.commit_generation] {
                if (generation == state.commit_generation) {
                    commit_now(state);
                }
            });
        }
        return;
    }
    if (state.commit_armed) {
        return;
    }
    state.commit_armed = true;
    state.commit_timer.expires_after(commit_window);
    state.commit_timer.async_wait(
        [this, &state, generation = state.commit_generation](boost::system::error_code error) {
            if (!error && generation == state.commit_generation) {
                commit_now(state);
            }
        });
}

void import_job::commit_now(run_state& state) {
    ++state.commit_generation;  // whatever else was scheduled is now stale
    state.commit_armed = false;
    state.commit_posted = false;
    state.waiting_for_commit = 0;
    try {
        store_.commit();
    } catch (const state_error&) {
        if (!state.worker_failure) {
            state.worker_failure = std::current_exception();
        }
        stop_now();
    }
    state.committed.cancel();
}

asio::awaitable<std::optional<row_result>> import_job::settle_row(run_state& state,
                                                                  convex_connection& connection,
                                                                  user_row& row) {
    if (row.verdict) {
        co_return row_result{row.line, std::move(row.email), *row.verdict, 0,
                             std::move(row.detail)};
    }
    if (options_.use_ledger) {
        if (const auto known = store_.find_in_ledger(row.email)) {
            co_return row_result{row.line, std::move(row.email), outcome::skipped, 0,
                                 skipped_detail(*known)};
        }
    }
    co_return co_await sign_up(state, connection, row);
}

// One line when the deployment stops answering and one when it is back, rather than one per
// failed row: an outage of minutes would otherwise flood the log.
void import_job::note_reachability(run_state& state, const http_result& answer) const {
    const bool connect_failed =
        answer.transport_failed() && (answer.phase == "resolve" || answer.phase == "connect");
    if (connect_failed && !state.unreachable) {
        state.unreachable = true;
        log::http().warn("backend unreachable url={} error={}", log_value(endpoint_.url().text()),
                         log_value(answer.error_text()));
    } else if (!answer.transport_failed() && state.unreachable) {
        state.unreachable = false;
        log::http().info("backend recovered url={}", log_value(endpoint_.url().text()));
    }
}

asio::awaitable<std::optional<row_result>> import_job::sign_up(run_state& state,
                                                               convex_connection& connection,
                                                               user_row& row) {
    using namespace asio::experimental::awaitable_operators;
    retry_schedule schedule(options_.retry, std::chrono::steady_clock::now(), jitter_);
    std::optional<asio::steady_timer> backoff;  // made on the first retry: most rows have none
    std::string& body = connection.request_body();

    for (;;) {
        const auto permit = co_await state.gate.acquire();
        if (!permit) {
            co_return std::nullopt;
        }

        build_signup_body(row, body);
        const http_result answer = co_await connection.post(state.target, body);
        note_reachability(state, answer);
        const attempt_fault fault = classify_fault(answer.error, answer.status);
        state.gate.release(*permit, fault);
        if (stopped_now_ && answer.transport_failed()) {
            co_return std::nullopt;
        }

        if (!is_transient(fault)) {
            if (answer.transport_failed()) {
                co_return row_result{row.line, std::move(row.email), outcome::failed,
                                     schedule.attempts(), answer.error_text()};
            }
            auto classified = classify_answer(answer.status, answer.body, row.password.view());
            log::http().debug("answer line={} status={} outcome={}", row.line, answer.status,
                              to_string(classified.result));
            co_return row_result{row.line, std::move(row.email), classified.result,
                                 schedule.attempts(), std::move(classified.detail)};
        }

        // After a stop the row is left for the resumed run rather than retried now.
        if (stopped_.load()) {
            co_return std::nullopt;
        }
        const std::string reason = fault_detail(answer, row.password.view());
        const retry_step step =
            schedule.after_failure(fault, retry_after_of(answer), std::chrono::steady_clock::now());
        if (!step.retry) {
            co_return row_result{row.line, std::move(row.email), outcome::failed,
                                 schedule.attempts(), reason + " (" + step.gave_up + ")"};
        }
        ++state.retries;
        log::http().debug("retry line={} attempt={} delay_ms={} reason={}", row.line,
                          schedule.attempts(), step.delay.count(), log_value(reason));

        // Sending the same sign-up again is safe even when the failed attempt may have run
        // on the deployment (a timeout, a connection lost before the answer): Convex Auth
        // answers a repeated sign-up with the same email and password as a sign-in, so the
        // row still ends `created`, and no second account can appear.
        if (!backoff) {
            backoff.emplace(executor_);
        }
        backoff->expires_after(step.delay);
        co_await (backoff->async_wait(with_error) || state.stopping.async_wait(with_error));
        if (stopped_.load()) {
            co_return std::nullopt;
        }
    }
}

import_summary import_job::write_results(run_state& state, const std::filesystem::path& results) {
    import_summary summary;
    summary.file = state.name;
    results_writer writer(results);
    store_.for_each_row(state.file, [&](std::size_t index, const row_result& row) {
        summary.count(row.result);
        writer.add(index, row);
    });
    summary.records = state.records.load();
    if (const auto mismatch = summary.mismatch()) {
        log::import().error("summary mismatch {}", *mismatch);
        throw file_error("rows read and outcomes disagree: " + *mismatch);
    }
    writer.commit();
    store_.seal_file(state.file);
    return summary;
}

asio::awaitable<import_summary> import_job::run(std::filesystem::path input,
                                                std::filesystem::path results) {
    co_await check_server_certificate(executor_, endpoint_);
    started_ = std::chrono::steady_clock::now();
    const std::string name = input.filename().string();
    // Keyed by the canonical path, so that any spelling of it resumes the same file.
    const file_entry file = store_.begin_file(std::filesystem::weakly_canonical(input).string(),
                                              file_identity(input), name);
    if (file.finished_rows > 0) {
        log::import().info("file resumed file={} finished_rows={}", log_value(name),
                           file.finished_rows);
    }

    run_state state(executor_, options_, file.id);
    state.name = name;
    state.target = endpoint_.url().action_target();
    state.resumed = file.finished_rows > 0;
    active_ = &state;
    if (stopped_.load()) {
        state.queue.cancel();
        state.gate.close();
    }

    std::jthread reader(read_file, input, std::cref(options_), std::ref(state.queue),
                        std::ref(state.reader_failure), std::ref(state.records),
                        std::ref(state.counted), std::ref(state.blank_lines));

    state.workers_left = options_.concurrency;
    for (std::size_t i = 0; i < options_.concurrency; ++i) {
        asio::co_spawn(executor_, work(state), [this, &state](std::exception_ptr error) {
            if (error && !state.worker_failure) {
                state.worker_failure = error;
                stop_now();
            }
            if (--state.workers_left == 0) {
                state.all_done.cancel();
            } else if (state.waiting_for_commit * 2 >= state.workers_left) {
                schedule_commit(state, commit_delay::now);
            }
        });
    }
    co_await state.all_done.async_wait(with_error);
    state.queue.cancel();  // a worker that failed leaves the reader waiting on a full queue
    reader.join();
    state.grace.cancel();
    active_ = nullptr;
    store_.commit();

    if (state.worker_failure) {
        std::rethrow_exception(state.worker_failure);
    }
    if (state.reader_failure) {
        store_.forget_file(file.id);
        std::rethrow_exception(state.reader_failure);
    }

    import_summary summary;
    if (stopped_.load()) {
        summary.counts = store_.count_outcomes(file.id);
    } else {
        summary = write_results(state, results);
        finished_file_ = file.id;
    }
    summary.file = name;
    summary.records = state.records.load();
    summary.blank_lines = state.blank_lines;
    summary.retries = state.retries;
    summary.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    co_return summary;
}

}  // namespace convex_importd
