#include "convex_importd/pacer.hpp"

#include <algorithm>

namespace convex_importd {

adaptive_limit::adaptive_limit(std::size_t ceiling, const pacing_options& options)
    : ceiling_(std::max<std::size_t>(ceiling, 1)),
      adaptive_(options.adaptive),
      current_(ceiling_) {}

std::optional<limit_change> adaptive_limit::on_success() {
    if (!adaptive_ || current_ == ceiling_) {
        return std::nullopt;
    }
    // One step per round of successes, but a step onto the level that was refused last waits
    // a few rounds: there, a failed probe costs a cut.
    const bool probing = current_ + 1 >= refused_at_;
    const std::size_t needed = current_ * (probing ? probe_rounds : 1);
    if (++successes_ < needed) {
        return std::nullopt;
    }
    successes_ = 0;
    ++current_;
    return limit_change{current_ - 1, current_, "successes"};
}

std::optional<limit_change> adaptive_limit::on_overload(std::uint64_t sent_in_epoch,
                                                        std::string_view reason) {
    if (!adaptive_ || sent_in_epoch != epoch_) {
        return std::nullopt;
    }
    ++epoch_;
    successes_ = 0;
    refused_at_ = current_;
    if (current_ == 1) {
        return std::nullopt;
    }
    const std::size_t previous = current_;
    current_ = std::max<std::size_t>(current_ * 7 / 8, 1);
    return limit_change{previous, current_, reason};
}

token_bucket::token_bucket(double rate, double burst, clock::time_point now)
    : rate_(rate), burst_(std::max(burst, 1.0)), tokens_(burst_), updated_(now) {}

double token_bucket::default_burst(double rate) {
    return std::max(1.0, rate / 20);
}

token_bucket::clock::time_point token_bucket::reserve(clock::time_point now) {
    if (now > updated_) {
        const std::chrono::duration<double> elapsed = now - updated_;
        tokens_ = std::min(burst_, tokens_ + elapsed.count() * rate_);
        updated_ = now;
    }

    tokens_ -= 1;
    if (tokens_ >= 0) {
        return updated_;
    }
    const std::chrono::duration<double> debt(-tokens_ / rate_);
    return updated_ + std::chrono::duration_cast<clock::duration>(debt);
}

}  // namespace convex_importd
