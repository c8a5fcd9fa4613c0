#include "convex_importd/json_text.hpp"

#include <fmt/format.h>

namespace convex_importd {

namespace {

constexpr std::string_view replacement_character = "\xEF\xBF\xBD";

std::size_t utf8_length_from_lead(unsigned char lead) {
    if (lead < 0x80) {
        return 1;
    }
    if ((lead & 0xE0) == 0xC0) {
        return 2;
    }
    if ((lead & 0xF0) == 0xE0) {
        return 3;
    }
    return (lead & 0xF8) == 0xF0 ? 4 : 0;
}

// Length of the UTF-8 sequence that starts at text[at], or 0 when it is not a valid one.
std::size_t utf8_sequence_length(std::string_view text, std::size_t at) {
    const std::size_t length = utf8_length_from_lead(static_cast<unsigned char>(text[at]));
    if (length == 0 || at + length > text.size()) {
        return 0;
    }
    for (std::size_t i = 1; i < length; ++i) {
        if ((static_cast<unsigned char>(text[at + i]) & 0xC0) != 0x80) {
            return 0;
        }
    }
    return length;
}

void append_escaped_ascii(std::string& out, char c) {
    switch (c) {
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\r':
            out += "\\r";
            break;
        case '\t':
            out += "\\t";
            break;
        default:
            if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
                out += fmt::format("\\u{:04x}", static_cast<unsigned char>(c));
            } else {
                out.push_back(c);
            }
    }
}

}  // namespace

void append_json_text(std::string& out, std::string_view value) {
    out.push_back('"');
    for (std::size_t at = 0; at < value.size();) {
        const std::size_t length = utf8_sequence_length(value, at);
        if (length == 0) {
            out += replacement_character;
            ++at;
        } else if (length == 1) {
            append_escaped_ascii(out, value[at]);
            ++at;
        } else {
            out.append(value.substr(at, length));
            at += length;
        }
    }
    out.push_back('"');
}

bool looks_like_json_number(std::string_view value) {
    if (value.starts_with('-')) {
        value.remove_prefix(1);
    }
    const auto digits = [](std::string_view part) {
        return !part.empty() && part.find_first_not_of("0123456789") == std::string_view::npos;
    };
    const auto dot = value.find('.');
    const std::string_view whole = value.substr(0, dot);
    if (!digits(whole) || (whole.size() > 1 && whole.front() == '0')) {
        return false;
    }
    return dot == std::string_view::npos || digits(value.substr(dot + 1));
}

}  // namespace convex_importd
