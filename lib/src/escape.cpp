#include "convex_importd/escape.hpp"

#include <array>

namespace convex_importd {

namespace {

void append_escaped(std::string& out, unsigned char byte) {
    constexpr std::array<char, 16> hex{'0', '1', '2', '3', '4', '5', '6', '7',
                                       '8', '9', 'a', 'b', 'c', 'd', 'e', 'f'};
    out.append("\\x");
    out.push_back(hex[byte >> 4]);
    out.push_back(hex[byte & 0xF]);
}

// C1 controls are U+0080 to U+009F: in UTF-8, 0xC2 followed by 0x80 to 0x9F.
bool c1_control_at(std::string_view text, std::size_t i) {
    return static_cast<unsigned char>(text[i]) == 0xC2 && i + 1 < text.size() &&
           static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
           static_cast<unsigned char>(text[i + 1]) <= 0x9F;
}

}  // namespace

bool has_controls(std::string_view text) {
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto byte = static_cast<unsigned char>(text[i]);
        if (byte < 0x20 || byte == 0x7F || c1_control_at(text, i)) {
            return true;
        }
    }
    return false;
}

std::string escape_controls(std::string_view text) {
    if (!has_controls(text)) {
        return std::string(text);  // almost every value: one scan and a copy
    }

    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto byte = static_cast<unsigned char>(text[i]);
        if (byte < 0x20 || byte == 0x7F) {
            append_escaped(out, byte);
        } else if (c1_control_at(text, i)) {
            append_escaped(out, static_cast<unsigned char>(text[++i]));
        } else {
            out.push_back(text[i]);
        }
    }
    return out;
}

}  // namespace convex_importd
