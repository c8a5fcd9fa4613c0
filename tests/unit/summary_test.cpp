#include "convex_importd/summary.hpp"

#include <doctest/doctest.h>

using namespace convex_importd;

TEST_CASE("a summary reconciles when every record read has one outcome") {
    import_summary summary;
    summary.file = "a.csv";
    summary.records = 3;
    summary.count(outcome::created);
    summary.count(outcome::created);
    CHECK(summary.mismatch() == "file=a.csv rows_read=3 outcomes=2 missing=1");

    summary.count(outcome::failed);
    CHECK_FALSE(summary.mismatch());

    summary.count(outcome::exists);
    CHECK(summary.mismatch() == "file=a.csv rows_read=3 outcomes=4 extra=1");
}
