#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <vector>

namespace convex_importd {

/// What one scan of inbox/ saw of one file.
struct file_observation {
    std::filesystem::path path;
    std::uintmax_t size = 0;
    std::filesystem::file_time_type modified;
};

/// Decides when a file in inbox/ is complete, without I/O: once its size and modification time
/// have stayed the same for the settle period, across as many scans as the caller makes.
/// inotify (IN_CLOSE_WRITE, IN_MOVED_TO) only makes the scans come sooner; a file seen only by
/// the periodic rescan (a missed event, a network filesystem) settles the same way. A writer
/// that pauses for longer than the settle period mid-file cannot be told from a finished one,
/// which is why writers should rename complete files into inbox/. Not thread-safe.
class settle_tracker {
public:
    using clock = std::chrono::steady_clock;

    explicit settle_tracker(std::chrono::milliseconds settle) : settle_(settle) {}

    /// Feeds one scan; returns the files that have settled, in the scan's order. A settled
    /// file stays settled until it changes or leaves the scan (claimed); back again, it has
    /// to settle again.
    std::vector<std::filesystem::path> observe(const std::vector<file_observation>& scan,
                                               clock::time_point now);

    /// How long until the earliest unsettled file could settle; nothing when none waits.
    std::optional<std::chrono::milliseconds> next_due(clock::time_point now) const;

private:
    struct seen {
        std::uintmax_t size = 0;
        std::filesystem::file_time_type modified;
        clock::time_point unchanged_since;
        bool settled = false;
    };

    std::chrono::milliseconds settle_;
    std::map<std::filesystem::path, seen> files_;
};

}  // namespace convex_importd
