#include "convex_importd/utf16_decoder.hpp"

#include <doctest/doctest.h>

using namespace convex_importd;

namespace {

std::string decode_in_pieces(std::string_view bytes, byte_order order, std::size_t piece) {
    utf16_decoder decoder(order);
    std::string out;
    for (std::size_t at = 0; at < bytes.size(); at += piece) {
        decoder.decode(bytes.substr(at, piece), out);
    }
    decoder.finish(out);
    return out;
}

}  // namespace

TEST_CASE("UTF-16 in either byte order decodes to UTF-8, however the bytes are split") {
    // "a", "é", "€", U+1F511 (a surrogate pair)
    const std::string little("a\0\xE9\0\xAC\x20\x3D\xD8\x11\xDD", 10);
    const std::string big("\0a\0\xE9\x20\xAC\xD8\x3D\xDD\x11", 10);
    const std::string expected = "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x94\x91";
    for (std::size_t piece = 1; piece <= 10; ++piece) {
        CHECK(decode_in_pieces(little, byte_order::little_endian, piece) == expected);
        CHECK(decode_in_pieces(big, byte_order::big_endian, piece) == expected);
    }
}

TEST_CASE("what cannot be decoded becomes a byte that is never valid UTF-8") {
    const std::string lone_low(
        "\x11\xDD"
        "a\0",
        4);
    CHECK(decode_in_pieces(lone_low, byte_order::little_endian, 4) ==
          "\xFF"
          "a");
    const std::string lone_high(
        "\x3D\xD8"
        "a\0",
        4);
    CHECK(decode_in_pieces(lone_high, byte_order::little_endian, 4) ==
          "\xFF"
          "a");
    const std::string odd("a\0b", 3);
    CHECK(decode_in_pieces(odd, byte_order::little_endian, 3) == "a\xFF");
}
