#pragma once

#include <chrono>
#include <filesystem>

#include "convex_importd/convex_client.hpp"
#include "convex_importd/import_job.hpp"

namespace convex_importd {

/// Everything the two modes need besides their paths.
struct service_options {
    deployment_url url;
    client_options client;
    import_options import;
    // Where progress and the ledger live. Empty: SPOOL/state for `watch`; for `import`, a
    // temporary store that remembers nothing after the run.
    std::filesystem::path state_dir;
    std::chrono::milliseconds rescan_interval{30'000};  // inbox scan without an inotify event
    std::chrono::milliseconds settle{2'000};            // unchanged this long before a claim
};

/// Process exit codes shared by every command.
enum exit_code : int {
    exit_ok = 0,
    exit_incomplete = 1,  // some rows have no outcome (interrupted, or the file failed)
    exit_usage = 2,       // bad command line or configuration
};

/// `convex-importd import FILE`: imports one file, prints one summary line on stdout.
/// Stops early on SIGTERM or SIGINT (a second signal ends requests in flight at once); a
/// later run with the same --state-dir resumes the file.
int run_import_command(const std::filesystem::path& file, const std::filesystem::path& results,
                       const service_options& options);

/// `convex-importd watch`: imports files dropped into SPOOL/inbox until SIGTERM or SIGINT,
/// after resuming the files an earlier run left in SPOOL/processing. Exits 0 after a signal:
/// an interrupted file stays in processing/ with its progress recorded.
int run_watch_command(const std::filesystem::path& spool_root, const service_options& options);

}  // namespace convex_importd
