#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace convex_importd {

enum class byte_order : std::uint8_t { little_endian, big_endian };

/// Turns UTF-16 bytes into UTF-8, chunk by chunk: a code unit or surrogate pair split
/// between two chunks is carried over. What cannot be decoded (an unpaired surrogate, an odd
/// byte at the end) becomes the byte 0xFF, which is never valid UTF-8, so that the record
/// holding it is reported as not UTF-8 instead of being silently altered.
class utf16_decoder {
public:
    explicit utf16_decoder(byte_order order) : order_(order) {}

    /// Appends the UTF-8 for `bytes` to `out`.
    void decode(std::string_view bytes, std::string& out);

    /// Flushes what is left at the end of the input.
    void finish(std::string& out);

private:
    void unit(std::uint16_t value, std::string& out);

    byte_order order_;
    bool have_byte_ = false;
    std::uint8_t byte_ = 0;
    std::uint16_t high_surrogate_ = 0;
};

/// Appends the UTF-8 encoding of one code point.
void append_utf8(std::uint32_t code_point, std::string& out);

}  // namespace convex_importd
