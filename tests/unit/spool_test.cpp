#include "convex_importd/spool.hpp"

#include <doctest/doctest.h>

#include "test_files.hpp"

using namespace convex_importd;
namespace fs = std::filesystem;

TEST_CASE("only finished, visible .csv names are importable") {
    CHECK(spool::importable_name("users.csv"));
    CHECK_FALSE(spool::importable_name(".users.csv"));
    CHECK_FALSE(spool::importable_name("users.csv.tmp"));
    CHECK_FALSE(spool::importable_name("users.csv.part"));
    CHECK_FALSE(spool::importable_name("users.txt"));
    CHECK_FALSE(spool::importable_name(".csv"));
}

TEST_CASE("a file travels inbox, processing, done; a name seen before gets a new one") {
    testing::temp_folder folder;
    spool files(folder.path());
    CHECK(fs::is_directory(folder.path() / "failed"));

    folder.write("inbox/users.csv", "email,password\n");
    folder.write("inbox/.hidden.csv", "x");
    const auto waiting = files.waiting_files();
    REQUIRE(waiting.size() == 1);

    const auto claimed = files.claim(waiting[0]);
    REQUIRE(claimed);
    CHECK(*claimed == folder.path() / "processing/users.csv");
    CHECK(files.unfinished_files() == std::vector<fs::path>{*claimed});
    CHECK(files.results_path(*claimed) == folder.path() / "done/users.csv.results.csv");
    CHECK(files.finish(*claimed) == folder.path() / "done/users.csv");
    CHECK_FALSE(files.claim(waiting[0]));  // gone: nothing to claim

    folder.write("inbox/users.csv", "again");
    const auto again = files.claim(folder.path() / "inbox/users.csv");
    REQUIRE(again);
    CHECK(again->filename() == "users-2.csv");
    CHECK(files.fail(*again, "no header") == folder.path() / "failed/users-2.csv");
    CHECK(testing::read_all(folder.path() / "failed/users-2.csv.error.txt") == "no header\n");
}

TEST_CASE("observing the inbox reports each importable file's size and mtime") {
    testing::temp_folder folder;
    spool files(folder.path());
    folder.write("inbox/users.csv", "email,password\n");
    folder.write("inbox/users.csv.tmp", "half a file");

    const auto seen = files.observe_inbox();
    REQUIRE(seen.size() == 1);
    CHECK(seen[0].path == folder.path() / "inbox/users.csv");
    CHECK(seen[0].size == 15);
    CHECK(seen[0].modified == fs::last_write_time(folder.path() / "inbox/users.csv"));
}

TEST_CASE("a very long name is shortened when claimed, so its results file still fits") {
    testing::temp_folder folder;
    spool files(folder.path());
    const std::string long_name = std::string(240, 'L') + ".csv";
    folder.write("inbox/" + long_name, "email,password\n");

    const auto claimed = files.claim(folder.path() / "inbox" / long_name);
    REQUIRE(claimed);
    const std::string name = claimed->filename().string();
    CHECK(name.size() <= 200);
    CHECK(name.ends_with(".csv"));
    CHECK(name.starts_with(std::string(100, 'L')));
    CHECK(files.results_path(*claimed).filename().string().size() + 5 < 255);
}
