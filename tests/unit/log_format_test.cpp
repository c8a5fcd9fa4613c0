#include "convex_importd/log_format.hpp"

#include <doctest/doctest.h>

#include "convex_importd/logging.hpp"

using namespace convex_importd;

TEST_CASE("a log message splits into its event and its key=value fields") {
    const auto parts = split_log_message("file finished file=a.csv rows=2 seconds=0.5");

    CHECK(parts.event == "file finished");
    REQUIRE(parts.fields.size() == 3);
    CHECK(parts.fields[0] == std::pair<std::string, std::string>{"file", "a.csv"});
    CHECK(parts.fields[2] == std::pair<std::string, std::string>{"seconds", "0.5"});
}

TEST_CASE("configuration keys with dots are field names too") {
    const auto parts = split_log_message("starting version=0.1.0 import.concurrency=16");

    CHECK(parts.event == "starting");
    REQUIRE(parts.fields.size() == 2);
    CHECK(parts.fields[1] == std::pair<std::string, std::string>{"import.concurrency", "16"});
}

TEST_CASE("quoted values come back as log_value wrote them") {
    const std::string name = "my \"team\" = all.csv";
    const auto parts = split_log_message("file claimed file=" + log_value(name) + " bytes=9");

    REQUIRE(parts.fields.size() == 2);
    CHECK(parts.fields[0].second == name);
    CHECK(parts.fields[1].second == "9");
}

TEST_CASE("a message of another shape stays whole") {
    CHECK(split_log_message("stopped").event == "stopped");
    CHECK(split_log_message("stopped").fields.empty());
    const auto odd = split_log_message("answer line=3 then words");
    CHECK(odd.event == "answer line=3 then words");
    CHECK(odd.fields.empty());
    CHECK(split_log_message("x file=\"unterminated").event == "x file=\"unterminated");
}

TEST_CASE("the event is what rate limiting compares") {
    CHECK(log_event("request failed line=4 error=x") == "request failed");
    CHECK(log_event("request failed line=5 error=y") == "request failed");
    CHECK(log_event("stopped") == "stopped");
}

TEST_CASE("a JSON line holds time, level, logger, event and the fields, numbers unquoted") {
    const std::string line =
        json_log_line("2024-05-01T12:00:00.000Z", "info", "import",
                      "file finished file=\"a b.csv\" rows=2 rate=1.5 eta_s=unknown");

    CHECK(line ==
          "{\"time\":\"2024-05-01T12:00:00.000Z\",\"level\":\"info\",\"logger\":\"import\","
          "\"event\":\"file finished\",\"file\":\"a b.csv\",\"rows\":2,\"rate\":1.5,"
          "\"eta_s\":\"unknown\"}");
}
