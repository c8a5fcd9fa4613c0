#include "convex_importd/progress.hpp"

#include <cmath>
#include <numeric>

#include <fmt/format.h>

#include "convex_importd/logging.hpp"

namespace convex_importd {

namespace {

constexpr std::size_t bar_cells = 24;

std::string duration_text(double seconds) {
    const auto whole = static_cast<long long>(std::llround(seconds));
    if (whole >= 3600) {
        return fmt::format("{}:{:02}:{:02}", whole / 3600, whole / 60 % 60, whole % 60);
    }
    return fmt::format("{}:{:02}", whole / 60, whole % 60);
}

std::string or_unknown(const std::optional<double>& value, const char* format) {
    return value ? fmt::format(fmt::runtime(format), *value) : std::string("unknown");
}

}  // namespace

std::size_t import_progress::done() const {
    return std::accumulate(counts.begin(), counts.end(), std::size_t{0});
}

std::optional<double> import_progress::percent() const {
    if (!total) {
        return std::nullopt;
    }
    if (*total == 0) {
        return 100.0;
    }
    return 100.0 * static_cast<double>(done()) / static_cast<double>(*total);
}

double import_progress::rows_per_second() const {
    return seconds > 0 ? static_cast<double>(done()) / seconds : 0.0;
}

std::optional<double> import_progress::eta_seconds() const {
    const double rate = rows_per_second();
    if (!total || rate <= 0) {
        return std::nullopt;
    }
    const auto left = *total > done() ? *total - done() : 0;
    return static_cast<double>(left) / rate;
}

std::string progress_fields(const import_progress& progress) {
    std::string out = fmt::format(
        "file={} done={} total={} percent={} rows_per_s={:.1f} eta_s={}", log_value(progress.file),
        progress.done(), progress.total ? std::to_string(*progress.total) : "unknown",
        or_unknown(progress.percent(), "{:.1f}"), progress.rows_per_second(),
        or_unknown(progress.eta_seconds(), "{:.0f}"));
    for (std::size_t i = 0; i < outcome_count; ++i) {
        out += fmt::format(" {}={}", to_string(static_cast<outcome>(i)), progress.counts[i]);
    }
    return out;
}

std::string progress_status(const import_progress& progress) {
    const auto percent = progress.percent();
    if (!percent) {
        return fmt::format("checking {}", progress.file);
    }
    return fmt::format("importing {} {:.0f}% {:.0f} rows/s", progress.file, std::floor(*percent),
                       progress.rows_per_second());
}

std::string progress_bar(const import_progress& progress, std::size_t columns) {
    const auto percent = progress.percent();
    std::string bar(bar_cells, ' ');
    if (percent) {
        const auto filled = static_cast<std::size_t>(*percent / 100.0 * bar_cells);
        bar.replace(0, std::min(filled, bar_cells), std::min(filled, bar_cells), '#');
    }
    const auto eta = progress.eta_seconds();
    std::string line =
        fmt::format("[{}] {:>3}% {}/{} {:.0f} rows/s ETA {} {}", bar,
                    percent ? fmt::format("{:.0f}", std::floor(*percent)) : "?", progress.done(),
                    progress.total ? std::to_string(*progress.total) : "?",
                    progress.rows_per_second(), eta ? duration_text(*eta) : "?", progress.file);
    if (columns > 1 && line.size() >= columns) {
        line.resize(columns - 1);  // a full-width line would wrap, and \r would redraw below
    }
    return line;
}

}  // namespace convex_importd
