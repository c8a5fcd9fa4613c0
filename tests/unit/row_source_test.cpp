#include "convex_importd/row_source.hpp"

#include <doctest/doctest.h>

#include <vector>

#include "test_files.hpp"

using namespace convex_importd;

TEST_CASE("rows come in file order; blank lines are counted; repeats are duplicates") {
    testing::temp_folder folder;
    const auto file = folder.write("in.csv",
                                   "email,password\r\n"
                                   " Sara@Example.COM ,Silver-Moon-21\r\n"
                                   "sara@example.com,Golden-Sun-22\r\n"
                                   "\r\n"
                                   ",\r\n"
                                   "\ttom@example.com,Copper-Star-23\r\n");
    const auto layout = find_layout(file, {});
    row_source rows(file, layout, {});

    std::vector<user_row> seen;
    user_row row;
    while (rows.next(row)) {
        seen.push_back(std::move(row));
    }
    REQUIRE(seen.size() == 3);
    CHECK(seen[0].email == "sara@example.com");
    CHECK_FALSE(seen[0].verdict);
    CHECK(seen[0].password.view() == "Silver-Moon-21");
    CHECK(seen[1].verdict == outcome::duplicate);
    CHECK(seen[1].detail == "first seen on line 2");
    CHECK(seen[1].password.view().empty());
    CHECK(seen[2].email == "tom@example.com");
    CHECK(seen[2].line == 6);
    CHECK(seen[2].index == 2);
    CHECK(rows.blank_lines() == 2);
}

TEST_CASE("first_seen_emails finds every repeat while holding only the likely ones") {
    first_seen_emails seen(0);
    const auto email = [](std::size_t n) { return "user" + std::to_string(n) + "@example.com"; };
    constexpr std::size_t distinct = 200'000;
    for (std::size_t n = 0; n < distinct; ++n) {
        seen.note(email(n));
    }
    for (std::size_t n = 0; n < distinct; n += 1000) {
        seen.note(email(n));  // 200 repeats
    }
    // Each repeat is a candidate; false positives of the 8 MiB filter are a small share.
    CHECK(seen.candidates() >= 200);
    CHECK(seen.candidates() < 200 + distinct / 1000);

    for (std::size_t n = 0; n < distinct; ++n) {
        CHECK(seen.first_line(email(n), n + 2) == n + 2);
    }
    for (std::size_t n = 0; n < distinct; n += 1000) {
        CHECK(seen.first_line(email(n), distinct + n + 2) == n + 2);
    }
}
