#include "convex_importd/import_job.hpp"

#include <chrono>
#include <exception>
#include <thread>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include "convex_importd/answer.hpp"
#include "convex_importd/convex_client.hpp"
#include "convex_importd/logging.hpp"
#include "convex_importd/results_writer.hpp"
#include "convex_importd/row_queue.hpp"
#include "convex_importd/row_source.hpp"
#include "convex_importd/signup_request.hpp"

namespace convex_importd {

namespace asio = boost::asio;

/// What one run shares between the reader thread, the workers and the caller.
struct import_job::run_state {
    run_state(asio::any_io_executor executor, std::size_t capacity, std::filesystem::path out)
        : queue(executor, capacity),
          results(std::move(out)),
          all_done(executor, asio::steady_timer::time_point::max()) {}

    row_queue queue;
    results_writer results;
    import_summary summary;
    asio::steady_timer all_done;
    std::size_t workers_left = 0;

    // Written by the reader thread; `records` is read by progress() once `counted` is set,
    // the others after the thread has been joined.
    std::exception_ptr reader_failure;
    std::atomic<std::size_t> records{0};
    std::atomic<bool> counted{false};
    std::size_t blank_lines = 0;

    void finish(const user_row& row, outcome result, unsigned attempts, std::string detail) {
        summary.count(result);
        results.add(row.index, {row.line, row.email, result, attempts, std::move(detail)});
    }
};

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

// The first pass: every record is read once so that a structural fault fails the file
// before the first sign-up. Returns the number of data records.
std::size_t count_records(const std::filesystem::path& input, const file_layout& layout) {
    csv_reader reader(input, layout.csv);
    skip_to_data(reader, layout);
    csv_record record;
    std::size_t records = 0;
    while (reader.next(record)) {
        records += record.blank() ? 0 : 1;
    }
    return records;
}

// The second pass: checked rows go to the queue in file order.
void stream_rows(const std::filesystem::path& input, const file_layout& layout,
                 const row_rules& rules, row_queue& queue, std::size_t& blank_lines) {
    row_source rows(input, layout, rules);
    user_row row;
    while (rows.next(row)) {
        if (!queue.push(std::move(row))) {
            break;
        }
    }
    blank_lines = rows.blank_lines();
}

void read_file(const std::filesystem::path& input, const import_options& options, row_queue& queue,
               std::exception_ptr& failure, std::atomic<std::size_t>& records,
               std::atomic<bool>& counted, std::size_t& blank_lines) {
    try {
        const file_layout layout = find_layout(input, options.layout);
        warn_unknown_columns(input, layout.columns);
        records.store(count_records(input, layout));
        counted.store(true);
        stream_rows(input, layout, options.rules, queue, blank_lines);
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

import_job::import_job(asio::any_io_executor executor, const convex_endpoint& endpoint,
                       import_options options)
    : executor_(std::move(executor)), endpoint_(endpoint), options_(std::move(options)) {}

import_job::~import_job() = default;

void import_job::stop() {
    stopped_.store(true);
    if (active_ != nullptr) {
        active_->queue.cancel();
    }
}

asio::awaitable<void> import_job::work(run_state& state) {
    convex_connection connection(executor_, endpoint_);
    const std::string target = endpoint_.url().action_target();
    std::string body;

    while (auto row = co_await state.queue.pop()) {
        if (row->verdict) {
            state.finish(*row, *row->verdict, 0, std::move(row->detail));
            continue;
        }

        build_signup_body(*row, body);
        const http_result answer = co_await connection.post(target, body);
        if (answer.transport_failed()) {
            log::http().debug("request failed line={} error=\"{}\"", row->line,
                              answer.error_text());
            state.finish(*row, outcome::failed, 1, answer.error_text());
            continue;
        }

        auto classified = classify_answer(answer.status, answer.body, row->password.view());
        log::http().debug("answer line={} status={} outcome={}", row->line, answer.status,
                          to_string(classified.result));
        state.finish(*row, classified.result, 1, std::move(classified.detail));
    }
}

import_progress import_job::progress() const {
    import_progress progress;
    if (active_ == nullptr) {
        return progress;
    }
    progress.file = active_->summary.file;
    progress.counts = active_->summary.counts;
    if (active_->counted.load()) {
        progress.total = active_->records.load();
    }
    progress.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    return progress;
}

asio::awaitable<import_summary> import_job::run(std::filesystem::path input,
                                                std::filesystem::path results) {
    co_await check_server_certificate(executor_, endpoint_);
    started_ = std::chrono::steady_clock::now();
    run_state state(executor_, options_.queue_capacity, results);
    state.summary.file = input.filename().string();
    active_ = &state;
    if (stopped_.load()) {
        state.queue.cancel();
    }

    std::jthread reader(read_file, input, std::cref(options_), std::ref(state.queue),
                        std::ref(state.reader_failure), std::ref(state.records),
                        std::ref(state.counted), std::ref(state.blank_lines));

    state.workers_left = options_.concurrency;
    for (std::size_t i = 0; i < options_.concurrency; ++i) {
        asio::co_spawn(executor_, work(state), [&state](std::exception_ptr error) {
            if (error) {
                log::import().error("worker stopped by an unexpected error");
            }
            if (--state.workers_left == 0) {
                state.all_done.cancel();
            }
        });
    }
    co_await state.all_done.async_wait(asio::as_tuple(asio::use_awaitable));
    reader.join();
    active_ = nullptr;

    if (state.reader_failure) {
        std::rethrow_exception(state.reader_failure);
    }
    state.summary.blank_lines = state.blank_lines;
    state.summary.records = state.records.load();
    state.summary.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    if (const auto mismatch = state.summary.mismatch(); mismatch && !stopped_.load()) {
        log::import().error("summary mismatch {}", *mismatch);
        throw file_error("rows read and outcomes disagree: " + *mismatch);
    }
    if (!stopped_.load()) {
        state.results.commit();
    }
    co_return state.summary;
}

}  // namespace convex_importd
