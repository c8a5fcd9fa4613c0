#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>

namespace convex_importd {

/// A deploy key that must not be used: a key file readable by group or others, unreadable,
/// empty or holding characters that cannot go into an HTTP header.
class deploy_key_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Where a deploy key may come from. Never argv or the environment: both are visible to
/// other processes.
struct deploy_key_sources {
    std::filesystem::path credentials_directory;  // $CREDENTIALS_DIRECTORY; empty: none
    std::string credential;                       // name under it (LoadCredential=)
    std::filesystem::path key_file;               // empty: none
};

struct deploy_key {
    std::string value;            // empty: no key; requests go without Authorization
    std::string source = "none";  // "credential NAME", "file PATH" or "none"
};

/// The systemd credential when systemd passed one, else the key file when one is set,
/// else no key. Throws deploy_key_error.
deploy_key load_deploy_key(const deploy_key_sources& sources);

}  // namespace convex_importd
