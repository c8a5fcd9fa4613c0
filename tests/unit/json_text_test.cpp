#include "convex_importd/json_text.hpp"

#include <doctest/doctest.h>

using namespace convex_importd;

namespace {

std::string json(std::string_view value) {
    std::string out;
    append_json_text(out, value);
    return out;
}

}  // namespace

TEST_CASE("text becomes a JSON string that always parses") {
    CHECK(json("plain") == "\"plain\"");
    CHECK(json("say \"hi\"\\") == "\"say \\\"hi\\\"\\\\\"");
    CHECK(json("a\nb\tc\x01") == "\"a\\nb\\tc\\u0001\"");
    CHECK(json("caf\xC3\xA9 \xE2\x82\xAC") == "\"caf\xC3\xA9 \xE2\x82\xAC\"");
    CHECK(json("bad \xC3 byte") == "\"bad \xEF\xBF\xBD byte\"");
    CHECK(json("cut \xE2\x82") == "\"cut \xEF\xBF\xBD\xEF\xBF\xBD\"");
}

TEST_CASE("only numbers as written pass as JSON numbers") {
    CHECK(looks_like_json_number("0"));
    CHECK(looks_like_json_number("42"));
    CHECK(looks_like_json_number("-3.25"));
    CHECK_FALSE(looks_like_json_number(""));
    CHECK_FALSE(looks_like_json_number("007"));
    CHECK_FALSE(looks_like_json_number("1."));
    CHECK_FALSE(looks_like_json_number("1e5"));
    CHECK_FALSE(looks_like_json_number("12abc"));
    CHECK_FALSE(looks_like_json_number("unknown"));
}
