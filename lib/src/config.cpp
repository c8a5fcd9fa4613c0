#include "convex_importd/config.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <span>
#include <variant>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "convex_importd/deploy_key.hpp"
#include "convex_importd/logging.hpp"

namespace convex_importd {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

using param_list = std::vector<std::pair<std::string, std::string>>;

// Each key names the field it sets, so that one table drives reading the file, the flags,
// the description and reloads. A new key is one row here and a line in the example file.
using text_field = std::string& (*)(daemon_config&);
using path_field = fs::path& (*)(daemon_config&);
using count_field = std::size_t& (*)(daemon_config&);
using flag_field = bool& (*)(daemon_config&);
using duration_field = std::chrono::milliseconds& (*)(daemon_config&);
using url_field = deployment_url& (*)(daemon_config&);
using params_field = param_list& (*)(daemon_config&);
using field = std::variant<text_field, path_field, count_field, flag_field, duration_field,
                           url_field, params_field>;

enum class change { live, restart };

struct key_spec {
    std::string_view name;
    field access;
    change reload = change::restart;
    std::int64_t min = 0;  // counts: the value; durations: milliseconds
    std::int64_t max = 0;
    std::span<const std::string_view> choices = {};
};

constexpr std::array<std::string_view, 5> log_levels{"trace", "debug", "info", "warn", "error"};
constexpr std::array<std::string_view, 5> delimiters{"auto", ",", ";", "tab", "|"};
constexpr std::array<std::string_view, 2> email_cases{"lower", "preserve"};
constexpr std::array<std::string_view, 2> log_formats{"text", "json"};

const std::array key_specs{
    key_spec{"deployment.url", +[](daemon_config& c) -> deployment_url& { return c.service.url; }},
    key_spec{"deployment.ca_file",
             +[](daemon_config& c) -> std::string& { return c.service.client.ca_file; }},
    key_spec{"deployment.deploy_key_file",
             +[](daemon_config& c) -> fs::path& { return c.deploy_key_file; }},
    key_spec{"deployment.deploy_key_credential",
             +[](daemon_config& c) -> std::string& { return c.deploy_key_credential; }},
    key_spec{"deployment.resolve_timeout",
             +[](daemon_config& c) -> std::chrono::milliseconds& {
                 return c.service.client.resolve_timeout;
             },
             change::restart, 100, 600'000},
    key_spec{"deployment.connect_timeout",
             +[](daemon_config& c) -> std::chrono::milliseconds& {
                 return c.service.client.connect_timeout;
             },
             change::restart, 100, 600'000},
    key_spec{"deployment.tls_timeout",
             +[](daemon_config& c) -> std::chrono::milliseconds& {
                 return c.service.client.tls_timeout;
             },
             change::restart, 100, 600'000},
    key_spec{"deployment.write_timeout",
             +[](daemon_config& c) -> std::chrono::milliseconds& {
                 return c.service.client.write_timeout;
             },
             change::restart, 100, 3'600'000},
    key_spec{"deployment.read_timeout",
             +[](daemon_config& c) -> std::chrono::milliseconds& {
                 return c.service.client.read_timeout;
             },
             change::restart, 1'000, 3'600'000},
    key_spec{"import.concurrency",
             +[](daemon_config& c) -> std::size_t& { return c.service.import.concurrency; },
             change::live, 1, 4096},
    key_spec{"import.rate", +[](daemon_config& c) -> std::size_t& { return c.rate; }, change::live,
             0, 1'000'000},
    key_spec{"import.adaptive",
             +[](daemon_config& c) -> bool& { return c.service.import.pacing.adaptive; },
             change::live},
    key_spec{"import.max_attempts",
             +[](daemon_config& c) -> std::size_t& { return c.max_attempts; }, change::live, 1,
             1000},
    key_spec{"import.backoff_initial",
             +[](daemon_config& c) -> std::chrono::milliseconds& {
                 return c.service.import.retry.initial_backoff;
             },
             change::live, 1, 600'000},
    key_spec{"import.backoff_max",
             +[](daemon_config& c) -> std::chrono::milliseconds& {
                 return c.service.import.retry.max_backoff;
             },
             change::live, 1, 3'600'000},
    key_spec{"import.row_deadline",
             +[](daemon_config& c) -> std::chrono::milliseconds& {
                 return c.service.import.retry.row_deadline;
             },
             change::live, 1'000, 86'400'000},
    key_spec{"import.grace",
             +[](daemon_config& c) -> std::chrono::milliseconds& { return c.service.import.grace; },
             change::live, 0, 3'600'000},
    key_spec{"import.ledger",
             +[](daemon_config& c) -> bool& { return c.service.import.use_ledger; }, change::live},
    key_spec{"import.params",
             +[](daemon_config& c) -> param_list& { return c.service.import.layout.names.params; },
             change::live},
    key_spec{"import.delimiter", +[](daemon_config& c) -> std::string& { return c.delimiter; },
             change::live, 0, 0, delimiters},
    key_spec{"import.header",
             +[](daemon_config& c) -> bool& { return c.service.import.layout.header; },
             change::live},
    key_spec{"import.columns", +[](daemon_config& c) -> std::string& { return c.columns; },
             change::live},
    key_spec{"import.email_column",
             +[](daemon_config& c) -> std::string& {
                 return c.service.import.layout.names.email_column;
             },
             change::live},
    key_spec{"import.password_column",
             +[](daemon_config& c) -> std::string& {
                 return c.service.import.layout.names.password_column;
             },
             change::live},
    key_spec{"import.email_case", +[](daemon_config& c) -> std::string& { return c.email_case; },
             change::live, 0, 0, email_cases},
    key_spec{"import.min_password_length",
             +[](daemon_config& c) -> std::size_t& {
                 return c.service.import.rules.min_password_length;
             },
             change::live, 0, 1024},
    key_spec{
        "import.max_record_bytes",
        +[](daemon_config& c) -> std::size_t& { return c.service.import.layout.max_record_bytes; },
        change::live, 256, 16 << 20},
    key_spec{"spool.path", +[](daemon_config& c) -> fs::path& { return c.spool; }},
    key_spec{"spool.state_dir", +[](daemon_config& c) -> fs::path& { return c.service.state_dir; }},
    key_spec{"spool.settle",
             +[](daemon_config& c) -> std::chrono::milliseconds& { return c.service.settle; },
             change::live, 0, 3'600'000},
    key_spec{"spool.keep_processed",
             +[](daemon_config& c) -> bool& { return c.service.keep_processed; }, change::live},
    key_spec{
        "spool.rescan_interval",
        +[](daemon_config& c) -> std::chrono::milliseconds& { return c.service.rescan_interval; },
        change::live, 100, 3'600'000},
    key_spec{"log.file", +[](daemon_config& c) -> fs::path& { return c.log.file; }},
    key_spec{"log.level", +[](daemon_config& c) -> std::string& { return c.log.level; },
             change::live, 0, 0, log_levels},
    key_spec{"log.format", +[](daemon_config& c) -> std::string& { return c.log.format; },
             change::restart, 0, 0, log_formats},
    key_spec{"log.progress_interval",
             +[](daemon_config& c) -> std::chrono::milliseconds& {
                 return c.service.reporting.progress_interval;
             },
             change::live, 1'000, 3'600'000},
    key_spec{"status.file",
             +[](daemon_config& c) -> fs::path& { return c.service.reporting.status_file; }},
    key_spec{"status.interval",
             +[](daemon_config& c) -> std::chrono::milliseconds& {
                 return c.service.reporting.status_interval;
             },
             change::live, 1'000, 3'600'000},
};

const key_spec* find_key(std::string_view name) {
    const auto it = std::find_if(key_specs.begin(), key_specs.end(),
                                 [name](const key_spec& spec) { return spec.name == name; });
    return it == key_specs.end() ? nullptr : &*it;
}

bool is_section(std::string_view name) {
    return std::any_of(key_specs.begin(), key_specs.end(), [name](const key_spec& spec) {
        return spec.name.size() > name.size() && spec.name.starts_with(name) &&
               spec.name[name.size()] == '.';
    });
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) {
        row[j] = j;
    }
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t above = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
            diagonal = above;
        }
    }
    return row[b.size()];
}

// A near spelling of a section that exists.
std::string section_suggestion(std::string_view name) {
    for (const auto& spec : key_specs) {
        const std::string_view section = spec.name.substr(0, spec.name.rfind('.'));
        if (edit_distance(name, section) <= 2) {
            return fmt::format(" (did you mean [{}]?)", section);
        }
    }
    return "";
}

// A near spelling, or the same name in the section where it belongs.
std::string suggestion(std::string_view name) {
    std::string_view best;
    std::size_t best_distance = 3;
    for (const auto& spec : key_specs) {
        const bool moved = spec.name.ends_with(std::string(".") + std::string(name));
        const std::size_t distance = moved ? 0 : edit_distance(name, spec.name);
        if (distance < best_distance) {
            best = spec.name;
            best_distance = distance;
        }
    }
    return best.empty() ? "" : fmt::format(" (did you mean \"{}\"?)", best);
}

// A value that could not be read; the caller adds where it was and which key.
struct bad_value {
    std::string got;
};

std::string in_quotes(std::string_view text) {
    return fmt::format("\"{}\"", text);
}

std::string toml_type_name(const toml::node& node) {
    switch (node.type()) {
        case toml::node_type::string:
            return "a string";
        case toml::node_type::integer:
            return "an integer";
        case toml::node_type::floating_point:
            return "a floating-point number";
        case toml::node_type::boolean:
            return "a boolean";
        case toml::node_type::array:
            return "an array";
        case toml::node_type::table:
            return "a table";
        default:
            return "a date or time";
    }
}

std::string format_duration(std::chrono::milliseconds value) {
    const auto count = value.count();
    if (count != 0 && count % 3'600'000 == 0) {
        return fmt::format("{}h", count / 3'600'000);
    }
    if (count != 0 && count % 60'000 == 0) {
        return fmt::format("{}m", count / 60'000);
    }
    if (count % 1'000 == 0) {
        return fmt::format("{}s", count / 1'000);
    }
    return fmt::format("{}ms", count);
}

std::optional<std::int64_t> parse_integer(std::string_view text) {
    std::int64_t value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size()) {
        return std::nullopt;
    }
    return value;
}

std::chrono::milliseconds parse_duration(std::string_view text) {
    const auto digits_end = text.find_first_not_of("0123456789");
    const auto number = parse_integer(text.substr(0, digits_end));
    const std::string_view unit =
        digits_end == std::string_view::npos ? "" : text.substr(digits_end);
    constexpr std::array<std::pair<std::string_view, std::int64_t>, 4> units{
        {{"ms", 1}, {"s", 1'000}, {"m", 60'000}, {"h", 3'600'000}}};
    const auto it = std::find_if(units.begin(), units.end(),
                                 [unit](const auto& known) { return known.first == unit; });
    if (!number || it == units.end() || *number > 1'000'000'000) {
        throw bad_value{in_quotes(text)};
    }
    return std::chrono::milliseconds(*number * it->second);
}

// "Full Name=name" passes the column "Full Name" as the param "name"; "name" keeps the name.
std::pair<std::string, std::string> parse_param(std::string_view text) {
    const auto equals = text.rfind('=');
    if (text.empty() || equals == 0 ||
        (equals != std::string_view::npos && equals + 1 == text.size())) {
        throw bad_value{in_quotes(text)};
    }
    std::string column(text.substr(0, equals));
    std::string name(equals == std::string_view::npos ? text : text.substr(equals + 1));
    // Convex refuses some object keys (a leading `$`, non-ASCII); an identifier is safe.
    const bool identifier = !name.empty() && name.size() <= 64 &&
                            std::isdigit(static_cast<unsigned char>(name[0])) == 0 &&
                            std::all_of(name.begin(), name.end(), [](char c) {
                                return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
                            });
    if (!identifier) {
        throw bad_value{in_quotes(text) + " (NAME must be letters, digits and _)"};
    }
    for (const char* reserved : {"email", "password", "flow"}) {
        if (name == reserved) {
            throw bad_value{in_quotes(text) + " (the importer sends \"" + name + "\" itself)"};
        }
    }
    return {std::move(column), std::move(name)};
}

std::string expected(const key_spec& spec) {
    struct visitor {
        const key_spec& spec;
        std::string operator()(text_field) const {
            if (spec.choices.empty()) {
                return "a string";
            }
            std::string names;
            for (const auto choice : spec.choices) {
                names += (names.empty() ? "" : ", ") + in_quotes(choice);
            }
            return "one of " + names;
        }
        std::string operator()(path_field) const { return "a path"; }
        std::string operator()(count_field) const {
            return fmt::format("an integer from {} to {}", spec.min, spec.max);
        }
        std::string operator()(flag_field) const { return "true or false"; }
        std::string operator()(duration_field) const {
            return fmt::format("a duration such as \"10s\" (ms, s, m or h) from {} to {}",
                               format_duration(std::chrono::milliseconds(spec.min)),
                               format_duration(std::chrono::milliseconds(spec.max)));
        }
        std::string operator()(url_field) const { return "an http:// or https:// deployment URL"; }
        std::string operator()(params_field) const {
            return "a list of \"COLUMN\" or \"COLUMN=NAME\" (NAME not email, password or flow)";
        }
    };
    return std::visit(visitor{spec}, spec.access);
}

// Reads every value of a key as text: TOML values of the wanted type, or flag values.
// `from_toml` says which, so that a TOML integer written as a string is a type error.
struct key_input {
    std::vector<std::string> texts;
    std::optional<std::int64_t> integer;
    std::optional<bool> boolean;
};

key_input toml_input(const key_spec& spec, const toml::node& node) {
    key_input input;
    const bool wants_list = std::holds_alternative<params_field>(spec.access);
    const bool wants_integer = std::holds_alternative<count_field>(spec.access);
    const bool wants_boolean = std::holds_alternative<flag_field>(spec.access);
    if (wants_list) {
        const auto* array = node.as_array();
        if (array == nullptr) {
            throw bad_value{toml_type_name(node)};
        }
        for (const auto& element : *array) {
            const auto* text = element.as_string();
            if (text == nullptr) {
                throw bad_value{"an array holding " + toml_type_name(element)};
            }
            input.texts.push_back(text->get());
        }
    } else if (wants_integer && node.is_integer()) {
        input.integer = node.as_integer()->get();
    } else if (wants_boolean && node.is_boolean()) {
        input.boolean = node.as_boolean()->get();
    } else if (!wants_integer && !wants_boolean && node.is_string()) {
        input.texts.push_back(node.as_string()->get());
    } else {
        throw bad_value{toml_type_name(node)};
    }
    return input;
}

key_input flag_input(const key_spec& spec, std::vector<std::string> values) {
    key_input input;
    if (std::holds_alternative<count_field>(spec.access)) {
        const auto number = parse_integer(values.back());
        if (!number) {
            throw bad_value{in_quotes(values.back())};
        }
        input.integer = number;
    } else if (std::holds_alternative<flag_field>(spec.access)) {
        if (values.back() != "true" && values.back() != "false") {
            throw bad_value{in_quotes(values.back())};
        }
        input.boolean = values.back() == "true";
    } else if (std::holds_alternative<params_field>(spec.access)) {
        input.texts = std::move(values);
    } else {
        input.texts.push_back(values.back());
    }
    return input;
}

void check_range(const key_spec& spec, std::int64_t value, const std::string& shown) {
    if (value < spec.min || value > spec.max) {
        throw bad_value{shown};
    }
}

void store(const key_spec& spec, daemon_config& config, const key_input& input) {
    struct visitor {
        const key_spec& spec;
        daemon_config& config;
        const key_input& input;

        void operator()(text_field access) const {
            const std::string& text = input.texts.front();
            if (!spec.choices.empty() &&
                std::find(spec.choices.begin(), spec.choices.end(), text) == spec.choices.end()) {
                throw bad_value{in_quotes(text)};
            }
            access(config) = text;
        }
        void operator()(path_field access) const { access(config) = input.texts.front(); }
        void operator()(count_field access) const {
            check_range(spec, *input.integer, std::to_string(*input.integer));
            access(config) = static_cast<std::size_t>(*input.integer);
        }
        void operator()(flag_field access) const { access(config) = *input.boolean; }
        void operator()(duration_field access) const {
            const auto value = parse_duration(input.texts.front());
            check_range(spec, value.count(), in_quotes(input.texts.front()));
            access(config) = value;
        }
        void operator()(url_field access) const {
            try {
                access(config) = parse_deployment_url(input.texts.front());
            } catch (const std::invalid_argument& error) {
                throw bad_value{in_quotes(input.texts.front()) + " (" + error.what() + ")"};
            }
        }
        void operator()(params_field access) const {
            param_list params;
            for (const auto& text : input.texts) {
                params.push_back(parse_param(text));
            }
            access(config) = std::move(params);
        }
    };
    std::visit(visitor{spec, config, input}, spec.access);
}

std::string show(const key_spec& spec, daemon_config& config) {
    struct visitor {
        daemon_config& config;
        std::string operator()(text_field access) const {
            return access(config).empty() ? "none" : access(config);
        }
        std::string operator()(path_field access) const {
            return access(config).empty() ? "none" : access(config).string();
        }
        std::string operator()(count_field access) const { return std::to_string(access(config)); }
        std::string operator()(flag_field access) const {
            return access(config) ? "true" : "false";
        }
        std::string operator()(duration_field access) const {
            return format_duration(access(config));
        }
        std::string operator()(url_field access) const {
            return access(config).host.empty() ? "none" : access(config).text();
        }
        std::string operator()(params_field access) const {
            std::string out;
            for (const auto& [column, name] : access(config)) {
                out += (out.empty() ? "" : ",") + (column == name ? column : column + "=" + name);
            }
            return out.empty() ? "none" : out;
        }
    };
    return std::visit(visitor{config}, spec.access);
}

void set_origin(daemon_config& config, std::string_view key, std::string where) {
    for (auto& [name, origin] : config.origins) {
        if (name == key) {
            origin = std::move(where);
            return;
        }
    }
    config.origins.emplace_back(std::string(key), std::move(where));
}

std::string origin_of(const daemon_config& config, std::string_view key) {
    for (const auto& [name, origin] : config.origins) {
        if (name == key) {
            return origin;
        }
    }
    return "default";
}

std::string where(const fs::path& file, const toml::source_region& region) {
    return fmt::format("{}:{}:{}", file.string(), region.begin.line, region.begin.column);
}

void read_table(const toml::table& table, const std::string& prefix, const fs::path& file,
                daemon_config& config) {
    for (const auto& [key, node] : table) {
        const std::string name =
            prefix.empty() ? std::string(key.str()) : prefix + "." + std::string(key.str());
        const std::string at = where(file, key.source());
        if (const auto* section = node.as_table()) {
            if (!is_section(name)) {
                throw config_error(at + ": unknown section [" + name + "]" +
                                   section_suggestion(name));
            }
            read_table(*section, name, file, config);
            continue;
        }

        const key_spec* spec = find_key(name);
        if (spec == nullptr) {
            throw config_error(at + ": unknown key \"" + name + "\"" + suggestion(name));
        }
        try {
            store(*spec, config, toml_input(*spec, node));
        } catch (const bad_value& bad) {
            throw config_error(fmt::format("{}: {}: expected {}, got {}",
                                           where(file, node.source()), name, expected(*spec),
                                           bad.got));
        }
        set_origin(config, name, where(file, node.source()));
    }
}

void read_file(const fs::path& file, daemon_config& config) {
    std::error_code error;
    if (!fs::exists(file, error) || fs::is_directory(file, error)) {
        throw config_error("config file " + file.string() + ": " +
                           (fs::is_directory(file, error) ? "is a directory" : "no such file"));
    }
    toml::table document;
    try {
        document = toml::parse_file(file.string());
    } catch (const toml::parse_error& parse) {
        throw config_error(
            fmt::format("{}: invalid TOML: {}", where(file, parse.source()), parse.description()));
    }
    config.file = file;
    read_table(document, "", file, config);
}

// Flags in command-line order; a list key takes every value its flag was given.
void apply_overrides(const std::vector<config_override>& overrides, daemon_config& config) {
    std::vector<std::string> done;
    for (const auto& first : overrides) {
        if (std::find(done.begin(), done.end(), first.key) != done.end()) {
            continue;
        }
        done.push_back(first.key);
        const key_spec* spec = find_key(first.key);
        if (spec == nullptr) {
            throw config_error(first.flag + ": no configuration key \"" + first.key + "\"");
        }

        std::vector<std::string> values;
        std::string flag = first.flag;
        for (const auto& each : overrides) {
            if (each.key == first.key) {
                values.push_back(each.value);
                flag = each.flag;
            }
        }
        try {
            store(*spec, config, flag_input(*spec, std::move(values)));
        } catch (const bad_value& bad) {
            throw config_error(fmt::format("{}: {}: expected {}, got {}", flag, spec->name,
                                           expected(*spec), bad.got));
        }
        set_origin(config, spec->name, flag);
    }
}

std::string set_hint(const daemon_config& config, std::string_view key, std::string_view flag) {
    const std::string file = config.file.empty() ? "the config file" : config.file.string();
    return fmt::format("set {} in {} or pass {}", key, file, flag);
}

// "-" turns a file off; an empty path takes the default for where the daemon runs.
void resolve_optional_file(fs::path& file, const fs::path& fallback) {
    if (file == "-") {
        file.clear();
    } else if (file.empty()) {
        file = fallback;
    }
}

void resolve_paths(daemon_config& config, config_mode mode, const run_environment& environment) {
    if (mode == config_mode::watch && config.spool.empty()) {
        if (environment.state_directory.empty()) {
            throw config_error("no spool folder: " + set_hint(config, "spool.path", "--spool"));
        }
        config.spool = environment.state_directory / "spool";
    }

    resolve_optional_file(config.log.file, environment.logs_directory.empty()
                                               ? fs::path()
                                               : environment.logs_directory / "convex-importd.log");

    fs::path status_default;
    if (mode == config_mode::watch) {
        status_default = environment.state_directory.empty()
                             ? config.spool / "state" / "status.json"
                             : environment.state_directory / "status.json";
    }
    resolve_optional_file(config.service.reporting.status_file, status_default);
}

std::vector<std::string> split_names(std::string_view text) {
    std::vector<std::string> names;
    while (!text.empty()) {
        const auto comma = text.find(',');
        names.emplace_back(text.substr(0, comma));
        text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    }
    return names;
}

// The input keys kept as text in the file turned into what the reader takes.
void resolve_input(daemon_config& config) {
    auto& layout = config.service.import.layout;
    layout.delimiter.reset();
    if (config.delimiter != "auto") {
        layout.delimiter = config.delimiter == "tab" ? '\t' : config.delimiter.front();
    }
    layout.columns = split_names(config.columns);
    config.service.import.pacing.rate = static_cast<double>(config.rate);
    config.service.import.retry.max_attempts = static_cast<unsigned>(config.max_attempts);
    config.service.import.rules.letter_case =
        config.email_case == "preserve" ? email_case::preserve : email_case::lower;
    if (!layout.header && layout.columns.empty()) {
        throw config_error(origin_of(config, "import.header") +
                           ": import.header: a file without a header needs import.columns "
                           "(--columns email,password,...)");
    }
}

void check_values(const daemon_config& config, config_mode mode) {
    if (mode == config_mode::check) {
        return;  // reads files only
    }
    if (config.service.url.host.empty()) {
        throw config_error("no deployment URL: " + set_hint(config, "deployment.url", "--url"));
    }
    const std::string& ca_file = config.service.client.ca_file;
    std::error_code error;
    if (!ca_file.empty() && !fs::is_regular_file(ca_file, error)) {
        throw config_error(fmt::format("{}: deployment.ca_file: no such file: {}",
                                       origin_of(config, "deployment.ca_file"), ca_file));
    }
}

void load_key(daemon_config& config, const run_environment& environment) {
    try {
        deploy_key key = load_deploy_key({environment.credentials_directory,
                                          config.deploy_key_credential, config.deploy_key_file});
        config.service.client.deploy_key = std::move(key.value);
        config.deploy_key_source = std::move(key.source);
    } catch (const deploy_key_error& error) {
        throw config_error(error.what());
    }
}

std::string join(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& name : names) {
        out += (out.empty() ? "" : ",") + name;
    }
    return out;
}

}  // namespace

run_environment run_environment::from_process() {
    const auto path_from = [](const char* name) {
        const char* value = std::getenv(name);
        return value == nullptr ? fs::path() : fs::path(value);
    };
    return {path_from("STATE_DIRECTORY"), path_from("LOGS_DIRECTORY"),
            path_from("CONFIGURATION_DIRECTORY"), path_from("CREDENTIALS_DIRECTORY")};
}

fs::path default_config_file(const run_environment& environment) {
    const fs::path folder = environment.configuration_directory.empty()
                                ? fs::path("/etc/convex-importd")
                                : environment.configuration_directory;
    return folder / "convex-importd.toml";
}

daemon_config load_config(const config_source& source, config_mode mode,
                          const run_environment& environment) {
    daemon_config config;
    const fs::path file = source.file.empty() ? default_config_file(environment) : source.file;
    std::error_code error;
    if (!source.file.empty() || fs::exists(file, error)) {
        read_file(file, config);
    }

    apply_overrides(source.overrides, config);
    resolve_input(config);
    resolve_paths(config, mode, environment);
    check_values(config, mode);
    if (mode != config_mode::check) {
        load_key(config, environment);
    }
    return config;
}

std::vector<std::pair<std::string, std::string>> describe_config(const daemon_config& config) {
    daemon_config& readable = const_cast<daemon_config&>(config);  // the accessors only read here
    std::vector<std::pair<std::string, std::string>> described;
    for (const auto& spec : key_specs) {
        described.emplace_back(std::string(spec.name), show(spec, readable));
    }
    described.emplace_back("deploy_key", config.deploy_key_source);
    return described;
}

std::string config_fields(const daemon_config& config) {
    std::string out = "config=" + log_value(config.file.empty() ? "none" : config.file.string());
    for (const auto& [key, value] : describe_config(config)) {
        out += " " + key + "=" + log_value(value);
    }
    return out;
}

std::string config_report(const daemon_config& config) {
    std::string out =
        fmt::format("config ok file={}\n", config.file.empty() ? "none" : config.file.string());
    for (const auto& [key, value] : describe_config(config)) {
        const std::string origin = key == "deploy_key" ? "" : "  # " + origin_of(config, key);
        out += fmt::format("{} = {}{}\n", key, value, origin);
    }
    return out;
}

std::vector<std::string_view> config_key_names() {
    std::vector<std::string_view> names;
    for (const auto& spec : key_specs) {
        names.push_back(spec.name);
    }
    return names;
}

reload_outcome apply_reload(daemon_config& live, const daemon_config& fresh) {
    auto& source = const_cast<daemon_config&>(fresh);  // the accessors only read it here
    reload_outcome outcome;
    for (const auto& spec : key_specs) {
        if (show(spec, live) == show(spec, source)) {
            continue;
        }
        if (spec.reload == change::restart) {
            outcome.need_restart.emplace_back(spec.name);
            continue;
        }
        std::visit([&](auto access) { access(live) = access(source); }, spec.access);
        set_origin(live, spec.name, origin_of(fresh, spec.name));
        outcome.applied.emplace_back(spec.name);
    }
    return outcome;
}

void reload_config(daemon_config& live, const config_source& source, config_mode mode,
                   const run_environment& environment) {
    const daemon_config fresh = load_config(source, mode, environment);
    const reload_outcome outcome = apply_reload(live, fresh);
    resolve_input(live);
    set_log_level(live.log.level);

    log::main().info("config reloaded file={} applied={} unchanged_until_restart={}",
                     log_value(live.file.empty() ? "none" : live.file.string()),
                     log_value(outcome.applied.empty() ? "none" : join(outcome.applied)),
                     log_value(outcome.need_restart.empty() ? "none" : join(outcome.need_restart)));
    if (!outcome.need_restart.empty()) {
        log::main().warn("config change needs a restart keys={}",
                         log_value(join(outcome.need_restart)));
    }
}

}  // namespace convex_importd
