#include "convex_importd/escape.hpp"

#include <doctest/doctest.h>

#include "convex_importd/logging.hpp"

using namespace convex_importd;

TEST_CASE("control characters are written as \\xNN; other text, UTF-8 included, passes") {
    CHECK(escape_controls("plain caf\xC3\xA9") == "plain caf\xC3\xA9");
    CHECK(escape_controls("a\nb\rc\td\x7F") == "a\\x0ab\\x0dc\\x09d\\x7f");
    CHECK(escape_controls("\x1b[2J") == "\\x1b[2J");
    CHECK(escape_controls("x\xC2\x9B"
                          "y") == "x\\x9by");  // C1 CSI
}

TEST_CASE("a log value never splits the line") {
    CHECK(log_value("users.csv") == "users.csv");
    CHECK(log_value("nl\nname.csv") == "\"nl\\\\x0aname.csv\"");
    CHECK(log_value("my users.csv") == "\"my users.csv\"");
    CHECK(log_value("a\"b") == "\"a\\\"b\"");
    CHECK(log_value("") == "\"\"");
}

TEST_CASE("has_controls says whether escaping would change the text") {
    CHECK_FALSE(has_controls("plain caf\xC3\xA9 \xC2\xA0nbsp"));
    CHECK(has_controls("tab\there"));
    CHECK(has_controls("del\x7F"));
    CHECK(has_controls("c1 \xC2\x85"));
    CHECK_FALSE(has_controls(""));
}
