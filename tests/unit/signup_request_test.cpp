#include "convex_importd/signup_request.hpp"

#include <doctest/doctest.h>
#include <simdjson.h>

#include <string>

using namespace convex_importd;

namespace {

std::string field(simdjson::ondemand::document& doc, const char* pointer) {
    std::string_view value;
    REQUIRE(doc.at_pointer(pointer).get_string().get(value) == simdjson::SUCCESS);
    return std::string(value);
}

}  // namespace

TEST_CASE("the sign-up body carries the email, password and flow for auth:signIn") {
    user_row row;
    row.email = "a@x.io";
    row.password = secret_string("q\"uo\\te\n\x01\xC3\xA9");
    row.params.emplace_back("name", "Frank\nExample");

    std::string body;
    build_signup_body(row, body);

    simdjson::ondemand::parser parser;
    const simdjson::padded_string padded(body);
    auto doc = parser.iterate(padded).value();
    CHECK(field(doc, "/path") == "auth:signIn");
    CHECK(field(doc, "/format") == "json");
    CHECK(field(doc, "/args/provider") == "password");
    CHECK(field(doc, "/args/params/email") == "a@x.io");
    CHECK(field(doc, "/args/params/password") == "q\"uo\\te\n\x01\xC3\xA9");
    CHECK(field(doc, "/args/params/name") == "Frank\nExample");
    CHECK(field(doc, "/args/params/flow") == "signUp");
}

TEST_CASE("control characters are escaped as \\u00XX") {
    std::string out;
    append_json_string(out, std::string("a\tb\x1f", 4));
    CHECK(out == "\"a\\u0009b\\u001f\"");
}

TEST_CASE("characters to escape at either end and side by side leave the text between whole") {
    std::string out;
    append_json_string(out, "\"a long run of plain text\\\n\"");
    CHECK(out == R"("\"a long run of plain text\\\u000a\"")");
}
