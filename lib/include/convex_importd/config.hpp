#pragma once

#include <chrono>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "convex_importd/logging.hpp"
#include "convex_importd/service.hpp"

namespace convex_importd {

/// A configuration the daemon cannot run with. The message says where (FILE:LINE:COLUMN or
/// the flag), which key, and what was expected; the caller exits with exit_usage.
class config_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// What the process was given by systemd, read from the environment by from_process().
/// Empty paths mean "not set". Tests build their own.
struct run_environment {
    std::filesystem::path state_directory;          // $STATE_DIRECTORY
    std::filesystem::path logs_directory;           // $LOGS_DIRECTORY
    std::filesystem::path configuration_directory;  // $CONFIGURATION_DIRECTORY
    std::filesystem::path credentials_directory;    // $CREDENTIALS_DIRECTORY

    static run_environment from_process();
};

/// What a command needs from the configuration: `import` no spool, `watch` and
/// `check-config` everything, `check` only how to read files.
enum class config_mode { import, watch, check };

/// One command-line flag that sets a configuration key, e.g. `--concurrency` for
/// `import.concurrency`. Flags override the file; a repeated list flag adds to its list.
struct config_override {
    std::string flag;
    std::string key;
    std::string value;
};

/// Where the configuration comes from: a file (or the default one when it exists), then
/// the flags.
struct config_source {
    std::filesystem::path file;  // empty: the default path, skipped when missing
    std::vector<config_override> overrides;
};

/// The whole configuration once read and checked: the service's options plus what only
/// start-up needs. Holds the deploy key (in service.client) but never prints it.
struct daemon_config {
    std::filesystem::path file;  // the file read; empty when none was
    service_options service;
    logging_options log;
    std::filesystem::path spool;
    std::filesystem::path deploy_key_file;
    std::string deploy_key_credential = "convex-importd.deploy-key";
    std::string deploy_key_source = "none";  // "credential NAME", "file PATH" or "none"

    // Input keys as written; load_config() turns them into service.import.
    std::string delimiter = "auto";
    std::string columns;
    std::string email_case = "lower";
    std::size_t rate = 0;           // service.import.pacing.rate
    std::size_t max_attempts = 10;  // service.import.retry.max_attempts

    /// key -> where its value was set ("FILE:LINE:COLUMN", "--flag" or "default").
    std::vector<std::pair<std::string, std::string>> origins;
};

/// The default configuration file: $CONFIGURATION_DIRECTORY/convex-importd.toml under
/// systemd, else /etc/convex-importd/convex-importd.toml.
std::filesystem::path default_config_file(const run_environment& environment);

/// Reads the file, applies the flags, fills in the defaults that depend on `environment`,
/// checks every value and loads the deploy key. Throws config_error.
daemon_config load_config(const config_source& source, config_mode mode,
                          const run_environment& environment);

/// Every key with the value in effect (no secrets), for the start-up line and
/// `check-config`; the deploy key appears only as where it came from.
std::vector<std::pair<std::string, std::string>> describe_config(const daemon_config& config);

/// describe_config() as one line of `key=value` fields.
std::string config_fields(const daemon_config& config);

/// What `check-config` prints: one `key = value` line per key, with where it was set.
std::string config_report(const daemon_config& config);

/// The names of every key, in the order of the example file.
std::vector<std::string_view> config_key_names();

/// What a reload did: keys whose new value is now in effect, and keys whose change waits
/// for a restart.
struct reload_outcome {
    std::vector<std::string> applied;
    std::vector<std::string> need_restart;
};

/// Takes over from `fresh` every changed key that is safe to change while running (import
/// and reporting settings, log level, keep_processed); the others keep their value.
reload_outcome apply_reload(daemon_config& live, const daemon_config& fresh);

/// SIGHUP: reads the configuration again, applies what apply_reload() allows, sets the new
/// log level and logs what changed and what waits for a restart. Throws config_error and
/// then leaves `live` as it was.
void reload_config(daemon_config& live, const config_source& source, config_mode mode,
                   const run_environment& environment);

}  // namespace convex_importd
