#pragma once

#include <chrono>
#include <string>

namespace convex_importd {

/// `2024-05-01T12:00:00.123Z`: UTC with milliseconds, as log shippers and scripts expect.
std::string utc_timestamp(std::chrono::system_clock::time_point time);

}  // namespace convex_importd
