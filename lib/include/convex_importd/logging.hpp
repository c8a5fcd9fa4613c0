#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include <spdlog/logger.h>

namespace convex_importd {

struct logging_options {
    std::filesystem::path file;  // empty: stderr only
    std::string level = "info";
};

/// Sends every subsystem's logger to stderr and, when set, to a log file (mode 0640).
/// Logging never throws into the caller; a failing sink reports on stderr instead.
/// Throws std::invalid_argument for an unknown level name.
void setup_logging(const logging_options& options);

namespace log {

/// One named logger per subsystem, so that an operator can tell where a line comes from.
spdlog::logger& main();
spdlog::logger& watch();
spdlog::logger& csv();
spdlog::logger& http();
spdlog::logger& import();
spdlog::logger& state();

}  // namespace log

/// `value` as it should stand after `key=` in a log line: quoted when it holds a space,
/// quote or equals sign, so that key=value parsers read it back whole.
std::string log_value(std::string_view value);

}  // namespace convex_importd
