#pragma once

#include <string>
#include <string_view>

#include "convex_importd/outcome.hpp"

namespace convex_importd {

/// What one HTTP answer from Convex means for its row.
struct classified_answer {
    outcome result = outcome::failed;
    std::string detail;
};

/// Classifies an answer to a sign-up. Function results come as HTTP 200 (older backends:
/// 560) with a `status` field; anything else is an HTTP error with `code` and `message`.
/// `password` is scrubbed from the detail in case an app echoes it in an error.
classified_answer classify_answer(unsigned http_status, std::string_view body,
                                  std::string_view password);

/// The one line of a Convex error message worth showing: the thrown error's own text when a
/// development deployment appended it, else the first line without its request id.
std::string error_summary(std::string_view message);

}  // namespace convex_importd
