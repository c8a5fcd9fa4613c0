#include "convex_importd/email.hpp"

#include <utf8proc.h>

#include <algorithm>
#include <cstdlib>
#include <memory>

namespace convex_importd {

namespace {

std::string_view trim(std::string_view text) {
    const auto first = text.find_first_not_of(" \t");
    if (first == std::string_view::npos) {
        return {};
    }
    return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

bool is_ascii(std::string_view text) {
    return std::all_of(text.begin(), text.end(),
                       [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

void lower_ascii(std::string& text) {
    for (char& c : text) {
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c - 'A' + 'a');
        }
    }
}

// NFC, and lower case when asked, through utf8proc. Input is valid UTF-8.
std::string normalise_unicode(std::string_view text, email_case letter_case) {
    utf8proc_uint8_t* mapped = nullptr;
    const auto options =
        static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE);
    const utf8proc_ssize_t length =
        utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
                     static_cast<utf8proc_ssize_t>(text.size()), &mapped, options);
    if (length < 0) {
        return std::string(text);
    }
    const std::unique_ptr<utf8proc_uint8_t, decltype(&std::free)> owner(mapped, &std::free);
    std::string composed(reinterpret_cast<const char*>(mapped), static_cast<std::size_t>(length));
    if (letter_case == email_case::preserve) {
        return composed;
    }

    std::string lowered;
    lowered.reserve(composed.size());
    const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(composed.data());
    utf8proc_ssize_t left = static_cast<utf8proc_ssize_t>(composed.size());
    while (left > 0) {
        utf8proc_int32_t code_point = 0;
        const utf8proc_ssize_t used = utf8proc_iterate(p, left, &code_point);
        utf8proc_uint8_t encoded[4];
        const utf8proc_ssize_t size = utf8proc_encode_char(utf8proc_tolower(code_point), encoded);
        lowered.append(reinterpret_cast<const char*>(encoded), static_cast<std::size_t>(size));
        p += used;
        left -= used;
    }
    return lowered;
}

std::optional<std::string> syntax_problem(std::string_view email) {
    const bool spaced = std::any_of(email.begin(), email.end(), [](char c) {
        const auto byte = static_cast<unsigned char>(c);
        return byte <= 0x20 || byte == 0x7F;
    });
    if (spaced) {
        return "email contains a space or control character";
    }
    const auto at = email.find('@');
    if (at == std::string_view::npos) {
        return "email has no @";
    }
    if (email.find('@', at + 1) != std::string_view::npos) {
        return "email has more than one @";
    }
    if (at == 0) {
        return "email has nothing before the @";
    }
    const std::string_view domain = email.substr(at + 1);
    const auto dot = domain.find('.');
    if (dot == std::string_view::npos || dot == 0 || domain.ends_with('.') ||
        domain.find("..") != std::string_view::npos) {
        return "email domain is not a domain name";
    }
    return std::nullopt;
}

}  // namespace

email_check normalise_email(std::string_view text, email_case letter_case) {
    const std::string_view trimmed = trim(text);
    email_check result;
    if (trimmed.empty()) {
        result.problem = "no email";
        return result;
    }

    if (is_ascii(trimmed)) {
        result.email = trimmed;
        if (letter_case == email_case::lower) {
            lower_ascii(result.email);
        }
    } else {
        result.email = normalise_unicode(trimmed, letter_case);
    }
    result.problem = syntax_problem(result.email);
    return result;
}

std::size_t utf16_length(std::string_view text) {
    std::size_t units = 0;
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if ((byte & 0xC0) != 0x80) {
            units += byte >= 0xF0 ? 2 : 1;  // a 4-byte sequence needs a surrogate pair
        }
    }
    return units;
}

}  // namespace convex_importd
