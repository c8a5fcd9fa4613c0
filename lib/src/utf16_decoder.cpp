#include "convex_importd/utf16_decoder.hpp"

namespace convex_importd {

namespace {

constexpr char undecodable = '\xFF';

bool is_high_surrogate(std::uint16_t unit) {
    return unit >= 0xD800 && unit <= 0xDBFF;
}
bool is_low_surrogate(std::uint16_t unit) {
    return unit >= 0xDC00 && unit <= 0xDFFF;
}

}  // namespace

void append_utf8(std::uint32_t code_point, std::string& out) {
    if (code_point < 0x80) {
        out.push_back(static_cast<char>(code_point));
    } else if (code_point < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (code_point >> 6)));
        out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
    } else if (code_point < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (code_point >> 12)));
        out.push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (code_point >> 18)));
        out.push_back(static_cast<char>(0x80 | ((code_point >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
    }
}

void utf16_decoder::decode(std::string_view bytes, std::string& out) {
    for (const char c : bytes) {
        const auto value = static_cast<std::uint8_t>(c);
        if (!have_byte_) {
            byte_ = value;
            have_byte_ = true;
            continue;
        }
        have_byte_ = false;
        const auto first = static_cast<std::uint16_t>(byte_);
        const auto second = static_cast<std::uint16_t>(value);
        unit(order_ == byte_order::little_endian ? static_cast<std::uint16_t>(first | second << 8)
                                                 : static_cast<std::uint16_t>(first << 8 | second),
             out);
    }
}

void utf16_decoder::unit(std::uint16_t value, std::string& out) {
    if (high_surrogate_ != 0) {
        const std::uint16_t high = high_surrogate_;
        high_surrogate_ = 0;
        if (is_low_surrogate(value)) {
            append_utf8(0x10000 + ((high - 0xD800u) << 10) + (value - 0xDC00u), out);
            return;
        }
        out.push_back(undecodable);
    }

    if (is_high_surrogate(value)) {
        high_surrogate_ = value;
    } else if (is_low_surrogate(value)) {
        out.push_back(undecodable);
    } else {
        append_utf8(value, out);
    }
}

void utf16_decoder::finish(std::string& out) {
    if (high_surrogate_ != 0 || have_byte_) {
        out.push_back(undecodable);
    }
    high_surrogate_ = 0;
    have_byte_ = false;
}

}  // namespace convex_importd
