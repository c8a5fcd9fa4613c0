#include "convex_importd/email.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "test_random.hpp"

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

TEST_CASE("the fast path for short ASCII emails agrees with the byte-by-byte checks") {
    // Pieces that each decide a check, glued at random into emails of 0 to 80 bytes: the
    // fast path stops at 64 bytes and reads 16 at a time, so the lengths cross both edges.
    const std::vector<std::string_view> pieces = {
        "a", "Z",    "m",    "0",    "@", ".",        "..",           " ",  "\t",   "-",  "_",
        "+", "\x01", "\x1F", "\x7F", "~", "\xC3\xA9", "\xE2\x80\x8B", "A@", "@B.C", ".io"};
    testing::test_random generator(0x2545F4914F6CDD1DULL);
    const auto random = [&generator](std::size_t below) { return generator.below(below); };

    std::vector<std::string> emails = {"", "@", "a@", "a@.", "a@b.", "a@.b", "a@b.c"};
    for (const std::size_t local : {2, 3, 4, 7, 8, 11, 12, 14, 15, 16, 60, 61, 62, 63, 64}) {
        emails.push_back(std::string(local, 'A') + "@b.c");
        emails.push_back(std::string(local, 'a') + "@");
    }
    // Letters only, for emails that pass the checks: the rules after the first one get a turn.
    const std::size_t letters = 4;
    const auto glued = [&](std::size_t wanted, std::size_t choices) {
        std::string text;
        while (text.size() < wanted) {
            text += pieces[random(choices)];
        }
        return text;
    };
    for (int n = 0; n < 20000; ++n) {
        emails.push_back(glued(random(81), pieces.size()));
        const std::size_t local = n % 4 == 0 ? pieces.size() : letters;
        emails.push_back(glued(random(30), local) + "@" + glued(random(20), letters) + "." +
                         glued(random(8), letters));
    }
    std::size_t valid = 0;
    for (const auto& email : emails) {
        for (const auto letter_case : {email_case::lower, email_case::preserve}) {
            const auto fast = normalise_email(email, letter_case);
            const auto bytewise = detail::normalise_email_bytewise(email, letter_case);
            CAPTURE(email);
            CHECK(fast.email == bytewise.email);
            CHECK(fast.problem == bytewise.problem);
            valid += fast.problem ? 0 : 1;
        }
    }
    CHECK(valid > 1000);
}
