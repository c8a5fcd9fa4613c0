#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>

#include "convex_importd/outcome.hpp"

namespace convex_importd {

/// One running file's counters at one instant: what progress lines, the status file and
/// systemd's STATUS= are made from.
struct import_progress {
    std::string file;
    std::optional<std::size_t> total;  // data records; known once the first pass is done
    std::array<std::size_t, outcome_count> counts{};
    double seconds = 0;  // since the import started

    std::size_t done() const;
    std::optional<double> percent() const;
    double rows_per_second() const;             // the average since the start
    std::optional<double> eta_seconds() const;  // at that average; unknown before a row is done
};

/// `file=a.csv done=410 total=1000 percent=41.0 rows_per_s=180.2 eta_s=3 created=400 ...`;
/// `unknown` stands for a value that cannot be known yet.
std::string progress_fields(const import_progress& progress);

/// `importing a.csv 41% 180 rows/s`, for systemd's STATUS=.
std::string progress_status(const import_progress& progress);

/// A terminal line no wider than `columns`: a bar, percent, counts, rate and time left.
std::string progress_bar(const import_progress& progress, std::size_t columns);

}  // namespace convex_importd
