#pragma once

#include <string>
#include <string_view>

namespace convex_importd {

/// `text` with every control character (C0, DEL, and C1 in UTF-8) written as `\xNN`, so that
/// a value from an input file cannot split a log line or drive a terminal. Other bytes pass.
std::string escape_controls(std::string_view text);

/// True when escape_controls() would change `text`.
bool has_controls(std::string_view text);

}  // namespace convex_importd
