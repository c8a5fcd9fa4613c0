// convex-importd: signs users up in a Convex deployment from CSV files.
// This file only turns the command line into a configuration and hands it to the library.

#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "convex_importd/check.hpp"
#include "convex_importd/config.hpp"
#include "convex_importd/logging.hpp"
#include "convex_importd/service.hpp"
#include "convex_importd/version.hpp"

namespace {

using namespace convex_importd;

// Input files hold plaintext passwords; a core dump of this process would too.
void forbid_core_dumps() {
    const rlimit none{0, 0};
    ::setrlimit(RLIMIT_CORE, &none);
    ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

struct command_line {
    std::string config;
    std::string file;
    std::string results;
    std::vector<config_override> overrides;
};

/// A flag that sets a configuration key; the configuration checks its value.
struct key_flag {
    const char* flag;
    const char* key;
    const char* help;
};

// How input files are read: every command that reads one takes these.
constexpr key_flag input_flags[] = {
    {"--param", "import.params",
     "Pass column COLUMN as sign-up param NAME (COLUMN[=NAME], repeatable)"},
    {"--delimiter", "import.delimiter", "Field delimiter: auto (default), ',', ';', tab or '|'"},
    {"--columns", "import.columns", "Column names in order, for --no-header: email,password,..."},
    {"--email-column", "import.email_column", "Header name of the email column"},
    {"--password-column", "import.password_column", "Header name of the password column"},
    {"--email-case", "import.email_case", "lower (default) or preserve"},
    {"--min-password-length", "import.min_password_length",
     "Shorter passwords are invalid, in UTF-16 units (default 8; 0 turns it off)"},
    {"--max-record-bytes", "import.max_record_bytes", "Longer records are invalid (64 KiB)"},
};

constexpr key_flag common_flags[] = {
    {"--url", "deployment.url", "Convex deployment URL, e.g. https://x.convex.cloud"},
    {"--concurrency", "import.concurrency", "Sign-ups in flight at once, the ceiling (16)"},
    {"--rate", "import.rate", "Sign-ups started per second at most (default 0: no limit)"},
    {"--max-attempts", "import.max_attempts", "Attempts per row at most (default 10)"},
    {"--backoff-initial", "import.backoff_initial", "First retry waits up to this (250ms)"},
    {"--backoff-max", "import.backoff_max", "No retry waits longer (30s)"},
    {"--row-deadline", "import.row_deadline", "A row stops retrying this long after (5m)"},
    {"--grace", "import.grace", "On SIGTERM, requests in flight may finish this long (10s)"},
    {"--state-dir", "spool.state_dir", "Progress and ledger database (watch: SPOOL/state)"},
    {"--resolve-timeout", "deployment.resolve_timeout", "DNS lookup timeout (10s)"},
    {"--connect-timeout", "deployment.connect_timeout", "TCP connect timeout (10s)"},
    {"--tls-timeout", "deployment.tls_timeout", "TLS handshake timeout (10s)"},
    {"--write-timeout", "deployment.write_timeout", "Timeout for sending a request (30s)"},
    {"--read-timeout", "deployment.read_timeout", "Timeout for the answer to a request (1m)"},
    {"--ca-file", "deployment.ca_file", "Extra CA certificates (PEM) for https"},
    {"--log-file", "log.file", "Also write log lines to this file (- for none)"},
    {"--log-level", "log.level", "trace, debug, info, warn or error (default info)"},
    {"--log-format", "log.format", "text or json (default text)"},
};

constexpr key_flag spool_flags[] = {
    {"--spool", "spool.path", "Spool folder (inbox, processing, done, failed)"},
    {"--settle", "spool.settle", "A file is claimed once unchanged this long (2s)"},
    {"--rescan", "spool.rescan_interval", "Scan inbox/ this often without events (30s)"},
    {"--status-file", "status.file", "Status file, JSON (- for none)"},
};

// How --help names the value a flag takes, from the kind of key it sets.
std::string value_name(std::string_view key) {
    const auto ends = [key](std::string_view tail) { return key.ends_with(tail); };
    if (ends("timeout") || ends("backoff_initial") || ends("backoff_max") || ends("row_deadline") ||
        ends("grace") || ends("settle") || ends("interval")) {
        return "DURATION";
    }
    if (ends("concurrency") || ends("rate") || ends("attempts") || ends("length") ||
        ends("bytes")) {
        return "N";
    }
    if (ends("url")) {
        return "URL";
    }
    if (ends("file") || ends("dir") || ends("path")) {
        return "PATH";
    }
    if (ends("params")) {
        return "COLUMN[=NAME]";
    }
    if (ends("columns")) {
        return "NAMES";
    }
    return "VALUE";
}

void add_key_flag(CLI::App& command, const key_flag& flag, command_line& line) {
    command
        .add_option_function<std::vector<std::string>>(
            flag.flag,
            [&line, flag](const std::vector<std::string>& values) {
                for (const auto& value : values) {
                    line.overrides.push_back({flag.flag, flag.key, value});
                }
            },
            flag.help)
        ->type_name(value_name(flag.key))
        ->expected(1)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
}

/// A flag without a value that sets a boolean configuration key.
struct switch_flag {
    const char* flag;
    const char* key;
    const char* value;
    const char* help;
};

constexpr switch_flag common_switches[] = {
    {"--no-adaptive", "import.adaptive", "false",
     "Keep --concurrency requests in flight instead of backing off on 429/503"},
    {"--no-ledger", "import.ledger", "false",
     "Send rows whose email was created or found to exist before"},
    {"--keep-processed", "spool.keep_processed", "true",
     "Keep input files once imported (default: delete them)"},
};

void add_switch(CLI::App& command, const switch_flag& flag, command_line& line) {
    command.add_flag_callback(
        flag.flag,
        [&line, flag] {
            line.overrides.push_back({flag.flag, flag.key, flag.value});
        },
        flag.help);
}

void add_input_flags(CLI::App& command, command_line& line) {
    for (const auto& flag : input_flags) {
        add_key_flag(command, flag, line);
    }
    add_switch(command,
               {"--no-header", "import.header", "false",
                "The files have no header row; name the columns with --columns"},
               line);
}

void add_common_flags(CLI::App& command, command_line& line) {
    add_input_flags(command, line);
    for (const auto& flag : common_flags) {
        add_key_flag(command, flag, line);
    }
    for (const auto& flag : common_switches) {
        add_switch(command, flag, line);
    }
}

void add_spool_flags(CLI::App& command, command_line& line) {
    add_common_flags(command, line);
    for (const auto& flag : spool_flags) {
        add_key_flag(command, flag, line);
    }
}

}  // namespace

int main(int argc, char** argv) {
    forbid_core_dumps();
    std::signal(SIGPIPE, SIG_IGN);

    CLI::App app{"convex-importd: bulk sign-up of users into a Convex Auth app from CSV files"};
    app.name("convex-importd");
    app.set_version_flag("--version", std::string("convex-importd ") + version);
    app.require_subcommand(1);
    app.fallthrough();

    command_line line;
    app.add_option("--config", line.config,
                   "Configuration file (default /etc/convex-importd/convex-importd.toml)");

    auto* watch = app.add_subcommand("watch", "Import every CSV file dropped into SPOOL/inbox");
    add_spool_flags(*watch, line);

    auto* import = app.add_subcommand("import", "Import one CSV file and exit");
    import->add_option("file", line.file, "CSV file with email and password columns")
        ->required()
        ->check(CLI::ExistingFile);
    import->add_option("--results", line.results, "Results file (default FILE.results.csv)")
        ->type_name("PATH");
    add_common_flags(*import, line);

    auto* check_config =
        app.add_subcommand("check-config", "Check the configuration for watch, print it");
    add_spool_flags(*check_config, line);

    auto* check = app.add_subcommand("check", "Read and check a CSV file; send nothing");
    check->add_option("file", line.file, "CSV file to check")->required();
    add_input_flags(*check, line);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& error) {
        return app.exit(error) == 0 ? exit_ok : exit_usage;
    }

    const config_mode mode = import->parsed()  ? config_mode::import
                             : check->parsed() ? config_mode::check
                                               : config_mode::watch;
    const run_environment environment = run_environment::from_process();
    const config_source source{line.config, line.overrides};
    daemon_config config;
    try {
        config = load_config(source, mode, environment);
    } catch (const config_error& error) {
        std::fprintf(stderr, "convex-importd: %s\n", error.what());
        return exit_usage;
    }
    if (check_config->parsed()) {
        std::fputs(config_report(config).c_str(), stdout);
        return exit_ok;
    }
    if (check->parsed()) {
        return run_check_command(line.file, config.service.import.layout,
                                 config.service.import.rules);
    }

    try {
        setup_logging(config.log);
        log::main().info("starting version={} command={} pid={} {}", version,
                         watch->parsed() ? "watch" : "import", ::getpid(), config_fields(config));
        if (watch->parsed()) {
            return run_watch_command(config.spool, config.service, [&](service_options& live) {
                reload_config(config, source, mode, environment);
                live = config.service;
            });
        }
        const std::string results =
            line.results.empty() ? line.file + ".results.csv" : line.results;
        return run_import_command(line.file, results, config.service);
    } catch (const std::exception& error) {
        std::fprintf(stderr, "convex-importd: %s\n", error.what());
        return exit_usage;
    }
}
