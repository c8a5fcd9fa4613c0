#include "convex_importd/logging.hpp"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <system_error>
#include <vector>

#include <fmt/format.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>

#include "convex_importd/escape.hpp"
#include "convex_importd/log_format.hpp"
#include "convex_importd/log_limiter.hpp"
#include "convex_importd/timestamp.hpp"

namespace convex_importd {

namespace {

using spdlog::details::log_msg;

enum subsystem : std::size_t {
    main_logger,
    watch_logger,
    csv_logger,
    http_logger,
    import_logger,
    state_logger
};
constexpr std::array subsystem_names{"main", "watch", "csv", "http", "import", "state"};

constexpr std::size_t repeated_line_burst = 10;
constexpr std::string_view erase_line = "\r\033[K";

std::string_view view(spdlog::string_view_t text) {
    return {text.data(), text.size()};
}

void write_all(int fd, std::string_view text) {
    while (!text.empty()) {
        const ssize_t written = ::write(fd, text.data(), text.size());
        if (written < 0 && errno == EINTR) {
            continue;
        }
        if (written <= 0) {
            return;  // nowhere left to report it; logging never throws
        }
        text.remove_prefix(static_cast<std::size_t>(written));
    }
}

/// One JSON object per line, for log shippers.
class json_formatter final : public spdlog::formatter {
public:
    void format(const log_msg& message, spdlog::memory_buf_t& out) override {
        const std::string line = json_log_line(utc_timestamp(message.time),
                                               view(spdlog::level::to_string_view(message.level)),
                                               view(message.logger_name), view(message.payload));
        out.append(line.data(), line.data() + line.size());
        out.push_back('\n');
    }

    std::unique_ptr<spdlog::formatter> clone() const override {
        return std::make_unique<json_formatter>();
    }
};

/// Appends to a file that logrotate may move away; reopen() starts a new one by the name.
class reopening_file_sink final : public spdlog::sinks::base_sink<std::mutex> {
public:
    explicit reopening_file_sink(std::filesystem::path path) : path_(std::move(path)) {
        fd_ = open_log(path_);
        if (fd_ < 0) {
            throw std::system_error(errno, std::generic_category(),
                                    "open log file " + path_.string());
        }
    }

    ~reopening_file_sink() override { ::close(fd_); }

    void reopen() {
        std::lock_guard lock(mutex_);
        const int fresh = open_log(path_);
        if (fresh < 0) {
            std::fprintf(stderr, "convex-importd: reopen log file %s: %s\n", path_.c_str(),
                         std::strerror(errno));
            return;
        }
        ::close(fd_);
        fd_ = fresh;
    }

protected:
    void sink_it_(const log_msg& message) override {
        spdlog::memory_buf_t formatted;
        formatter_->format(message, formatted);
        write_all(fd_, {formatted.data(), formatted.size()});
    }

    void flush_() override {}

private:
    static int open_log(const std::filesystem::path& path) {
        return ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    }

    std::filesystem::path path_;
    int fd_ = -1;
};

/// Stderr, keeping an optional status line at the bottom of a terminal: each log line
/// erases it, is written, and draws it again below.
class terminal_sink final : public spdlog::sinks::base_sink<std::mutex> {
public:
    void show(std::string_view text) {
        std::lock_guard lock(mutex_);
        line_ = text;
        write_all(STDERR_FILENO, std::string(erase_line) + line_);
    }

    void clear() {
        std::lock_guard lock(mutex_);
        if (!line_.empty()) {
            write_all(STDERR_FILENO, erase_line);
        }
        line_.clear();
    }

protected:
    void sink_it_(const log_msg& message) override {
        spdlog::memory_buf_t formatted;
        formatter_->format(message, formatted);
        if (!line_.empty()) {
            write_all(STDERR_FILENO, erase_line);
        }
        write_all(STDERR_FILENO, {formatted.data(), formatted.size()});
        if (!line_.empty()) {
            write_all(STDERR_FILENO, line_);
        }
    }

    void flush_() override {}

private:
    std::string line_;
};

/// The one sink every logger writes to: it drops repeats of a warning or error beyond the
/// burst, then hands each line to stderr and the file, so that both see the same lines.
class limiting_sink final : public spdlog::sinks::base_sink<std::mutex> {
public:
    limiting_sink(std::vector<spdlog::sink_ptr> outputs, std::chrono::milliseconds window)
        : outputs_(std::move(outputs)), limiter_(repeated_line_burst, window) {}

    void report_dropped() {
        std::lock_guard lock(mutex_);
        report_dropped_locked(repeat_limiter::clock::now());
    }

protected:
    void sink_it_(const log_msg& message) override {
        const auto now = repeat_limiter::clock::now();
        report_dropped_locked(now);
        if (message.level >= spdlog::level::warn &&
            !limiter_.admit(view(message.logger_name), log_event(view(message.payload)), now)) {
            return;
        }
        forward(message);
    }

    void flush_() override {
        for (const auto& output : outputs_) {
            output->flush();
        }
    }

private:
    void forward(const log_msg& message) {
        for (const auto& output : outputs_) {
            output->log(message);
        }
    }

    void report_dropped_locked(repeat_limiter::clock::time_point now) {
        for (const auto& dropped : limiter_.take_dropped(now)) {
            const auto window =
                std::chrono::duration_cast<std::chrono::milliseconds>(limiter_.window());
            const std::string text =
                fmt::format("log lines dropped event={} dropped={} window_ms={}",
                            log_value(dropped.event), dropped.count, window.count());
            forward(log_msg(dropped.logger, spdlog::level::warn, text));
        }
    }

    std::vector<spdlog::sink_ptr> outputs_;
    repeat_limiter limiter_;
};

std::unique_ptr<spdlog::formatter> make_formatter(const std::string& format) {
    if (format == "json") {
        return std::make_unique<json_formatter>();
    }
    if (format == "text") {
        return std::make_unique<spdlog::pattern_formatter>("%Y-%m-%dT%H:%M:%S.%e%z %l %n: %v");
    }
    throw std::invalid_argument("unknown log format \"" + format + "\"; expected text or json");
}

spdlog::level::level_enum parse_level(const std::string& name) {
    const auto level = spdlog::level::from_str(name);
    if (level == spdlog::level::off && name != "off") {
        throw std::invalid_argument("unknown log level \"" + name + "\"");
    }
    return level;
}

// Set up at start-up, before any other thread runs; later calls only use the sinks' locks.
struct logging_state {
    std::array<std::shared_ptr<spdlog::logger>, subsystem_names.size()> loggers;
    std::shared_ptr<limiting_sink> front;
    std::shared_ptr<terminal_sink> terminal;
    std::shared_ptr<reopening_file_sink> file;
};

logging_state state;

spdlog::logger& named(subsystem which) {
    if (!state.loggers[which]) {
        setup_logging({});
    }
    return *state.loggers[which];
}

}  // namespace

void setup_logging(const logging_options& options) {
    const auto level = parse_level(options.level);
    logging_state fresh;
    fresh.terminal = std::make_shared<terminal_sink>();
    fresh.terminal->set_formatter(make_formatter(options.format));
    std::vector<spdlog::sink_ptr> outputs{fresh.terminal};
    if (!options.file.empty()) {
        fresh.file = std::make_shared<reopening_file_sink>(options.file);
        fresh.file->set_formatter(make_formatter(options.format));
        outputs.push_back(fresh.file);
    }
    fresh.front = std::make_shared<limiting_sink>(std::move(outputs), options.repeat_window);

    for (std::size_t i = 0; i < subsystem_names.size(); ++i) {
        auto logger = std::make_shared<spdlog::logger>(subsystem_names[i], fresh.front);
        logger->set_level(level);
        logger->flush_on(spdlog::level::info);
        logger->set_error_handler([](const std::string& message) {
            std::fprintf(stderr, "convex-importd: logging failed: %s\n", message.c_str());
        });
        fresh.loggers[i] = std::move(logger);
    }
    state = std::move(fresh);
}

void set_log_level(const std::string& level) {
    const auto parsed = parse_level(level);
    for (std::size_t i = 0; i < subsystem_names.size(); ++i) {
        named(static_cast<subsystem>(i)).set_level(parsed);
    }
}

void reopen_log_file() {
    if (state.file) {
        state.file->reopen();
    }
}

void report_dropped_log_lines() {
    if (state.front) {
        state.front->report_dropped();
    }
}

bool stderr_is_terminal() {
    return ::isatty(STDERR_FILENO) == 1;
}

std::size_t terminal_columns() {
    winsize size{};
    if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) {
        return size.ws_col;
    }
    return 80;
}

void show_terminal_line(std::string_view text) {
    if (state.terminal && stderr_is_terminal()) {
        state.terminal->show(text);
    }
}

void clear_terminal_line() {
    if (state.terminal) {
        state.terminal->clear();
    }
}

namespace log {

spdlog::logger& main() {
    return named(main_logger);
}
spdlog::logger& watch() {
    return named(watch_logger);
}
spdlog::logger& csv() {
    return named(csv_logger);
}
spdlog::logger& http() {
    return named(http_logger);
}
spdlog::logger& import() {
    return named(import_logger);
}
spdlog::logger& state() {
    return named(state_logger);
}

}  // namespace log

std::string log_value(std::string_view raw) {
    const std::string value = escape_controls(raw);
    if (!value.empty() && value.find_first_of(" \"=\\") == std::string::npos) {
        return value;
    }
    std::string out = "\"";
    for (const char c : value) {
        if (c == '"' || c == '\\') {
            out.push_back('\\');
        }
        out.push_back(c);
    }
    out.push_back('"');
    return out;
}

}  // namespace convex_importd
