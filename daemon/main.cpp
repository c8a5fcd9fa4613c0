// convex-importd: signs users up in a Convex deployment from CSV files.
// This file only turns the command line into options and hands them to the library.

#include <sys/prctl.h>
#include <sys/resource.h>

#include <algorithm>
#include <cctype>
#include <csignal>
#include <cstdio>
#include <exception>
#include <map>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "convex_importd/check.hpp"
#include "convex_importd/duration.hpp"
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
    std::string url;
    std::string spool;
    std::string file;
    std::string results;
    std::string ca_file;
    std::string log_file;
    std::string log_level = "info";
    std::vector<std::string> params;
    std::size_t concurrency = 16;

    std::string delimiter;
    std::string email_column;
    std::string password_column;
    bool no_header = false;
    std::vector<std::string> columns;
    std::string email_case = "lower";
    std::size_t min_password_length = 8;
    std::size_t max_record_bytes = 64 * 1024;

    // Pacing, retries and state; durations are parsed by parse_duration().
    const service_options defaults;
    double rate = 0;
    bool no_adaptive = false;
    unsigned max_attempts = defaults.import.retry.max_attempts;
    std::string backoff_initial = format_duration(defaults.import.retry.initial_backoff);
    std::string backoff_max = format_duration(defaults.import.retry.max_backoff);
    std::string row_deadline = format_duration(defaults.import.retry.row_deadline);
    std::string resolve_timeout = format_duration(defaults.client.resolve_timeout);
    std::string connect_timeout = format_duration(defaults.client.connect_timeout);
    std::string tls_timeout = format_duration(defaults.client.tls_timeout);
    std::string write_timeout = format_duration(defaults.client.write_timeout);
    std::string read_timeout = format_duration(defaults.client.read_timeout);
    std::string grace = format_duration(defaults.import.grace);
    std::string settle = format_duration(defaults.settle);
    std::string rescan = format_duration(defaults.rescan_interval);
    std::string state_dir;
    bool no_ledger = false;
};

void add_duration_option(CLI::App& command, const std::string& name, std::string& value,
                         const std::string& what) {
    command.add_option(name, value, what + " (e.g. 250ms, 2s, 5m)")->capture_default_str();
}

// Options for how fast and how persistently sign-ups are sent, and where progress is kept.
void add_pacing_options(CLI::App& command, command_line& line) {
    command.add_option("--rate", line.rate, "Sign-ups started per second at most; 0: no limit")
        ->check(CLI::NonNegativeNumber)
        ->capture_default_str();
    command.add_flag("--no-adaptive", line.no_adaptive,
                     "Keep --concurrency requests in flight instead of backing off on 429/503");
    command.add_option("--max-attempts", line.max_attempts, "Attempts per row at most")
        ->check(CLI::Range(1U, 1000U))
        ->capture_default_str();
    add_duration_option(command, "--backoff-initial", line.backoff_initial,
                        "First retry waits up to this");
    add_duration_option(command, "--backoff-max", line.backoff_max, "No retry waits longer");
    add_duration_option(command, "--row-deadline", line.row_deadline,
                        "A row gives up retrying this long after its first attempt");
    add_duration_option(command, "--resolve-timeout", line.resolve_timeout, "DNS lookup timeout");
    add_duration_option(command, "--connect-timeout", line.connect_timeout, "TCP connect timeout");
    add_duration_option(command, "--tls-timeout", line.tls_timeout, "TLS handshake timeout");
    add_duration_option(command, "--write-timeout", line.write_timeout,
                        "Timeout for sending a request");
    add_duration_option(command, "--read-timeout", line.read_timeout,
                        "Timeout for the answer to a request");
    add_duration_option(command, "--grace", line.grace,
                        "On SIGTERM/SIGINT, requests in flight may finish for this long");
    command.add_option("--state-dir", line.state_dir,
                       "Progress and ledger database (watch default: SPOOL/state)");
    command.add_flag("--no-ledger", line.no_ledger,
                     "Send rows whose email was created or found to exist before");
}

// Options that say how to read input files: every command that reads one takes them.
void add_input_options(CLI::App& command, command_line& line) {
    command.add_option("--delimiter", line.delimiter, "Field delimiter: , ; tab | (default: detect)")
        ->check(CLI::IsMember({",", ";", "tab", "\t", "|"}));
    command.add_option("--email-column", line.email_column, "Header name of the email column");
    command.add_option("--password-column", line.password_column,
                       "Header name of the password column");
    command.add_flag("--no-header", line.no_header, "The file has no header row; see --columns");
    command.add_option("--columns", line.columns, "Column names in order, with --no-header")
        ->delimiter(',');
    command.add_option("--param", line.params,
                       "Pass column COLUMN as sign-up param NAME (COLUMN[=NAME], repeatable)");
    command.add_option("--email-case", line.email_case, "lower (default) or preserve")
        ->check(CLI::IsMember({"lower", "preserve"}));
    command.add_option("--min-password-length", line.min_password_length,
                       "Shorter passwords are invalid, in UTF-16 units; 0 turns it off")
        ->capture_default_str();
    command.add_option("--max-record-bytes", line.max_record_bytes,
                       "Longer records are invalid")
        ->check(CLI::Range(std::size_t{256}, std::size_t{16} << 20))
        ->capture_default_str();
}

// Options for commands that talk to the deployment.
void add_network_options(CLI::App& command, command_line& line) {
    command.add_option("--url", line.url, "Convex deployment URL, e.g. https://x.convex.cloud")
        ->required();
    command.add_option("--concurrency", line.concurrency, "Sign-ups in flight at once")
        ->check(CLI::Range(1, 4096))
        ->capture_default_str();
    command.add_option("--ca-file", line.ca_file, "Extra CA certificates (PEM) for https")
        ->check(CLI::ExistingFile);
    command.add_option("--log-file", line.log_file, "Also write log lines to this file");
    command.add_option("--log-level", line.log_level, "trace, debug, info, warn or error")
        ->capture_default_str();
    add_pacing_options(command, line);
}

// "Full Name=name" passes the column "Full Name" as the param "name"; "name" keeps the name.
std::pair<std::string, std::string> parse_param(const std::string& text) {
    const auto equals = text.rfind('=');
    if (equals == std::string::npos) {
        return {text, text};
    }
    if (equals == 0 || equals + 1 == text.size()) {
        throw std::invalid_argument("--param " + text + ": expected COLUMN or COLUMN=NAME");
    }
    return {text.substr(0, equals), text.substr(equals + 1)};
}

// Convex rejects some object keys (a leading `$`, non-ASCII); an identifier is always safe.
void check_param_name(const std::string& name) {
    const bool identifier =
        !name.empty() && std::isdigit(static_cast<unsigned char>(name.front())) == 0 &&
        std::all_of(name.begin(), name.end(), [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
        });
    if (!identifier || name.size() > 64) {
        throw std::invalid_argument("--param name \"" + name +
                                    "\" must be letters, digits and _ (COLUMN=NAME renames)");
    }
    for (const char* reserved : {"email", "password", "flow"}) {
        if (name == reserved) {
            throw std::invalid_argument("--param cannot set \"" + name +
                                        "\": the importer sends it itself");
        }
    }
}

layout_options to_layout_options(const command_line& line) {
    layout_options layout;
    if (!line.delimiter.empty()) {
        layout.delimiter = line.delimiter == "tab" ? '\t' : line.delimiter.front();
    }
    layout.header = !line.no_header;
    layout.columns = line.columns;
    if (line.no_header && line.columns.empty()) {
        throw std::invalid_argument("--no-header needs --columns, e.g. --columns email,password");
    }
    layout.names.email_column = line.email_column;
    layout.names.password_column = line.password_column;
    for (const auto& param : line.params) {
        auto [column, name] = parse_param(param);
        check_param_name(name);
        layout.names.params.emplace_back(std::move(column), std::move(name));
    }
    layout.max_record_bytes = line.max_record_bytes;
    return layout;
}

row_rules to_row_rules(const command_line& line) {
    row_rules rules;
    rules.letter_case = line.email_case == "preserve" ? email_case::preserve : email_case::lower;
    rules.min_password_length = line.min_password_length;
    return rules;
}

service_options to_service_options(const command_line& line) {
    service_options options;
    options.url = parse_deployment_url(line.url);
    options.client.ca_file = line.ca_file;
    options.import.concurrency = line.concurrency;
    options.import.layout = to_layout_options(line);
    options.import.rules = to_row_rules(line);

    options.import.pacing.rate = line.rate;
    options.import.pacing.adaptive = !line.no_adaptive;
    options.import.retry.max_attempts = line.max_attempts;
    options.import.retry.initial_backoff = parse_duration(line.backoff_initial);
    options.import.retry.max_backoff = parse_duration(line.backoff_max);
    options.import.retry.row_deadline = parse_duration(line.row_deadline);
    options.client.resolve_timeout = parse_duration(line.resolve_timeout);
    options.client.connect_timeout = parse_duration(line.connect_timeout);
    options.client.tls_timeout = parse_duration(line.tls_timeout);
    options.client.write_timeout = parse_duration(line.write_timeout);
    options.client.read_timeout = parse_duration(line.read_timeout);
    options.import.grace = parse_duration(line.grace);
    options.import.use_ledger = !line.no_ledger;
    options.state_dir = line.state_dir;
    options.settle = parse_duration(line.settle);
    options.rescan_interval = parse_duration(line.rescan);
    if (options.rescan_interval < std::chrono::milliseconds(100)) {
        throw std::invalid_argument("--rescan must be at least 100ms");
    }
    return options;
}

}  // namespace

int main(int argc, char** argv) {
    forbid_core_dumps();
    std::signal(SIGPIPE, SIG_IGN);

    CLI::App app{"convex-importd: bulk sign-up of users into a Convex Auth app from CSV files"};
    app.set_version_flag("--version", std::string("convex-importd ") + version);
    app.require_subcommand(1);

    command_line line;
    auto* watch = app.add_subcommand("watch", "Import every CSV file dropped into SPOOL/inbox");
    watch->add_option("--spool", line.spool, "Spool folder (inbox, processing, done, failed)")
        ->required();
    add_duration_option(*watch, "--settle", line.settle,
                        "A file in inbox/ must keep its size and mtime this long to be claimed");
    add_duration_option(*watch, "--rescan", line.rescan,
                        "Scan inbox/ this often even without an inotify event");
    add_network_options(*watch, line);
    add_input_options(*watch, line);

    auto* import = app.add_subcommand("import", "Import one CSV file and exit");
    import->add_option("file", line.file, "CSV file with email and password columns")
        ->required()
        ->check(CLI::ExistingFile);
    import->add_option("--results", line.results, "Results file (default FILE.results.csv)");
    add_network_options(*import, line);
    add_input_options(*import, line);

    auto* check = app.add_subcommand("check", "Read and check a CSV file; send nothing");
    check->add_option("file", line.file, "CSV file to check")->required();
    add_input_options(*check, line);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& error) {
        return app.exit(error) == 0 ? exit_ok : exit_usage;
    }

    try {
        if (check->parsed()) {
            return run_check_command(line.file, to_layout_options(line), to_row_rules(line));
        }
        setup_logging({line.log_file, line.log_level});
        const service_options options = to_service_options(line);
        if (watch->parsed()) {
            return run_watch_command(line.spool, options);
        }
        const std::string results = line.results.empty() ? line.file + ".results.csv"
                                                         : line.results;
        return run_import_command(line.file, results, options);
    } catch (const std::exception& error) {
        std::fprintf(stderr, "convex-importd: %s\n", error.what());
        return exit_usage;
    }
}
