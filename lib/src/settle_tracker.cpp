#include "convex_importd/settle_tracker.hpp"

#include <algorithm>
#include <set>

namespace convex_importd {

std::vector<std::filesystem::path> settle_tracker::observe(
    const std::vector<file_observation>& scan, clock::time_point now) {
    std::set<std::filesystem::path> present;
    std::vector<std::filesystem::path> settled;
    for (const auto& file : scan) {
        present.insert(file.path);
        auto [it, inserted] = files_.try_emplace(file.path, seen{file.size, file.modified, now});
        seen& known = it->second;
        if (!inserted && (known.size != file.size || known.modified != file.modified)) {
            known = seen{file.size, file.modified, now};
        }
        if (now - known.unchanged_since >= settle_) {
            known.settled = true;
            settled.push_back(file.path);
        }
    }

    std::erase_if(files_, [&present](const auto& entry) { return !present.contains(entry.first); });
    return settled;
}

std::optional<std::chrono::milliseconds> settle_tracker::next_due(clock::time_point now) const {
    std::optional<std::chrono::milliseconds> earliest;
    for (const auto& [path, known] : files_) {
        if (known.settled) {
            continue;
        }
        const auto due =
            std::chrono::ceil<std::chrono::milliseconds>(known.unchanged_since + settle_ - now);
        const auto wait = std::max(due, std::chrono::milliseconds(0));
        earliest = earliest ? std::min(*earliest, wait) : wait;
    }
    return earliest;
}

}  // namespace convex_importd
