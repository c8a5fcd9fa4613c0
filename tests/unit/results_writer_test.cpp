#include "convex_importd/results_writer.hpp"

#include <doctest/doctest.h>

#include "test_files.hpp"

using namespace convex_importd;

TEST_CASE("rows come out in input order whatever order they finish in") {
    testing::temp_folder folder;
    const auto target = folder.path() / "r.csv";
    {
        results_writer writer(target);
        writer.add(2, {4, "c@x.io", outcome::exists, 1, "Account c@x.io already exists"});
        writer.add(0, {2, "a@x.io", outcome::created, 1, ""});
        CHECK(writer.held_back() == 1);  // row 2 waits for row 1
        writer.add(3, {5, "d@x.io", outcome::failed, 1, "read: end of stream"});
        CHECK(writer.held_back() == 2);
        writer.add(1, {3, "b@x.io", outcome::invalid, 0, "empty password"});
        CHECK_FALSE(std::filesystem::exists(target));
        writer.commit();
    }
    CHECK(testing::read_all(target) ==
          "line,email,outcome,attempts,detail\n"
          "2,a@x.io,created,1,\n"
          "3,b@x.io,invalid,0,empty password\n"
          "4,c@x.io,exists,1,Account c@x.io already exists\n"
          "5,d@x.io,failed,1,read: end of stream\n");
    CHECK((std::filesystem::status(target).permissions() & std::filesystem::perms::others_read) ==
          std::filesystem::perms::none);
}

TEST_CASE("cells are quoted per RFC 4180 and formulas are neutralised") {
    std::string out;
    append_csv_cell(out, "a,b \"c\"");
    CHECK(out == "\"a,b \"\"c\"\"\"");

    for (const char* formula : {"=1+1", "+1", "-1", "@SUM(A1)"}) {
        out.clear();
        append_csv_cell(out, formula);
        CHECK(out == "\"'" + std::string(formula) + "\"");
    }

    out.clear();
    append_csv_cell(out, "\tx\r\n\x1b]0;owned\x07");
    CHECK(out == "\\x09x\\x0d\\x0a\\x1b]0;owned\\x07");
}

TEST_CASE("an abandoned writer leaves no file behind") {
    testing::temp_folder folder;
    {
        results_writer writer(folder.path() / "r.csv");
        writer.add(0, {2, "a@x.io", outcome::created, 1, ""});
    }
    CHECK(std::filesystem::is_empty(folder.path()));
}
