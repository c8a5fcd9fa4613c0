#include "convex_importd/progress.hpp"

#include <doctest/doctest.h>

using namespace convex_importd;

namespace {

import_progress halfway() {
    import_progress progress;
    progress.file = "users.csv";
    progress.total = 1000;
    progress.counts[static_cast<std::size_t>(outcome::created)] = 400;
    progress.counts[static_cast<std::size_t>(outcome::failed)] = 10;
    progress.seconds = 2.0;
    return progress;
}

}  // namespace

TEST_CASE("percent, rate and time left follow from the counts") {
    const auto progress = halfway();

    CHECK(progress.done() == 410);
    CHECK(*progress.percent() == doctest::Approx(41.0));
    CHECK(progress.rows_per_second() == doctest::Approx(205.0));
    CHECK(*progress.eta_seconds() == doctest::Approx(590.0 / 205.0));
}

TEST_CASE("before the records are counted, percent and time left are unknown") {
    import_progress progress;
    progress.file = "big.csv";

    CHECK_FALSE(progress.percent());
    CHECK_FALSE(progress.eta_seconds());
    CHECK(progress_status(progress) == "checking big.csv");
    CHECK(progress_fields(progress) ==
          "file=big.csv done=0 total=unknown percent=unknown rows_per_s=0.0 eta_s=unknown "
          "created=0 exists=0 rejected=0 invalid=0 duplicate=0 failed=0 skipped=0");
}

TEST_CASE("progress lines, STATUS= text and the terminal line") {
    const auto progress = halfway();

    CHECK(progress_fields(progress) ==
          "file=users.csv done=410 total=1000 percent=41.0 rows_per_s=205.0 eta_s=3 created=400 "
          "exists=0 rejected=0 invalid=0 duplicate=0 failed=10 skipped=0");
    CHECK(progress_status(progress) == "importing users.csv 41% 205 rows/s");
    CHECK(progress_bar(progress, 200) ==
          "[#########               ]  41% 410/1000 205 rows/s ETA 0:03 users.csv");
    CHECK(progress_bar(progress, 30).size() == 29);
}

TEST_CASE("an empty file is complete at once") {
    import_progress progress;
    progress.total = 0;
    CHECK(*progress.percent() == 100.0);
}
