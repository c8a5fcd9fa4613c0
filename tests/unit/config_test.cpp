#include "convex_importd/config.hpp"

#include <sys/stat.h>

#include <doctest/doctest.h>

#include <regex>

#include <fmt/format.h>

#include "test_files.hpp"

using namespace convex_importd;
namespace fs = std::filesystem;

namespace {

const config_override url_flag{"--url", "deployment.url", "https://example.convex.cloud"};

std::string value_of(const daemon_config& config, std::string_view key) {
    for (const auto& [name, value] : describe_config(config)) {
        if (name == key) {
            return value;
        }
    }
    FAIL("no key ", key);
    return {};
}

std::string load_error(const config_source& source, config_mode mode = config_mode::import,
                       const run_environment& environment = {}) {
    try {
        load_config(source, mode, environment);
    } catch (const config_error& error) {
        return error.what();
    }
    FAIL("the configuration was accepted");
    return {};
}

// The example file with every `#key = value` line turned into a setting.
std::string uncommented_example() {
    const std::string text =
        testing::read_all(fs::path(CONVEX_IMPORTD_SOURCE_DIR) / "config/convex-importd.toml");
    return std::regex_replace(text, std::regex("^#([a-z_]+ = )", std::regex::multiline), "$1");
}

}  // namespace

TEST_CASE("without a file every key has its default, and a flag sets the URL") {
    const auto config = load_config({"/dev/null", {url_flag}}, config_mode::import, {});

    CHECK(config.service.url.host == "example.convex.cloud");
    CHECK(config.service.url.tls);
    CHECK(config.service.import.concurrency == 16);
    CHECK(config.service.reporting.progress_interval == std::chrono::seconds(10));
    CHECK(config.service.reporting.status_file.empty());
    CHECK(config.log.file.empty());
    CHECK(config.log.format == "text");
    CHECK_FALSE(config.service.keep_processed);
    CHECK(value_of(config, "deploy_key") == "none");
}

TEST_CASE("the file sets values and flags override it; each key remembers where it was set") {
    testing::temp_folder folder;
    const auto file = folder.write("c.toml",
                                   "[deployment]\nurl = \"http://127.0.0.1:3210\"\n"
                                   "[import]\nconcurrency = 8\nparams = [\"Full Name=name\"]\n"
                                   "[log]\nlevel = \"debug\"\nprogress_interval = \"2s\"\n");

    const auto config = load_config({file, {{"--concurrency", "import.concurrency", "4"}}},
                                    config_mode::import, {});

    CHECK(config.service.url.text() == "http://127.0.0.1:3210");
    CHECK(config.service.import.concurrency == 4);
    CHECK(config.log.level == "debug");
    CHECK(config.service.reporting.progress_interval == std::chrono::seconds(2));
    REQUIRE(config.service.import.layout.names.params.size() == 1);
    CHECK(config.service.import.layout.names.params[0].first == "Full Name");
    CHECK(config.service.import.layout.names.params[0].second == "name");
    CHECK(config_report(config).find("import.concurrency = 4  # --concurrency") !=
          std::string::npos);
    CHECK(config_report(config).find("log.level = debug  # " + file.string() + ":7:9") !=
          std::string::npos);
}

TEST_CASE("a repeated list flag replaces the file's list with all of its values") {
    testing::temp_folder folder;
    const auto file = folder.write("c.toml", "[import]\nparams = [\"team\"]\n");

    const auto config = load_config({file,
                                     {url_flag,
                                      {"--param", "import.params", "name"},
                                      {"--param", "import.params", "Dept=department"}}},
                                    config_mode::import, {});

    CHECK(value_of(config, "import.params") == "name,Dept=department");
}

TEST_CASE("mistakes stop with FILE:LINE:COLUMN, the key and what was expected") {
    testing::temp_folder folder;
    const auto check = [&](const std::string& toml, const std::string& expected) {
        const auto file = folder.write("bad.toml", toml);
        CHECK(load_error({file, {url_flag}}) == file.string() + expected);
    };

    check("[import]\nconcurency = 4\n",
          ":2:1: unknown key \"import.concurency\" (did you mean \"import.concurrency\"?)");
    check("url = \"https://x.convex.cloud\"\n",
          ":1:1: unknown key \"url\" (did you mean \"deployment.url\"?)");
    check("[imports]\nconcurrency = 4\n",
          ":1:2: unknown section [imports] (did you mean [import]?)");
    check("[import]\nconcurrency = \"4\"\n",
          ":2:15: import.concurrency: expected an integer from 1 to 4096, got a string");
    check("[import]\nconcurrency = 0\n",
          ":2:15: import.concurrency: expected an integer from 1 to 4096, got 0");
    check("[log]\nlevel = \"loud\"\n",
          ":2:9: log.level: expected one of \"trace\", \"debug\", \"info\", \"warn\", \"error\", "
          "got \"loud\"");
    check("[log]\nprogress_interval = \"10\"\n",
          ":2:21: log.progress_interval: expected a duration such as \"10s\" (ms, s, m or h) "
          "from 1s to 1h, got \"10\"");
    check("[spool]\nkeep_processed = \"yes\"\n",
          ":2:18: spool.keep_processed: expected true or false, got a string");
    check("[import]\nparams = [\"email\"]\n",
          ":2:10: import.params: expected a list of \"COLUMN\" or \"COLUMN=NAME\" (NAME not email, "
          "password or flow), got \"email\" (the importer sends \"email\" itself)");
    check("[deployment]\nurl = \"ftp://x\"\n",
          ":2:7: deployment.url: expected an http:// or https:// deployment URL, got \"ftp://x\" "
          "(deployment URL must start with http:// or https://)");
}

TEST_CASE("a file that is not TOML names the line of the fault") {
    testing::temp_folder folder;
    const auto file = folder.write("broken.toml", "[deployment]\nurl = \"https://x\n");

    const std::string error = load_error({file, {url_flag}});

    CHECK(error.starts_with(file.string() + ":2:"));
    CHECK(error.find("invalid TOML") != std::string::npos);
}

TEST_CASE("a bad flag value names the flag") {
    CHECK(load_error({"/dev/null", {url_flag, {"--concurrency", "import.concurrency", "lots"}}}) ==
          "--concurrency: import.concurrency: expected an integer from 1 to 4096, got \"lots\"");
}

TEST_CASE("a named file must exist; the default file may be missing") {
    CHECK(load_error({"/nonexistent/c.toml", {url_flag}}) ==
          "config file /nonexistent/c.toml: no such file");

    testing::temp_folder folder;
    run_environment environment;
    environment.configuration_directory = folder.path();
    CHECK(default_config_file(environment) == folder.path() / "convex-importd.toml");
    CHECK_NOTHROW(load_config({"", {url_flag}}, config_mode::import, environment));

    folder.write("convex-importd.toml", "[import]\nconcurrency = 3\n");
    const auto config = load_config({"", {url_flag}}, config_mode::import, environment);
    CHECK(config.service.import.concurrency == 3);
}

TEST_CASE("the URL is required, and watch needs a spool unless systemd gives a state directory") {
    CHECK(load_error({"/dev/null", {}}) ==
          "no deployment URL: set deployment.url in /dev/null or pass --url");
    CHECK(load_error({"/dev/null", {url_flag}}, config_mode::watch) ==
          "no spool folder: set spool.path in /dev/null or pass --spool");

    run_environment systemd;
    systemd.state_directory = "/var/lib/convex-importd";
    systemd.logs_directory = "/var/log/convex-importd";
    const auto config = load_config({"/dev/null", {url_flag}}, config_mode::watch, systemd);
    CHECK(config.spool == "/var/lib/convex-importd/spool");
    CHECK(config.log.file == "/var/log/convex-importd/convex-importd.log");
    CHECK(config.service.reporting.status_file == "/var/lib/convex-importd/status.json");
}

TEST_CASE("without systemd the status file sits in SPOOL/state, and \"-\" turns files off") {
    const config_override spool{"--spool", "spool.path", "/srv/spool"};
    const auto config = load_config({"/dev/null", {url_flag, spool}}, config_mode::watch, {});
    CHECK(config.service.reporting.status_file == "/srv/spool/state/status.json");

    run_environment systemd;
    systemd.logs_directory = "/var/log/convex-importd";
    const auto off = load_config(
        {"/dev/null",
         {url_flag, spool, {"--log-file", "log.file", "-"}, {"--status-file", "status.file", "-"}}},
        config_mode::watch, systemd);
    CHECK(off.log.file.empty());
    CHECK(off.service.reporting.status_file.empty());
}

TEST_CASE("a CA file that is not there is refused") {
    CHECK(
        load_error({"/dev/null", {url_flag, {"--ca-file", "deployment.ca_file", "/no/ca.pem"}}}) ==
        "--ca-file: deployment.ca_file: no such file: /no/ca.pem");
}

TEST_CASE("the deploy key comes from the systemd credential first, then from the key file") {
    testing::temp_folder folder;
    const auto key_file = folder.write("key", "prod:file-key\n");
    ::chmod(key_file.c_str(), 0600);
    const auto file =
        folder.write("c.toml", "[deployment]\ndeploy_key_file = \"" + key_file.string() + "\"\n");

    auto config = load_config({file, {url_flag}}, config_mode::import, {});
    CHECK(config.service.client.deploy_key == "prod:file-key");
    CHECK(value_of(config, "deploy_key") == "file " + key_file.string());
    CHECK(config_fields(config).find("file-key") == std::string::npos);

    fs::create_directory(folder.path() / "credentials");
    folder.write("credentials/convex-importd.deploy-key", "prod:credential-key");
    run_environment systemd;
    systemd.credentials_directory = folder.path() / "credentials";
    config = load_config({file, {url_flag}}, config_mode::import, systemd);
    CHECK(config.service.client.deploy_key == "prod:credential-key");
    CHECK(value_of(config, "deploy_key") == "credential convex-importd.deploy-key");
}

TEST_CASE("a key file readable by group or others is refused") {
    testing::temp_folder folder;
    const auto key_file = folder.write("key", "prod:secret\n");
    ::chmod(key_file.c_str(), 0640);
    const auto file =
        folder.write("c.toml", "[deployment]\ndeploy_key_file = \"" + key_file.string() + "\"\n");

    const std::string error = load_error({file, {url_flag}});

    CHECK(error == "deploy key file " + key_file.string() +
                       " has mode 0640: it must not be readable by group or others (chmod 600 " +
                       key_file.string() + ")");
}

TEST_CASE("the example file documents every key with its default") {
    const std::string example = uncommented_example();
    for (const auto name : config_key_names()) {
        const auto dot = name.find('.');
        const std::string section = fmt::format("[{}]", name.substr(0, dot));
        const std::string key = fmt::format("\n{} = ", name.substr(dot + 1));
        const auto section_at = example.find(section);
        REQUIRE_MESSAGE(section_at != std::string::npos, name);
        const auto next_section = example.find("\n[", section_at + 1);
        const auto key_at = example.find(key, section_at);
        CHECK_MESSAGE((key_at != std::string::npos && key_at < next_section), name);
    }

    testing::temp_folder folder;
    const auto file = folder.write("example.toml", example);
    run_environment systemd;
    systemd.state_directory = "/var/lib/convex-importd";
    systemd.logs_directory = "/var/log/convex-importd";
    const config_override url{"--url", "deployment.url", "https://happy-otter-123.convex.cloud"};
    const auto from_example = load_config({file, {}}, config_mode::watch, systemd);
    const auto from_defaults = load_config({"/dev/null", {url}}, config_mode::watch, systemd);
    CHECK(describe_config(from_example) == describe_config(from_defaults));
}

TEST_CASE("a reload takes over the keys that are safe to change and lists the others") {
    run_environment environment;
    auto live = load_config({"/dev/null", {url_flag}}, config_mode::import, environment);
    const auto fresh = load_config({"/dev/null",
                                    {{"--url", "deployment.url", "https://other.convex.cloud"},
                                     {"--concurrency", "import.concurrency", "5"},
                                     {"--log-level", "log.level", "debug"},
                                     {"--log-format", "log.format", "json"}}},
                                   config_mode::import, environment);

    const reload_outcome outcome = apply_reload(live, fresh);

    CHECK(outcome.applied == std::vector<std::string>{"import.concurrency", "log.level"});
    CHECK(outcome.need_restart == std::vector<std::string>{"deployment.url", "log.format"});
    CHECK(live.service.import.concurrency == 5);
    CHECK(live.log.level == "debug");
    CHECK(live.service.url.host == "example.convex.cloud");
    CHECK(live.log.format == "text");
}
