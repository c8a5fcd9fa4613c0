#include "convex_importd/log_format.hpp"

#include <optional>

#include "convex_importd/json_text.hpp"

namespace convex_importd {

namespace {

bool key_character(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
}

// Length of the `key` in `key=...` at the start of `text`, or 0 when there is none.
std::size_t key_length(std::string_view text) {
    std::size_t length = 0;
    while (length < text.size() && key_character(text[length])) {
        ++length;
    }
    return length > 0 && length < text.size() && text[length] == '=' ? length : 0;
}

// Reads a value that log_value() quoted; `text` starts after the opening quote.
std::optional<std::string> read_quoted(std::string_view& text) {
    std::string value;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\\' && i + 1 < text.size()) {
            value.push_back(text[++i]);
        } else if (text[i] == '"') {
            text.remove_prefix(i + 1);
            return value;
        } else {
            value.push_back(text[i]);
        }
    }
    return std::nullopt;
}

std::optional<std::string> read_value(std::string_view& text) {
    if (text.starts_with('"')) {
        text.remove_prefix(1);
        return read_quoted(text);
    }
    const auto end = text.find(' ');
    std::string value(text.substr(0, end));
    text.remove_prefix(end == std::string_view::npos ? text.size() : end);
    return value;
}

// Where the fields start: the first word that is a `key=`.
std::size_t fields_start(std::string_view message) {
    for (std::size_t at = 0; at < message.size();) {
        if (key_length(message.substr(at)) > 0) {
            return at;
        }
        const auto space = message.find(' ', at);
        if (space == std::string_view::npos) {
            break;
        }
        at = space + 1;
    }
    return message.size();
}

std::optional<std::vector<std::pair<std::string, std::string>>> read_fields(std::string_view text) {
    std::vector<std::pair<std::string, std::string>> fields;
    while (!text.empty()) {
        const std::size_t length = key_length(text);
        if (length == 0) {
            return std::nullopt;
        }
        std::string key(text.substr(0, length));
        text.remove_prefix(length + 1);
        auto value = read_value(text);
        if (!value || (!text.empty() && !text.starts_with(' '))) {
            return std::nullopt;
        }
        fields.emplace_back(std::move(key), std::move(*value));
        while (text.starts_with(' ')) {
            text.remove_prefix(1);
        }
    }
    return fields;
}

void append_member(std::string& out, std::string_view key, std::string_view value) {
    out.push_back(',');
    append_json_text(out, key);
    out.push_back(':');
    if (looks_like_json_number(value)) {
        out.append(value);
    } else {
        append_json_text(out, value);
    }
}

}  // namespace

std::string_view log_event(std::string_view message) {
    std::string_view event = message.substr(0, fields_start(message));
    while (event.ends_with(' ')) {
        event.remove_suffix(1);
    }
    return event;
}

log_fields split_log_message(std::string_view message) {
    const std::string_view event = log_event(message);
    auto fields = read_fields(message.substr(fields_start(message)));
    if (!fields) {
        return {std::string(message), {}};
    }
    return {std::string(event), std::move(*fields)};
}

std::string json_log_line(std::string_view time, std::string_view level, std::string_view logger,
                          std::string_view message) {
    const log_fields parts = split_log_message(message);
    std::string out = "{\"time\":";
    append_json_text(out, time);
    out += ",\"level\":";
    append_json_text(out, level);
    out += ",\"logger\":";
    append_json_text(out, logger);
    out += ",\"event\":";
    append_json_text(out, parts.event);
    for (const auto& [key, value] : parts.fields) {
        append_member(out, key, value);
    }
    out.push_back('}');
    return out;
}

}  // namespace convex_importd
