#include "convex_importd/answer.hpp"

#include <doctest/doctest.h>

using namespace convex_importd;

TEST_CASE("a successful function call is created") {
    const auto answer =
        classify_answer(200, R"({"status":"success","value":{"tokens":null},"logLines":[]})", "pw");
    CHECK(answer.result == outcome::created);
    CHECK(answer.detail.empty());
}

TEST_CASE("a development error for an existing account is exists, with the thrown text") {
    const auto body = R"({"status":"error","errorMessage":"[Request ID: 0123456789abcdef] )"
                      R"(Server Error\nUncaught Error: Account a@x.io already exists\n    at )"
                      R"js(signIn (auth.js:1:1)"})js";
    const auto answer = classify_answer(200, body, "pw");
    CHECK(answer.result == outcome::exists);
    CHECK(answer.detail == "Account a@x.io already exists");
}

TEST_CASE("older backends answer function errors with 560") {
    const auto body =
        R"({"status":"error","errorMessage":"Uncaught Error: Invalid password\n  at x"})";
    const auto answer = classify_answer(560, body, "pw");
    CHECK(answer.result == outcome::rejected);
    CHECK(answer.detail == "Invalid password");
}

TEST_CASE("a redacted production error is rejected with its first line") {
    const auto body =
        R"({"status":"error","errorMessage":"[Request ID: 0123456789abcdef] Server Error"})";
    const auto answer = classify_answer(200, body, "pw");
    CHECK(answer.result == outcome::rejected);
    CHECK(answer.detail == "Server Error");
}

TEST_CASE("an HTTP error is failed with its status, code and message") {
    const auto body = R"({"code":"TooManyConcurrentRequests","message":"Too many\nrequests"})";
    const auto answer = classify_answer(429, body, "pw");
    CHECK(answer.result == outcome::failed);
    CHECK(answer.detail == "HTTP 429 TooManyConcurrentRequests: Too many");
}

TEST_CASE("an answer that is not JSON is failed, not a crash") {
    CHECK(classify_answer(200, "<html>", "pw").result == outcome::failed);
    CHECK(classify_answer(502, "<html>", "pw").detail == "HTTP 502");
    CHECK(classify_answer(200, R"({"value":1})", "pw").result == outcome::failed);
}

TEST_CASE("a password echoed by an app's error never reaches the detail") {
    const auto body =
        R"({"status":"error","errorMessage":"Uncaught Error: weak: Secret-99 is common"})";
    const auto answer = classify_answer(200, body, "Secret-99");
    CHECK(answer.detail.find("Secret-99") == std::string::npos);
    CHECK(answer.detail == "weak: [password] is common");
}
