#include "convex_importd/logging.hpp"

#include "convex_importd/escape.hpp"

#include <sys/stat.h>

#include <array>
#include <memory>
#include <stdexcept>
#include <vector>

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace convex_importd {

namespace {

enum subsystem : std::size_t {
    main_logger,
    watch_logger,
    csv_logger,
    http_logger,
    import_logger,
    state_logger
};
constexpr std::array subsystem_names{"main", "watch", "csv", "http", "import", "state"};

// Set up once at start-up, before any other thread runs.
std::array<std::shared_ptr<spdlog::logger>, subsystem_names.size()> loggers;

std::vector<spdlog::sink_ptr> make_sinks(const logging_options& options) {
    std::vector<spdlog::sink_ptr> sinks{std::make_shared<spdlog::sinks::stderr_sink_mt>()};
    if (!options.file.empty()) {
        const mode_t previous = ::umask(027);
        sinks.push_back(
            std::make_shared<spdlog::sinks::basic_file_sink_mt>(options.file.string()));
        ::umask(previous);
    }
    return sinks;
}

spdlog::logger& named(subsystem which) {
    if (!loggers[which]) {
        setup_logging({});
    }
    return *loggers[which];
}

}  // namespace

void setup_logging(const logging_options& options) {
    const auto level = spdlog::level::from_str(options.level);
    if (level == spdlog::level::off && options.level != "off") {
        throw std::invalid_argument("unknown log level \"" + options.level + "\"");
    }

    const auto sinks = make_sinks(options);
    for (std::size_t i = 0; i < subsystem_names.size(); ++i) {
        auto logger =
            std::make_shared<spdlog::logger>(subsystem_names[i], sinks.begin(), sinks.end());
        logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %l %n: %v");
        logger->set_level(level);
        logger->flush_on(spdlog::level::info);
        logger->set_error_handler([](const std::string& message) {
            std::fprintf(stderr, "convex-importd: logging failed: %s\n", message.c_str());
        });
        loggers[i] = logger;
    }
}

namespace log {

spdlog::logger& main() { return named(main_logger); }
spdlog::logger& watch() { return named(watch_logger); }
spdlog::logger& csv() { return named(csv_logger); }
spdlog::logger& http() { return named(http_logger); }
spdlog::logger& import() { return named(import_logger); }
spdlog::logger& state() { return named(state_logger); }

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
