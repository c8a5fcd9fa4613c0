#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace convex_importd {

enum class email_case : std::uint8_t { lower, preserve };

/// An email ready to send, or why it cannot be sent.
struct email_check {
    std::string email;
    std::optional<std::string> problem;
};

/// Normalises an email from a file: trims spaces and tabs, applies Unicode NFC, lower-cases
/// unless told to preserve case, then checks a practical syntax: one `@`, a non-empty local
/// part, a domain with a dot, no spaces or control characters. Convex Auth stores emails as
/// given, so two spellings of one address would become two accounts without this.
/// `text` must be valid UTF-8.
email_check normalise_email(std::string_view text, email_case letter_case);

/// The same, writing the email into `email` (reusing its storage) and returning the problem.
std::optional<std::string> normalise_email(std::string_view text, email_case letter_case,
                                           std::string& email);

namespace detail {

/// normalise_email without its fast path for short ASCII emails: the reference that tests
/// compare the fast path with.
email_check normalise_email_bytewise(std::string_view text, email_case letter_case);

}  // namespace detail

/// True when every byte of `text` is below 0x80: such text is valid UTF-8 and needs no
/// Unicode normalisation.
bool is_ascii(std::string_view text);

/// The length of UTF-8 `text` in UTF-16 code units, as JavaScript's `length` counts it.
std::size_t utf16_length(std::string_view text);

}  // namespace convex_importd
