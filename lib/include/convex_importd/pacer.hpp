#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace convex_importd {

/// How fast sign-ups are sent, below the concurrency ceiling. Defaults as in the README.
struct pacing_options {
    bool adaptive = true;  // find the deployment's limit below the ceiling (AIMD)
    double rate = 0;       // requests per second at most; 0: unlimited
};

/// A change of the adaptive limit, for the log line that reports it.
struct limit_change {
    std::size_t previous = 0;
    std::size_t current = 0;
    std::string_view reason;  // the status that cut it, or "successes"
};

/// The in-flight limit, found by additive increase and multiplicative decrease, without I/O.
/// It starts at the ceiling. An overload answer (429, 503) cuts it by an eighth, down to one;
/// after as many successes in a row as the limit itself (about one round of requests) it grows
/// by one, up to the ceiling, except that the step onto the level that was refused, and each
/// step above it, takes `probe_rounds` rounds. Halving and probing every round averaged 78% of
/// a limit enforced by refusing at once (benchmark 5c); this keeps above 90% of it. Requests carry the epoch they were
/// sent in, and only an overload of a request sent since the last cut cuts again: the burst of
/// 429s that answers one too-large round is one signal, not many. Not thread-safe.
class adaptive_limit {
public:
    adaptive_limit(std::size_t ceiling, const pacing_options& options);

    std::size_t current() const { return current_; }
    std::uint64_t epoch() const { return epoch_; }

    std::optional<limit_change> on_success();
    std::optional<limit_change> on_overload(std::uint64_t sent_in_epoch, std::string_view reason);

    static constexpr std::size_t probe_rounds = 4;

private:
    std::size_t ceiling_;
    bool adaptive_;
    std::size_t current_;
    std::size_t refused_at_ = 0;  // the limit when the last overload came; 0: none yet
    std::size_t successes_ = 0;
    std::uint64_t epoch_ = 0;
};

/// A token bucket without I/O: `rate` tokens a second, holding at most `burst`, full at the
/// start. reserve() takes one token, going into debt when there is none, and says when the
/// caller may send; so callers are spaced 1/rate apart in the order they asked.
class token_bucket {
public:
    using clock = std::chrono::steady_clock;

    token_bucket(double rate, double burst, clock::time_point now);

    clock::time_point reserve(clock::time_point now);

    /// The small burst used for --rate: 50 ms worth of tokens, at least one.
    static double default_burst(double rate);

private:
    double rate_;
    double burst_;
    double tokens_;
    clock::time_point updated_;
};

}  // namespace convex_importd
