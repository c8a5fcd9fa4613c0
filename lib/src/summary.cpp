#include "convex_importd/summary.hpp"

#include <array>
#include <numeric>

#include <fmt/format.h>

#include "convex_importd/logging.hpp"

namespace convex_importd {

std::size_t import_summary::rows() const {
    return std::accumulate(counts.begin(), counts.end(), std::size_t{0});
}

std::optional<std::string> import_summary::mismatch() const {
    const std::size_t outcomes = rows();
    if (outcomes == records) {
        return std::nullopt;
    }
    const std::string difference = outcomes < records
                                       ? fmt::format("missing={}", records - outcomes)
                                       : fmt::format("extra={}", outcomes - records);
    return fmt::format("file={} rows_read={} outcomes={} {}", log_value(file), records, outcomes,
                       difference);
}

std::string import_summary::fields() const {
    const double rate = seconds > 0 ? static_cast<double>(rows()) / seconds : 0.0;
    // The order of the keys is part of the line's contract with log parsers.
    // `skipped` came later than the others, so it comes after them.
    constexpr std::array order{outcome::created,  outcome::exists,    outcome::invalid,
                               outcome::rejected, outcome::duplicate, outcome::failed,
                               outcome::skipped};
    static_assert(order.size() == outcome_count, "every outcome has its place in the line");

    std::string out = fmt::format("file={} rows={}", log_value(file), rows());
    for (const outcome value : order) {
        out += fmt::format(" {}={}", to_string(value), of(value));
    }
    out += fmt::format(" retries={} blank_lines={} seconds={:.3f} rows_per_s={:.1f}", retries,
                       blank_lines, seconds, rate);
    return out;
}

}  // namespace convex_importd
