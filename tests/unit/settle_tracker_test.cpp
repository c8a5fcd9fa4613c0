#include "convex_importd/settle_tracker.hpp"

#include <doctest/doctest.h>

using namespace convex_importd;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

file_observation seen(const char* name, std::uintmax_t size, int mtime_seconds) {
    return {name, size, fs::file_time_type(std::chrono::seconds(mtime_seconds))};
}

}  // namespace

TEST_CASE("a file settles once its size and mtime held for the settle period") {
    settle_tracker tracker(2s);
    const auto start = settle_tracker::clock::now();

    CHECK(tracker.observe({seen("a.csv", 10, 1)}, start).empty());
    CHECK(tracker.next_due(start) == 2000ms);
    CHECK(tracker.observe({seen("a.csv", 10, 1)}, start + 1999ms).empty());
    CHECK(tracker.next_due(start + 1500ms) == 500ms);
    CHECK(tracker.observe({seen("a.csv", 10, 1)}, start + 2s) == std::vector<fs::path>{"a.csv"});
}

TEST_CASE("a file that grows or is touched starts its settle period again") {
    settle_tracker tracker(2s);
    const auto start = settle_tracker::clock::now();

    tracker.observe({seen("a.csv", 10, 1)}, start);
    CHECK(tracker.observe({seen("a.csv", 20, 1)}, start + 1500ms).empty());  // grew
    CHECK(tracker.observe({seen("a.csv", 20, 2)}, start + 3000ms).empty());  // touched
    CHECK(tracker.observe({seen("a.csv", 20, 2)}, start + 4999ms).empty());
    CHECK(tracker.observe({seen("a.csv", 20, 2)}, start + 5000ms).size() == 1);
}

TEST_CASE("settled files stay settled, in scan order, until they leave the scan") {
    settle_tracker tracker(1s);
    const auto start = settle_tracker::clock::now();

    tracker.observe({seen("old.csv", 1, 1), seen("new.csv", 1, 2)}, start);
    const auto both = tracker.observe({seen("old.csv", 1, 1), seen("new.csv", 1, 2)}, start + 1s);
    CHECK(both == std::vector<fs::path>{"old.csv", "new.csv"});

    // old.csv was claimed (gone from the scan); new.csv is still ready without waiting again.
    CHECK(tracker.observe({seen("new.csv", 1, 2)}, start + 1001ms) ==
          std::vector<fs::path>{"new.csv"});
    CHECK_FALSE(tracker.next_due(start + 1001ms));

    // A file that comes back under a claimed name settles afresh.
    CHECK(tracker.observe({seen("old.csv", 1, 1)}, start + 2s).empty());
}

TEST_CASE("an empty file is not ignored, and a zero settle period claims at once") {
    settle_tracker tracker(0ms);
    const auto now = settle_tracker::clock::now();
    CHECK(tracker.observe({seen("empty.csv", 0, 1)}, now).size() == 1);
}
