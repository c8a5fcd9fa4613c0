#include "convex_importd/logging.hpp"

#include <sys/stat.h>

#include <doctest/doctest.h>

#include <thread>

#include "test_files.hpp"

using namespace convex_importd;
namespace fs = std::filesystem;

namespace {

std::size_t count_lines(const std::string& text) {
    return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

/// Sends the loggers back to stderr alone when a test ends.
struct restore_logging {
    ~restore_logging() { setup_logging({}); }
};

}  // namespace

TEST_CASE("the log file is reopened by name after logrotate moved it away") {
    testing::temp_folder folder;
    const restore_logging restore;
    const fs::path file = folder.path() / "convex-importd.log";
    setup_logging({file, "info", "text"});

    log::main().info("before rotation n=1");
    fs::rename(file, folder.path() / "convex-importd.log.1");
    log::main().info("still the old file n=2");
    reopen_log_file();
    log::main().info("after rotation n=3");

    const std::string rotated = testing::read_all(folder.path() / "convex-importd.log.1");
    CHECK(rotated.find("info main: before rotation n=1") != std::string::npos);
    CHECK(rotated.find("still the old file n=2") != std::string::npos);
    const std::string fresh = testing::read_all(file);
    CHECK(count_lines(fresh) == 1);
    CHECK(fresh.find("after rotation n=3") != std::string::npos);

    struct stat status {};
    REQUIRE(::stat(file.c_str(), &status) == 0);
    CHECK((status.st_mode & 0137) == 0);
}

TEST_CASE("json format writes one object per line") {
    testing::temp_folder folder;
    const restore_logging restore;
    const fs::path file = folder.path() / "json.log";
    setup_logging({file, "info", "json"});

    log::import().info("file finished file={} rows=2", log_value("a b.csv"));

    const std::string line = testing::read_all(file);
    CHECK(line.starts_with("{\"time\":\""));
    CHECK(line.find("\"level\":\"info\",\"logger\":\"import\",\"event\":\"file finished\","
                    "\"file\":\"a b.csv\",\"rows\":2}\n") != std::string::npos);
}

TEST_CASE("a flood of one warning is cut to the burst; other lines still pass") {
    testing::temp_folder folder;
    const restore_logging restore;
    const fs::path file = folder.path() / "flood.log";
    setup_logging({file, "info", "text"});

    for (int i = 0; i < 100; ++i) {
        log::http().warn("request failed line={}", i);
        log::import().info("progress done={}", i);
    }

    const std::string text = testing::read_all(file);
    CHECK(count_lines(text) == 110);
    CHECK(text.find("request failed line=9\n") != std::string::npos);
    CHECK(text.find("request failed line=10\n") == std::string::npos);
    CHECK(text.find("progress done=99\n") != std::string::npos);
}

TEST_CASE("once the window closes, the count of dropped lines is written") {
    testing::temp_folder folder;
    const restore_logging restore;
    const fs::path file = folder.path() / "dropped.log";
    setup_logging({file, "info", "text", std::chrono::milliseconds(100)});

    for (int i = 0; i < 25; ++i) {
        log::http().error("request failed line={}", i);
    }
    report_dropped_log_lines();
    CHECK(testing::read_all(file).find("dropped") == std::string::npos);
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    report_dropped_log_lines();

    const std::string text = testing::read_all(file);
    CHECK(count_lines(text) == 11);
    CHECK(text.find("warning http: log lines dropped event=\"request failed\" dropped=15 "
                    "window_ms=100\n") != std::string::npos);
}

TEST_CASE("levels and formats are checked; the level can change while running") {
    const restore_logging restore;
    CHECK_THROWS_AS(setup_logging({"", "loud", "text"}), std::invalid_argument);
    CHECK_THROWS_AS(setup_logging({"", "info", "xml"}), std::invalid_argument);
    CHECK_THROWS_AS(setup_logging({"/nonexistent/dir/x.log", "info", "text"}), std::system_error);

    setup_logging({});
    set_log_level("debug");
    CHECK(log::http().should_log(spdlog::level::debug));
    set_log_level("warn");
    CHECK_FALSE(log::http().should_log(spdlog::level::info));
    CHECK_THROWS_AS(set_log_level("loud"), std::invalid_argument);
}
