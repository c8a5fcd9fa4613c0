#include "convex_importd/email.hpp"

#include <doctest/doctest.h>

using namespace convex_importd;

namespace {

std::string normalised(std::string_view text, email_case letter_case = email_case::lower) {
    const auto checked = normalise_email(text, letter_case);
    REQUIRE_FALSE(checked.problem);
    return checked.email;
}

std::string problem(std::string_view text) {
    const auto checked = normalise_email(text, email_case::lower);
    REQUIRE(checked.problem);
    return *checked.problem;
}

}  // namespace

TEST_CASE("emails are trimmed and lower-cased, or keep their case when asked") {
    CHECK(normalised(" \tSara@Example.COM \t") == "sara@example.com");
    CHECK(normalised("Sara@Example.COM", email_case::preserve) == "Sara@Example.COM");
}

TEST_CASE("Unicode emails are composed (NFC) and lower-cased") {
    // "É" as E + combining acute composes to U+00C9, then lowers to U+00E9.
    CHECK(normalised("Jose\xCC\x81@Example.com") == "jos\xC3\xA9@example.com");
    CHECK(normalised("\xC3\x89LODIE@x.fr") == "\xC3\xA9lodie@x.fr");
    CHECK(normalised("\xC3\x89LODIE@x.fr", email_case::preserve) == "\xC3\x89LODIE@x.fr");
}

TEST_CASE("emails that cannot be addresses say why") {
    CHECK(problem("") == "no email");
    CHECK(problem("   ") == "no email");
    CHECK(problem("not-an-email") == "email has no @");
    CHECK(problem("a@b@c.io") == "email has more than one @");
    CHECK(problem("@x.io") == "email has nothing before the @");
    CHECK(problem("a@localhost") == "email domain is not a domain name");
    CHECK(problem("a@x..io") == "email domain is not a domain name");
    CHECK(problem("a@x.io.") == "email domain is not a domain name");
    CHECK(problem("a b@x.io") == "email contains a space or control character");
    CHECK(problem("a\x01@x.io") == "email contains a space or control character");
}

TEST_CASE("UTF-16 length counts astral characters twice, like JavaScript") {
    CHECK(utf16_length("abc") == 3);
    CHECK(utf16_length("\xC3\xA9") == 1);
    CHECK(utf16_length("\xE2\x82\xAC") == 1);
    CHECK(utf16_length("\xF0\x9F\x94\x91") == 2);
}

TEST_CASE("Unicode spaces around an email are trimmed; invisible characters inside are refused") {
    CHECK(normalised("\xC2\xA0zoe@example.com\xC2\xA0") == "zoe@example.com");  // no-break
    CHECK(normalised("\xE3\x80\x80zoe@example.com\xE2\x80\xA8") == "zoe@example.com");
    CHECK(normalised("zoe@example.com\xC2\x85") == "zoe@example.com");      // NEL
    CHECK(normalised("\xEF\xBB\xBFzoe@example.com") == "zoe@example.com");  // BOM
    CHECK(problem("zw\xE2\x80\x8B"
                  "3@example.com") ==
          "email contains a space, control or invisible character");  // ZWSP
    CHECK(problem("a\xC2\x9B"
                  "b@example.com") ==
          "email contains a space, control or invisible character");  // C1 CSI
    CHECK(problem("a\xC2\xA0"
                  "b@example.com") == "email contains a space, control or invisible character");
}
