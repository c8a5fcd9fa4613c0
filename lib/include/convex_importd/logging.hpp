#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>

#include <spdlog/logger.h>

namespace convex_importd {

struct logging_options {
    std::filesystem::path file;  // empty: stderr only
    std::string level = "info";
    std::string format = "text";  // "text" or "json" (one JSON object per line)
    /// Up to 10 warnings or errors of one event per window; the rest are counted.
    std::chrono::milliseconds repeat_window{10'000};
};

/// Sends every subsystem's logger to stderr and, when set, to a log file (created 0640 at
/// most). Warnings and errors of one event are rate-limited, with a count of those dropped.
/// Logging never throws into the caller; a failing sink reports on stderr instead.
/// Throws std::invalid_argument for an unknown level or format, std::system_error when the
/// log file cannot be opened.
void setup_logging(const logging_options& options);

/// Changes the level of every logger; throws std::invalid_argument for an unknown name.
void set_log_level(const std::string& level);

/// Opens the log file again by its name, after logrotate moved it away. On failure the old
/// file stays in use and the reason goes to stderr.
void reopen_log_file();

/// Writes the count of rate-limited lines whose window has closed. Call it now and then, so
/// that a burst that stopped is still reported.
void report_dropped_log_lines();

/// True when stderr is a terminal, where show_terminal_line() draws.
bool stderr_is_terminal();

/// Columns of the terminal on stderr (80 when unknown).
std::size_t terminal_columns();

/// Keeps `text` as a status line at the bottom of the terminal on stderr, redrawn in place;
/// log lines are written above it. Does nothing when stderr is not a terminal.
void show_terminal_line(std::string_view text);

/// Erases the status line.
void clear_terminal_line();

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
