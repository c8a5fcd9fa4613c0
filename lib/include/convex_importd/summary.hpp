#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>

#include "convex_importd/outcome.hpp"

namespace convex_importd {

/// Counts of one file's outcomes and how long the file took.
struct import_summary {
    std::string file;
    std::array<std::size_t, outcome_count> counts{};
    std::size_t blank_lines = 0;
    std::size_t records = 0;  // data records read from the file
    std::size_t retries = 0;  // attempts after a transient fault, over all rows
    double seconds = 0;

    void count(outcome value) { ++counts[static_cast<std::size_t>(value)]; }
    std::size_t of(outcome value) const { return counts[static_cast<std::size_t>(value)]; }
    std::size_t rows() const;

    /// `file=a.csv rows_read=10 outcomes=9 missing=1` when the records read and the
    /// outcomes counted disagree; every record must end in exactly one outcome.
    std::optional<std::string> mismatch() const;

    /// The summary line with stable keys, e.g. `file=a.csv rows=2 created=2 ...`.
    std::string fields() const;
};

}  // namespace convex_importd
