// convex-importd: signs users up in a Convex deployment from CSV files.
// This file only turns the command line into options and hands them to the library.

#include <sys/prctl.h>
#include <sys/resource.h>

#include <csignal>
#include <cstdio>
#include <exception>
#include <string>

#include <CLI/CLI.hpp>

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
    std::size_t concurrency = 16;
};

void add_common_options(CLI::App& command, command_line& line) {
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
}

service_options to_service_options(const command_line& line) {
    service_options options;
    options.url = parse_deployment_url(line.url);
    options.client.ca_file = line.ca_file;
    options.import.concurrency = line.concurrency;
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
    add_common_options(*watch, line);

    auto* import = app.add_subcommand("import", "Import one CSV file and exit");
    import->add_option("file", line.file, "CSV file with email and password columns")
        ->required()
        ->check(CLI::ExistingFile);
    import->add_option("--results", line.results, "Results file (default FILE.results.csv)");
    add_common_options(*import, line);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& error) {
        return app.exit(error) == 0 ? exit_ok : exit_usage;
    }

    try {
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
