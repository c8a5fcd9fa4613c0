#include "convex_importd/user_row.hpp"

#include <doctest/doctest.h>

#include "test_files.hpp"

using namespace convex_importd;

namespace {

// Reads the records of `text`; the first is the header.
std::vector<csv_record> records_of(std::string_view text) {
    testing::temp_folder folder;
    csv_reader reader(folder.write("in.csv", text), {});
    std::vector<csv_record> records(1);
    while (reader.next(records.back())) {
        records.emplace_back();
    }
    records.pop_back();
    return records;
}

}  // namespace

TEST_CASE("header names are trimmed, matched without case, and aliases are known") {
    const auto records = records_of(" Phone ,E-Mail , TEMPORARY Password,,\n");
    const auto columns = map_header(header_names(records[0]), {});
    CHECK(columns.email == 1);
    CHECK(columns.password == 2);
    CHECK(columns.header_fields == 3);
    CHECK(columns.unknown == std::vector<std::string>{"Phone"});
}

TEST_CASE("exports' spellings of the column names are recognised") {
    for (const char* header : {"E-mail Address,Temp-Password\n", "email_address,initial_password\n",
                               "Mail,TEMPORARY PASSWORD\n"}) {
        const auto records = records_of(header);
        const auto columns = map_header(header_names(records[0]), {});
        CHECK(columns.email == 0);
        CHECK(columns.password == 1);
    }
}

TEST_CASE("a header without the password column, or with two email columns, is refused") {
    const auto missing = records_of("email,name\n");
    CHECK_THROWS_WITH_AS(map_header(header_names(missing[0]), {}),
                         "no password column in the header", header_error);
    const auto twice = records_of("email,mail,password\n");
    CHECK_THROWS_WITH_AS(map_header(header_names(twice[0]), {}),
                         "the header names the email column twice (1 and 2)", header_error);
}

TEST_CASE("named columns and params are found by their own names") {
    const auto records = records_of("login,secret,Full Name\n");
    column_options options;
    options.email_column = "Login";
    options.password_column = "secret";
    options.params.emplace_back("full name", "name");
    const auto columns = map_header(header_names(records[0]), options);
    CHECK(columns.email == 0);
    CHECK(columns.password == 1);
    REQUIRE(columns.params.size() == 1);
    CHECK(columns.params[0] == std::pair<std::size_t, std::string>{2, "name"});
}

TEST_CASE("rows: emails are normalised, passwords kept byte for byte, faults are invalid") {
    const auto records = records_of(
        "email,password,name\n"
        " \tA@X.io ,  pass word \n"
        ",pw-long-enough\n"
        "b@x.io,\n"
        "c@x.io\n"
        "d@x.io,\xff\xfe-long-enough\n"
        "e@x.io,Seven77\n"
        "not-an-email,long-enough-1\n"
        "f@x.io,Sommer,2024!,Frank\n"
        "g@x.io,long-enough-2,Name,, \n");
    const auto columns = map_header(header_names(records[0]), {});
    const row_rules rules;

    const auto good = make_user_row(records[1], columns, 0, rules);
    CHECK_FALSE(good.verdict);
    CHECK(good.email == "a@x.io");
    CHECK(good.password.view() == "  pass word ");
    CHECK(good.line == 2);

    const auto expect_invalid = [&](std::size_t at, const char* reason, const char* email) {
        const auto row = make_user_row(records[at], columns, at - 1, rules);
        REQUIRE(row.verdict);
        CHECK(*row.verdict == outcome::invalid);
        CHECK(row.detail == reason);
        CHECK(row.email == email);
        CHECK(row.password.view().empty());
    };
    expect_invalid(2, "no email", "");
    expect_invalid(3, "empty password", "b@x.io");
    expect_invalid(4, "1 fields, expected 3", "");
    expect_invalid(5, "not valid UTF-8", "");
    expect_invalid(6, "password shorter than 8 characters", "e@x.io");
    expect_invalid(7, "email has no @", "");        // it could be a password: not repeated
    expect_invalid(8, "4 fields, expected 3", "");  // "Sommer" alone is not the password
    CHECK_FALSE(make_user_row(records[9], columns, 8, rules).verdict);  // padded cells only
}

TEST_CASE("each field must be UTF-8 on its own, read plain or by the state machine") {
    // "\xC3" then "\xA9" would spell "é" if the fields were run together.
    for (const std::string end : {"\n", "\r\n"}) {
        const auto records =
            records_of("email,password,name" + end + "h@x.io,long-enough-3\xC3,\xA9" + end);
        const auto columns = map_header(header_names(records[0]), {});
        const auto row = make_user_row(records[1], columns, 0, row_rules{});
        REQUIRE(row.verdict);
        CHECK(row.detail == "not valid UTF-8");
    }
}

TEST_CASE("the password length check counts UTF-16 units and can be turned off") {
    const auto records = records_of(
        "email,password\na@x.io,\xF0\x9F\x94\x91\xF0\x9F\x94\x91"
        "abcd\n");
    const auto columns = map_header(header_names(records[0]), {});
    CHECK_FALSE(make_user_row(records[1], columns, 0, row_rules{}).verdict);  // 2+2+4 units

    row_rules strict;
    strict.min_password_length = 9;
    CHECK(make_user_row(records[1], columns, 0, strict).verdict == outcome::invalid);
    strict.min_password_length = 0;
    CHECK_FALSE(make_user_row(records[1], columns, 0, strict).verdict);
}

TEST_CASE("a secret string is wiped when moved from and when cleared") {
    secret_string first("hunter2-long-enough-to-leave-sso");
    secret_string second(std::move(first));
    CHECK(first.view().empty());
    CHECK(second.view() == "hunter2-long-enough-to-leave-sso");
    second.wipe();
    CHECK(second.view().empty());
}

TEST_CASE("a secret string's storage past its value is always zero, whatever it held before") {
    const std::string long_value(100, 'x');
    secret_string secret;
    CHECK(secret.spare_is_zero());
    for (const std::string_view value :
         {std::string_view("a short one"), std::string_view(long_value),
          std::string_view("shorter"), std::string_view("")}) {
        secret.assign(value);
        CHECK(secret.view() == value);
        CHECK(secret.spare_is_zero());
    }

    secret.assign(long_value);
    secret_string moved(std::move(secret));
    CHECK(moved.spare_is_zero());
    CHECK(secret.spare_is_zero());

    secret_string short_one("hunter2");
    secret_string target("another value, long enough to leave the small-string buffer");
    target = std::move(short_one);
    CHECK(target.view() == "hunter2");
    CHECK(target.spare_is_zero());
    CHECK(short_one.spare_is_zero());
    target.wipe();
    CHECK(target.spare_is_zero());
}

TEST_CASE("a wipe zeros values of every length, short ones without a call included") {
    // Up to 7 bytes, 8 to 16, and longer take different ways to zero.
    secret_string secret;
    for (std::size_t size = 0; size <= 40; ++size) {
        CAPTURE(size);
        secret.assign(std::string(size, static_cast<char>('a' + size % 26)));
        secret.wipe();
        CHECK(secret.view().empty());
        CHECK(secret.spare_is_zero());
    }
}

TEST_CASE("a row refilled with a shorter password keeps nothing of the longer one") {
    const auto records = records_of(
        "email,password\na@x.io,a-long-password-that-needs-the-heap\nb@x.io,shortpass\n"
        "c@x.io,short\n");
    const auto columns = map_header(header_names(records[0]), {});
    user_row row;
    fill_user_row(row, records[1], columns, 0, row_rules{});
    fill_user_row(row, records[2], columns, 1, row_rules{});
    CHECK(row.password.view() == "shortpass");
    CHECK(row.password.spare_is_zero());
    fill_user_row(row, records[3], columns, 2, row_rules{});
    CHECK(row.verdict == outcome::invalid);  // too short: wiped, not kept
    CHECK(row.password.view().empty());
    CHECK(row.password.spare_is_zero());
}

TEST_CASE("a row refilled in place reads the same as a new row, whatever it held before") {
    const auto records = records_of(
        "email,password,name\n"
        "Ann@Example.COM,long-enough-password,Ann\n"
        "b@x.io,short,Bo\n"
        "not an address,long-enough-password,Cy\n"
        "d@x.io,\n"
        "E@x.io,long-enough-password\n"
        "f@x.io,pass,word,spilled\n"
        "\xC3\xA9@x.io,long-enough-password,\xC3\xA9\n"
        "g@x.io,long-\xFF-password,G\n"
        ",long-enough-password,H\n"
        "i@x.io,,\n"
        "J@X.IO,another-long-password,J\n");
    column_options options;
    options.params = {{"name", "name"}};
    const auto columns = map_header(header_names(records[0]), options);

    user_row refilled;
    for (std::size_t i = 1; i < records.size(); ++i) {
        CAPTURE(i);
        fill_user_row(refilled, records[i], columns, i - 1, row_rules{});
        const user_row fresh = make_user_row(records[i], columns, i - 1, row_rules{});
        CHECK(refilled.index == fresh.index);
        CHECK(refilled.line == fresh.line);
        CHECK(refilled.email == fresh.email);
        CHECK(refilled.password.view() == fresh.password.view());
        CHECK(refilled.params == fresh.params);
        CHECK(refilled.verdict == fresh.verdict);
        CHECK(refilled.detail == fresh.detail);
    }
}

TEST_CASE("a record is a fragment only when short of the header without its padding") {
    const auto records = records_of(
        "email,password,name\n"
        "x\n"
        "a@x.io\n"
        ",,  \n"
        "pw,b,c\n"
        "pw,,,\t,\n"
        "pw,,,x\n"
        "a@x.io,,,\t,\n");
    const auto columns = map_header(header_names(records[0]), {});
    const std::vector<bool> expected{true, false, true, false, true, false, false};
    for (std::size_t i = 1; i < records.size(); ++i) {
        CAPTURE(i);
        CHECK(looks_like_fragment(records[i], columns, row_rules{}) == expected[i - 1]);
    }
}
