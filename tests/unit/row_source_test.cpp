#include "convex_importd/row_source.hpp"

#include <doctest/doctest.h>

#include <vector>

#include "test_files.hpp"

using namespace convex_importd;

namespace {

struct read_result {
    std::vector<user_row> rows;
    std::size_t blank_lines = 0;
};

read_result read_rows(std::string_view text) {
    testing::temp_folder folder;
    const auto file = folder.write("in.csv", text);
    const auto layout = find_layout(file, {});
    row_source source(file, layout, {});
    read_result result;
    user_row row;
    while (source.next(row)) {
        result.rows.push_back(std::move(row));
    }
    result.blank_lines = source.blank_lines();
    return result;
}

std::vector<user_row> all_rows(std::string_view text) {
    return read_rows(text).rows;
}

}  // namespace

TEST_CASE("rows come in file order; blank lines are counted; repeats are duplicates") {
    const auto [seen, blank_lines] = read_rows(
        "email,password\r\n"
        " Sara@Example.COM ,Silver-Moon-21\r\n"
        "sara@example.com,Golden-Sun-22\r\n"
        "\r\n"
        ",\r\n"
        "\ttom@example.com,Copper-Star-23\r\n");
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
    CHECK(blank_lines == 2);
}

TEST_CASE("first_seen_emails keeps every candidate as its table grows") {
    first_seen_emails seen(0);
    const auto email = [](std::size_t n) { return std::to_string(n) + "u@example.com"; };
    constexpr std::size_t repeated = 5000;  // several times the table's first size
    for (int pass = 0; pass < 2; ++pass) {
        for (std::size_t n = 0; n < repeated; ++n) {
            seen.note(email(n));
        }
    }
    CHECK(seen.candidates() >= repeated);
    for (std::size_t n = 0; n < repeated; ++n) {
        CHECK(seen.first_line(email(n), n + 2) == n + 2);
        CHECK(seen.first_line(email(n), repeated + n + 2) == n + 2);
    }
    CHECK(seen.first_line("new@example.com", 7) == 7);
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

TEST_CASE("a record cut by an unquoted line break makes both halves invalid and silent") {
    const auto rows = all_rows(
        "email,password,name\n"
        "hana@example.com,Valid-Pass-001,Hana\n"
        "ivan@example.com,Valid-Pa\n"
        "ss-002,Ivan\n"
        "june@example.com,Valid-Pass-003,June\n");
    REQUIRE(rows.size() == 4);
    CHECK_FALSE(rows[0].verdict);
    CHECK(rows[1].verdict == outcome::invalid);
    CHECK(rows[1].detail == "cut by a line break that is not quoted: line 4 looks like its rest");
    CHECK(rows[1].email.empty());
    CHECK(rows[2].verdict == outcome::invalid);
    CHECK(rows[2].detail ==
          "looks like the rest of line 3, cut by a line break that is not quoted");
    CHECK(rows[2].email.empty());
    CHECK_FALSE(rows[3].verdict);
}

TEST_CASE("a cut in the last column is caught too; short rows with an email are real rows") {
    const auto cut = all_rows("email,password\na@example.com,Password-1\n23\n");
    REQUIRE(cut.size() == 2);
    CHECK(cut[0].verdict == outcome::invalid);
    CHECK(cut[1].verdict == outcome::invalid);
    CHECK(cut[1].email.empty());

    const auto short_rows =
        all_rows("email,password,name\nann@example.com,Password-1\nbob@example.com,Password-2\n");
    REQUIRE(short_rows.size() == 2);
    CHECK_FALSE(short_rows[0].verdict);
    CHECK_FALSE(short_rows[1].verdict);
}

TEST_CASE("the first pass counts the records, blank lines left out, before the first row") {
    testing::temp_folder folder;
    const auto file = folder.write("in.csv",
                                   "email,password\n"
                                   "a@x.io,long-enough-1\n"
                                   "\n"
                                   "a@x.io,long-enough-2\n"
                                   "not an email,long-enough-3\n");
    const auto layout = find_layout(file, {});
    row_source source(file, layout, {});
    CHECK(source.records() == 3);
}

TEST_CASE("a stop ends the first pass, and then no row comes") {
    std::string text = "email,password\n";
    for (int n = 0; n < 10'000; ++n) {
        text += std::to_string(n) + "u@x.io,long-enough\n";
    }
    testing::temp_folder folder;
    const auto file = folder.write("in.csv", text);
    const auto layout = find_layout(file, {});
    int asked = 0;
    row_source source(file, layout, {}, [&asked] { return ++asked == 2; });
    CHECK(asked == 2);
    CHECK(source.records() < 10'000);
    user_row row;
    CHECK_FALSE(source.next(row));
}
