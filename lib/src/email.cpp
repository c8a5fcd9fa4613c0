#include "convex_importd/email.hpp"

#include <utf8proc.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <bit>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "convex_importd/text.hpp"

namespace convex_importd {

namespace {

// Without a branch, so that the compiler can do many bytes per step.
char lower_ascii(char c) {
    const bool upper = static_cast<unsigned char>(c - 'A') < 26;
    return static_cast<char>(c | (upper ? 0x20 : 0));
}

std::string copy_ascii(std::string_view text, email_case letter_case) {
    if (letter_case == email_case::preserve) {
        return std::string(text);
    }
    // Lower-cased on the way from the record into the new string: reading back bytes just
    // copied stalls on the copy's stores. Raw pointers: through operator[] each store would
    // reload the string's data pointer.
    std::string out(text.size(), '\0');
    char* to = out.data();
    const char* from = text.data();
    for (std::size_t i = 0; i < text.size(); ++i) {
        to[i] = lower_ascii(from[i]);
    }
    return out;
}

// A dot, and no empty label: no dot first, last, or next to another. Without branches:
// where the dots fall differs from row to row, and mispredictions cost more than the loop.
bool domain_name(std::string_view domain) {
    bool dotted = false;
    bool empty_label = false;
    bool after_dot = true;  // a dot first would end an empty label
    for (const char c : domain) {
        const bool dot = c == '.';
        empty_label |= dot & after_dot;
        dotted |= dot;
        after_dot = dot;
    }
    return dotted && !empty_label && !after_dot;
}

std::vector<utf8proc_int32_t> code_points(std::string_view text) {
    std::vector<utf8proc_int32_t> points;
    const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
    auto left = static_cast<utf8proc_ssize_t>(text.size());
    while (left > 0) {
        utf8proc_int32_t point = 0;
        const utf8proc_ssize_t used = utf8proc_iterate(p, left, &point);
        if (used <= 0) {
            break;  // not reached for valid UTF-8
        }
        points.push_back(point);
        p += used;
        left -= used;
    }
    return points;
}

// Spaces of every kind, which spreadsheets leave around values: no-break, thin, ideographic,
// the line and paragraph separators, NEL, and the invisible ones Unicode files as formats.
bool space_like(utf8proc_int32_t point) {
    switch (utf8proc_category(point)) {
        case UTF8PROC_CATEGORY_ZS:
        case UTF8PROC_CATEGORY_ZL:
        case UTF8PROC_CATEGORY_ZP:
            return true;
        default:
            return point == 0x85 || point == 0x200B || point == 0xFEFF || point == 0x180E ||
                   point == 0x2060;
    }
}

// Characters no address may hold: spaces, controls (C0 and C1), invisible format characters,
// private-use and unassigned code points.
bool forbidden(utf8proc_int32_t point) {
    switch (utf8proc_category(point)) {
        case UTF8PROC_CATEGORY_CC:
        case UTF8PROC_CATEGORY_CF:
        case UTF8PROC_CATEGORY_CS:
        case UTF8PROC_CATEGORY_CO:
        case UTF8PROC_CATEGORY_CN:
            return true;
        default:
            return space_like(point);
    }
}

std::string compose(std::string_view text) {
    utf8proc_uint8_t* mapped = nullptr;
    const auto options = static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE);
    const utf8proc_ssize_t length =
        utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
                     static_cast<utf8proc_ssize_t>(text.size()), &mapped, options);
    if (length < 0) {
        return std::string(text);
    }
    const std::unique_ptr<utf8proc_uint8_t, decltype(&std::free)> owner(mapped, &std::free);
    return std::string(reinterpret_cast<const char*>(mapped), static_cast<std::size_t>(length));
}

// The slow path, for emails with any non-ASCII byte: NFC through utf8proc, Unicode spaces
// trimmed, invisible and control characters refused, lower case when asked.
email_check normalise_unicode(std::string_view text, email_case letter_case) {
    std::vector<utf8proc_int32_t> points = code_points(compose(text));
    auto first = points.begin();
    auto last = points.end();
    while (first != last && space_like(*first)) {
        ++first;
    }
    while (last != first && space_like(*(last - 1))) {
        --last;
    }

    email_check result;
    for (auto it = first; it != last; ++it) {
        if (forbidden(*it)) {
            result.problem = "email contains a space, control or invisible character";
        }
        const utf8proc_int32_t point =
            letter_case == email_case::lower ? utf8proc_tolower(*it) : *it;
        utf8proc_uint8_t encoded[4];
        const utf8proc_ssize_t size = utf8proc_encode_char(point, encoded);
        result.email.append(reinterpret_cast<const char*>(encoded), static_cast<std::size_t>(size));
    }
    if (result.email.empty()) {
        result.problem = "no email";
    }
    return result;
}

constexpr std::uint64_t byte_ones = 0x0101010101010101ULL;
constexpr std::uint64_t byte_high_bits = 0x8080808080808080ULL;
constexpr std::uint64_t byte_low_bits = 0x7F7F7F7F7F7F7F7FULL;

// The high bit of each byte of `word` that equals `value`. Exact: no carry crosses bytes.
std::uint64_t bytes_equal(std::uint64_t word, unsigned char value) {
    const std::uint64_t x = word ^ (byte_ones * value);
    return ~(((x & byte_low_bits) + byte_low_bits) | x) & byte_high_bits;
}

// The high bit of each byte of `word` below `limit` (1 to 0x80). Exact, as above.
std::uint64_t bytes_below(std::uint64_t word, unsigned char limit) {
    return ~(((word & byte_low_bits) + byte_ones * (0x80 - limit)) | word) & byte_high_bits;
}

bool space_or_control(unsigned char byte) {
    return byte <= 0x20 || byte == 0x7F;
}

/// What the syntax checks need to know about every byte of an email.
struct email_bytes {
    bool spaced = false;  // a space or control character
    std::size_t ats = 0;
};

// Eight bytes per step: this runs once per row, and a byte loop was a tenth of reading time.
email_bytes scan_bytes(std::string_view email) {
    std::uint64_t spaced = 0;
    std::size_t ats = 0;
    std::size_t i = 0;
    for (; i + 8 <= email.size(); i += 8) {
        std::uint64_t word = 0;
        std::memcpy(&word, email.data() + i, 8);
        spaced |= bytes_below(word, 0x21) | bytes_equal(word, 0x7F);
        // Zero, one or "more than one" is all the checks ask; no popcount instruction needed.
        const std::uint64_t at_signs = bytes_equal(word, '@');
        ats += at_signs == 0 ? 0 : (at_signs & (at_signs - 1)) == 0 ? 1 : 2;
    }
    email_bytes found{spaced != 0, ats};
    for (; i < email.size(); ++i) {
        const auto byte = static_cast<unsigned char>(email[i]);
        found.spaced = found.spaced || space_or_control(byte);
        found.ats += byte == '@' ? 1 : 0;
    }
    return found;
}

std::optional<std::string> syntax_problem(std::string_view email) {
    const auto [spaced, ats] = scan_bytes(email);
    if (spaced) {
        return "email contains a space or control character";
    }
    if (ats == 0) {
        return "email has no @";
    }
    if (ats > 1) {
        return "email has more than one @";
    }
    const std::size_t at = email.find('@');
    if (at == 0) {
        return "email has nothing before the @";
    }
    if (!domain_name(email.substr(at + 1))) {
        return "email domain is not a domain name";
    }
    return std::nullopt;
}

#if defined(__SSE2__)

// The fast path takes emails of 8 to 64 bytes: the bytes of each fit one 64-bit mask, and
// every step reads 8 or 16 bytes that lie inside the email.
constexpr std::size_t short_email_min = 8;
constexpr std::size_t short_email_max = 64;

/// Where the bytes that the checks care about sit in a short email, one bit per byte.
struct byte_classes {
    std::uint64_t unusual = 0;  // a space, a control character or a byte above 0x7F
    std::uint64_t at_signs = 0;
    std::uint64_t dots = 0;
};

// Classifies short emails 8 or 16 bytes per step and copies them, lower-cased when asked.
// Most emails are short and ASCII, and the byte loops of the general path were a third of
// the time spent on a row.
class short_email_scanner {
public:
    explicit short_email_scanner(email_case letter_case)
        : case_bit_(_mm_set1_epi8(letter_case == email_case::lower ? 0x20 : 0)) {}

    // Classifies `text` into found() and writes it, lower-cased when asked, to `out`, which
    // holds text.size() bytes. The last step overlaps the one before rather than reading
    // past the end: the masks are ORed, so a byte seen twice counts once.
    void scan(std::string_view text, char* out) {
        const std::size_t size = text.size();
        const std::size_t width = size >= 16 ? 16 : 8;
        std::size_t offset = 0;
        for (; offset + width <= size; offset += width) {
            step(text.data(), out, offset, width);
        }
        if (offset < size) {
            step(text.data(), out, size - width, width);
        }
    }

    const byte_classes& found() const { return found_; }

private:
    void step(const char* text, char* out, std::size_t offset, std::size_t width) {
        const auto* from = reinterpret_cast<const __m128i*>(text + offset);
        const __m128i bytes = width == 16 ? _mm_loadu_si128(from) : _mm_loadl_epi64(from);
        // The zeros above an 8-byte step are no part of the email.
        const std::uint64_t lanes = width == 16 ? 0xFFFF : 0xFF;
        const auto bits = [lanes, offset](__m128i marked) {
            const auto mask = static_cast<unsigned>(_mm_movemask_epi8(marked));
            return static_cast<std::uint64_t>(mask & lanes) << offset;
        };

        // A signed compare, true for the bytes above 0x7F as well: they are negative. Nearly
        // every email has neither, so one mask marks both; which is which is sorted out after.
        found_.unusual |= bits(_mm_or_si128(_mm_cmplt_epi8(bytes, _mm_set1_epi8(0x21)),
                                            _mm_cmpeq_epi8(bytes, _mm_set1_epi8(0x7F))));
        found_.at_signs |= bits(_mm_cmpeq_epi8(bytes, _mm_set1_epi8('@')));
        found_.dots |= bits(_mm_cmpeq_epi8(bytes, _mm_set1_epi8('.')));

        const __m128i upper = _mm_and_si128(_mm_cmpgt_epi8(bytes, _mm_set1_epi8('A' - 1)),
                                            _mm_cmplt_epi8(bytes, _mm_set1_epi8('Z' + 1)));
        const __m128i lowered = _mm_add_epi8(bytes, _mm_and_si128(upper, case_bit_));
        auto* to = reinterpret_cast<__m128i*>(out + offset);
        if (width == 16) {
            _mm_storeu_si128(to, lowered);
        } else {
            _mm_storel_epi64(to, lowered);
        }
    }

    __m128i case_bit_;
    byte_classes found_;
};

// A dot, and no empty label, as domain_name() checks, read from the dots' bits.
bool domain_name(std::uint64_t dots, std::size_t size) {
    if (size == 0) {
        return false;
    }
    const std::uint64_t last = std::uint64_t{1} << (size - 1);
    return dots != 0 && (dots & 1) == 0 && (dots & last) == 0 && (dots & (dots >> 1)) == 0;
}

// syntax_problem() for an email of at most 64 bytes without unusual bytes, from its byte
// classes.
std::optional<std::string> syntax_problem(const byte_classes& found, std::size_t size) {
    if (found.at_signs == 0) {
        return "email has no @";
    }
    if ((found.at_signs & (found.at_signs - 1)) != 0) {
        return "email has more than one @";
    }
    const auto at = static_cast<std::size_t>(std::countr_zero(found.at_signs));
    if (at == 0) {
        return "email has nothing before the @";
    }
    const std::size_t domain_size = size - at - 1;
    const std::uint64_t domain_dots = domain_size == 0 ? 0 : found.dots >> (at + 1);
    if (!domain_name(domain_dots, domain_size)) {
        return "email domain is not a domain name";
    }
    return std::nullopt;
}

#endif

email_check normalise_trimmed(std::string_view trimmed, email_case letter_case) {
    email_check result;
    if (trimmed.empty()) {
        result.problem = "no email";
        return result;
    }

    if (!is_ascii(trimmed)) {
        result = normalise_unicode(trimmed, letter_case);
        if (result.problem) {
            return result;
        }
    } else {
        result.email = copy_ascii(trimmed, letter_case);
    }
    result.problem = syntax_problem(result.email);
    return result;
}

}  // namespace

std::optional<std::string> normalise_email(std::string_view text, email_case letter_case,
                                           std::string& email) {
    const std::string_view trimmed = trim_blanks(text);
#if defined(__SSE2__)
    if (trimmed.size() >= short_email_min && trimmed.size() <= short_email_max) {
        // Written in place: copied from a scratch buffer, the bytes just stored in overlapping
        // steps would be read back before they reach the cache, which stalls.
        email.resize(trimmed.size());
        short_email_scanner scanner(letter_case);
        scanner.scan(trimmed, email.data());
        if (scanner.found().unusual == 0) {
            return syntax_problem(scanner.found(), trimmed.size());
        }
        // Not ASCII, or refused for a space or control character: the general path says which.
    }
#endif
    email_check checked = normalise_trimmed(trimmed, letter_case);
    email = std::move(checked.email);
    return std::move(checked.problem);
}

email_check normalise_email(std::string_view text, email_case letter_case) {
    email_check result;
    result.problem = normalise_email(text, letter_case, result.email);
    return result;
}

namespace detail {

email_check normalise_email_bytewise(std::string_view text, email_case letter_case) {
    return normalise_trimmed(trim_blanks(text), letter_case);
}

}  // namespace detail

bool is_ascii(std::string_view text) {
    // Eight bytes per step: the rows of most files are all ASCII, and this runs on every field
    // that is sent.
    std::uint64_t seen = 0;
    std::size_t i = 0;
    for (; i + 8 <= text.size(); i += 8) {
        std::uint64_t word = 0;
        std::memcpy(&word, text.data() + i, 8);
        seen |= word;
    }
    for (; i < text.size(); ++i) {
        seen |= static_cast<unsigned char>(text[i]);
    }
    return (seen & 0x8080808080808080ULL) == 0;
}

std::size_t utf16_length(std::string_view text) {
    if (is_ascii(text)) {
        return text.size();
    }
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
