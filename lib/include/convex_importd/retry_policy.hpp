#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <boost/system/error_code.hpp>

namespace convex_importd {

/// When and how often a sign-up is tried again. Defaults as documented in the README.
struct retry_options {
    std::chrono::milliseconds initial_backoff{250};
    std::chrono::milliseconds max_backoff{30'000};
    unsigned max_attempts = 10;
    std::chrono::milliseconds row_deadline{300'000};  // counted from the row's first attempt
};

/// What went wrong with one attempt, as far as trying again is concerned.
enum class attempt_fault {
    none,          // the function ran and answered: the row has its outcome
    throttled,     // HTTP 429: the deployment is at its concurrency limit
    overloaded,    // HTTP 503: the deployment's queues are full
    server_error,  // HTTP 500, 502 or 504
    network,       // refused, reset, closed before the answer, TLS handshake failed
    timeout,       // a phase of the exchange ran past its own timeout
    permanent,     // any other HTTP error, or a transport error that waiting cannot fix
};

/// Sorts an attempt: `transport_error` when the exchange failed, else the HTTP status.
attempt_fault classify_fault(const boost::system::error_code& transport_error,
                             unsigned http_status);

constexpr bool is_transient(attempt_fault fault) {
    return fault != attempt_fault::none && fault != attempt_fault::permanent;
}

/// True for the faults that mean "send less": they cut the adaptive concurrency limit.
constexpr bool signals_overload(attempt_fault fault) {
    return fault == attempt_fault::throttled || fault == attempt_fault::overloaded;
}

/// A Retry-After header value as a delay from `now`: delay-seconds or an HTTP date (IMF-fixdate,
/// RFC 850 or asctime form). Nothing when the value is neither; zero for a date in the past.
std::optional<std::chrono::milliseconds> parse_retry_after(
    std::string_view value, std::chrono::system_clock::time_point now);

/// Uniform numbers in [0, 1) for the backoff jitter; injected so that tests can pin them.
using jitter_source = std::function<double()>;

/// What a row does after a failed attempt.
struct retry_step {
    bool retry = false;
    std::chrono::milliseconds delay{0};  // wait this long before the next attempt
    std::string gave_up;                 // why not, when retry is false
};

/// The retry state of one row, without I/O: the caller sends, feeds the fault of each failed
/// attempt to after_failure(), and either waits the returned delay and sends again or ends the
/// row `failed`. Exponential backoff with full jitter: the n-th wait is uniform in
/// [0, min(max_backoff, initial_backoff * 2^(n-1))), raised to a Retry-After when one came.
/// The row gives up after max_attempts attempts, or when the wait would pass its deadline.
class retry_schedule {
public:
    using clock = std::chrono::steady_clock;

    retry_schedule(const retry_options& options, clock::time_point first_attempt,
                   jitter_source& jitter);

    retry_step after_failure(attempt_fault fault,
                             std::optional<std::chrono::milliseconds> retry_after,
                             clock::time_point now);

    /// Attempts sent so far, counting the one about to be sent after a retry step.
    unsigned attempts() const { return attempts_; }

private:
    std::chrono::milliseconds backoff_bound() const;

    const retry_options& options_;
    jitter_source& jitter_;
    clock::time_point deadline_;
    unsigned attempts_ = 1;
};

}  // namespace convex_importd
