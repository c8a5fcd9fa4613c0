#pragma once

#include <string>
#include <string_view>

#include "convex_importd/user_row.hpp"

namespace convex_importd {

/// Appends `text` to `out` as a JSON string literal (quotes included). `text` must be UTF-8.
void append_json_string(std::string& out, std::string_view text);

/// The body of a Convex Auth password sign-up through POST /api/action.
void build_signup_body(const user_row& row, std::string& out);

}  // namespace convex_importd
