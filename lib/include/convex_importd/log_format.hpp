#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace convex_importd {

/// A log message taken apart: the event words, then its `key=value` fields in order.
struct log_fields {
    std::string event;
    std::vector<std::pair<std::string, std::string>> fields;
};

/// Splits `file finished file=a.csv rows=2` into the event `file finished` and its fields,
/// undoing the quoting of log_value(). A message of another shape stays whole in `event`.
log_fields split_log_message(std::string_view message);

/// The words before the first field: what rate limiting counts as "the same line".
std::string_view log_event(std::string_view message);

/// One log line as a JSON object for log shippers: time, level, logger, event, then every
/// field, numbers unquoted. No newline at the end.
std::string json_log_line(std::string_view time, std::string_view level, std::string_view logger,
                          std::string_view message);

}  // namespace convex_importd
