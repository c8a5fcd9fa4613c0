#include "convex_importd/status_file.hpp"

#include <sys/stat.h>

#include <doctest/doctest.h>

#include "test_files.hpp"

using namespace convex_importd;
namespace fs = std::filesystem;

TEST_CASE("the status report is one JSON document with the counters") {
    status_report report;
    report.state = "importing";
    report.started = "2024-05-01T12:00:00.000Z";
    report.updated = "2024-05-01T12:00:05.000Z";
    report.pid = 42;
    import_progress running;
    running.file = "a \"b\".csv";
    running.total = 4;
    running.counts[0] = 1;
    running.seconds = 1.0;
    report.active.push_back(running);
    report.totals.files_finished = 2;
    report.totals.counts[0] = 7;
    report.totals.counts[5] = 1;

    const std::string json = status_json(report);

    CHECK(json.find("\"state\":\"importing\",\"started\":\"2024-05-01T12:00:00.000Z\"") !=
          std::string::npos);
    CHECK(json.find("\"pid\":42") != std::string::npos);
    CHECK(json.find("{\"file\":\"a \\\"b\\\".csv\",\"total\":4,\"done\":1,\"percent\":25.0,"
                    "\"rows_per_s\":1.0,\"eta_s\":3,\"seconds\":1.0,\"counts\":{\"created\":1,") !=
          std::string::npos);
    CHECK(json.find("\"totals\":{\"files_finished\":2,\"files_failed\":0,"
                    "\"files_interrupted\":0,\"rows\":8,\"counts\":{\"created\":7,\"exists\":0,"
                    "\"rejected\":0,\"invalid\":0,\"duplicate\":0,\"failed\":1,\"skipped\":0}}") !=
          std::string::npos);
}

TEST_CASE("unknown totals are null") {
    status_report report;
    import_progress counting;
    counting.file = "a.csv";
    report.active.push_back(counting);
    CHECK(status_json(report).find("\"total\":null,\"done\":0,\"percent\":null") !=
          std::string::npos);
}

TEST_CASE("the file is replaced whole, with the asked mode, and nothing is left beside it") {
    testing::temp_folder folder;
    const fs::path path = folder.path() / "state" / "status.json";

    replace_file(path, "{\"n\":1}\n", 0640);
    replace_file(path, "{\"n\":2}\n", 0640);

    CHECK(testing::read_all(path) == "{\"n\":2}\n");
    struct stat status {};
    REQUIRE(::stat(path.c_str(), &status) == 0);
    CHECK((status.st_mode & 0600) == 0600);
    CHECK((status.st_mode & 0137) == 0);  // never writable by group, never open to others
    int entries = 0;
    for ([[maybe_unused]] const auto& entry : fs::directory_iterator(path.parent_path())) {
        ++entries;
    }
    CHECK(entries == 1);
}
