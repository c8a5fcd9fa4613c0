#pragma once

#include <sys/types.h>

#include <array>
#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "convex_importd/outcome.hpp"
#include "convex_importd/progress.hpp"

namespace convex_importd {

/// What the service has done since it started.
struct service_totals {
    std::size_t files_finished = 0;
    std::size_t files_failed = 0;
    std::size_t files_interrupted = 0;
    std::array<std::size_t, outcome_count> counts{};
};

/// The status file's content: for scripts and monitoring, the same counters as the logs.
struct status_report {
    std::string state;  // "watching", "importing", "stopping" or "stopped"
    std::string started;
    std::string updated;
    long pid = 0;
    std::vector<import_progress> active;
    service_totals totals;
};

/// The report as one JSON document; counts that cannot be known yet are null.
std::string status_json(const status_report& report);

/// Replaces `path` by a file holding `content` so that a reader sees the old or the new
/// file, never a part: written beside it, synced, then renamed over it. Creates the folder
/// when missing. Throws std::system_error naming the path.
void replace_file(const std::filesystem::path& path, std::string_view content, mode_t mode = 0640);

}  // namespace convex_importd
