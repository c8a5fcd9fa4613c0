#include "convex_importd/deploy_key.hpp"

#include <sys/stat.h>

#include <doctest/doctest.h>

#include "test_files.hpp"

using namespace convex_importd;
namespace fs = std::filesystem;

namespace {

fs::path key_file(const testing::temp_folder& folder, std::string_view text, mode_t mode) {
    const auto file = folder.write("deploy-key", text);
    ::chmod(file.c_str(), mode);
    return file;
}

std::string refusal(const deploy_key_sources& sources) {
    try {
        load_deploy_key(sources);
    } catch (const deploy_key_error& error) {
        return error.what();
    }
    FAIL("the key was accepted");
    return {};
}

}  // namespace

TEST_CASE("no source configured means no key") {
    const deploy_key key = load_deploy_key({});
    CHECK(key.value.empty());
    CHECK(key.source == "none");
}

TEST_CASE("an owner-only key file is read, without its trailing newline") {
    testing::temp_folder folder;
    const auto file = key_file(folder, "prod:abc123|def\n", 0600);

    const deploy_key key = load_deploy_key({"", "", file});

    CHECK(key.value == "prod:abc123|def");
    CHECK(key.source == "file " + file.string());
}

TEST_CASE("a key file readable by group or others is refused with the fix") {
    testing::temp_folder folder;
    for (const mode_t mode : {0644, 0640, 0604, 0660}) {
        const auto file = key_file(folder, "prod:abc\n", mode);
        CHECK(refusal({"", "", file}).find("must not be readable by group or others") !=
              std::string::npos);
    }
}

TEST_CASE("a key that cannot go into a header line is refused") {
    testing::temp_folder folder;
    CHECK(refusal({"", "", key_file(folder, "\n", 0600)}).ends_with("is empty"));
    CHECK(refusal({"", "", key_file(folder, "prod:a\nX-Evil: 1\n", 0600)})
              .ends_with("expected one line of printable characters"));
    CHECK(refusal({"", "", folder.path() / "missing"}).find("No such file") != std::string::npos);
}

TEST_CASE("the systemd credential wins over the key file; a missing one falls through") {
    testing::temp_folder folder;
    const auto file = key_file(folder, "from-file", 0600);
    fs::create_directory(folder.path() / "creds");

    CHECK(load_deploy_key({folder.path() / "creds", "convex-importd.deploy-key", file}).value ==
          "from-file");

    folder.write("creds/convex-importd.deploy-key", "from-credential\n");
    const deploy_key key =
        load_deploy_key({folder.path() / "creds", "convex-importd.deploy-key", file});
    CHECK(key.value == "from-credential");
    CHECK(key.source == "credential convex-importd.deploy-key");
}
