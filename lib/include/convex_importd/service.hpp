#pragma once

#include <chrono>
#include <filesystem>
#include <functional>

#include "convex_importd/convex_client.hpp"
#include "convex_importd/import_job.hpp"
#include "convex_importd/reporter.hpp"

namespace convex_importd {

/// Everything the two modes need besides their paths.
struct service_options {
    deployment_url url;
    client_options client;
    import_options import;
    reporting_options reporting;
    bool keep_processed = false;  // false: an input file is deleted once it is finished
    // Where progress and the ledger live. Empty: SPOOL/state for `watch`; for `import`, a
    // temporary store that remembers nothing after the run.
    std::filesystem::path state_dir;
    std::chrono::milliseconds rescan_interval{30'000};  // inbox scan without an inotify event
    std::chrono::milliseconds settle{2'000};            // unchanged this long before a claim
};

/// Called on SIGHUP with the options in use: re-reads the configuration into them. Throws
/// on a configuration that cannot be used; the options are then left as they were.
using reload_hook = std::function<void(service_options&)>;

/// Process exit codes shared by every command.
enum exit_code : int {
    exit_ok = 0,
    exit_incomplete = 1,  // some rows have no outcome (interrupted, or the file failed)
    exit_usage = 2,       // bad command line or configuration
};

/// `convex-importd import FILE`: imports one file, prints one summary line on stdout, and
/// deletes the file unless keep_processed is set. Stops early on SIGTERM or SIGINT (a second
/// signal ends requests in flight at once); a later run with the same state_dir resumes it.
int run_import_command(const std::filesystem::path& file, const std::filesystem::path& results,
                       const service_options& options);

/// `convex-importd watch`: imports files dropped into SPOOL/inbox until SIGTERM or SIGINT,
/// telling systemd when it is ready, what it is doing and when it stops, after resuming
/// the files an earlier run left in SPOOL/processing. SIGHUP reopens the log file and calls
/// `reload`. Exits 0 after a signal: an interrupted file stays in processing/ with its
/// progress recorded.
int run_watch_command(const std::filesystem::path& spool_root, const service_options& options,
                      const reload_hook& reload = {});

}  // namespace convex_importd
