#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace convex_importd {

/// The final state of one data record. Every record of every file ends in exactly one.
enum class outcome : std::uint8_t {
    created,    // the sign-up succeeded
    exists,     // the account exists with another password
    rejected,   // the backend's function refused the sign-up
    invalid,    // caught before sending; no request was made
    duplicate,  // the same normalised email appeared earlier in the file
    failed,     // transport or HTTP error
    skipped,    // the email ended created or exists before (the ledger); no request was made
};

// Appended last: outcomes are stored by number in the state database.
inline constexpr std::size_t outcome_count = 7;

constexpr std::string_view to_string(outcome value) {
    constexpr std::array<std::string_view, outcome_count> names{
        "created", "exists", "rejected", "invalid", "duplicate", "failed", "skipped"};
    return names[static_cast<std::size_t>(value)];
}

}  // namespace convex_importd
