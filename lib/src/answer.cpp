#include "convex_importd/answer.hpp"

#include <openssl/crypto.h>
#include <simdjson.h>

namespace convex_importd {

namespace {

constexpr unsigned http_ok = 200;
constexpr unsigned legacy_function_error = 560;

std::string scrub(std::string text, std::string_view secret) {
    if (secret.empty()) {
        return text;
    }
    for (auto at = text.find(secret); at != std::string::npos; at = text.find(secret, at)) {
        text.replace(at, secret.size(), "[password]");
    }
    return text;
}

std::string first_line(std::string_view text) {
    return std::string(text.substr(0, text.find('\n')));
}

std::string http_error_detail(unsigned http_status, simdjson::ondemand::document& doc) {
    std::string detail = "HTTP " + std::to_string(http_status);
    std::string_view code;
    std::string_view message;
    if (doc["code"].get_string().get(code) == simdjson::SUCCESS) {
        detail.append(" ").append(code);
    }
    if (doc["message"].get_string().get(message) == simdjson::SUCCESS) {
        detail.append(": ").append(first_line(message));
    }
    return detail;
}

// Every sign-up has an answer to read: a parser made for each one allocated its buffers each
// time. One per thread is kept instead, with a copy of the body followed by the padding that
// simdjson reads past the end.
class answer_scratch {
public:
    ~answer_scratch() { OPENSSL_cleanse(text_.data(), text_.size()); }

    simdjson::ondemand::parser& parser() { return parser_; }

    simdjson::padded_string_view padded(std::string_view body) {
        text_.assign(body);
        text_.resize(body.size() + simdjson::SIMDJSON_PADDING);
        return simdjson::padded_string_view(text_.data(), body.size(), text_.size());
    }

    // An app may echo the password in an error: the copy does not outlive the classifying.
    void wipe() { OPENSSL_cleanse(text_.data(), text_.size()); }

private:
    simdjson::ondemand::parser parser_;
    std::string text_;
};

answer_scratch& thread_scratch() {
    thread_local answer_scratch scratch;
    return scratch;
}

classified_answer classify_document(unsigned http_status, bool parsed,
                                    simdjson::ondemand::document& doc, std::string_view password) {
    if (http_status != http_ok && http_status != legacy_function_error) {
        if (!parsed) {
            return {outcome::failed, "HTTP " + std::to_string(http_status)};
        }
        return {outcome::failed, scrub(http_error_detail(http_status, doc), password)};
    }

    std::string_view status;
    if (!parsed || doc["status"].get_string().get(status) != simdjson::SUCCESS) {
        return {outcome::failed, "answer without a status field"};
    }
    if (status == "success") {
        return {outcome::created, {}};
    }

    std::string_view message;
    if (doc["errorMessage"].get_string().get(message) != simdjson::SUCCESS) {
        return {outcome::rejected, "function error without a message"};
    }
    const outcome result = message.find("already exists") != std::string_view::npos
                               ? outcome::exists
                               : outcome::rejected;
    return {result, scrub(error_summary(message), password)};
}

}  // namespace

std::string error_summary(std::string_view message) {
    constexpr std::string_view uncaught = "Uncaught ";
    if (const auto at = message.find(uncaught); at != std::string_view::npos) {
        std::string_view line = message.substr(at + uncaught.size());
        line = line.substr(0, line.find('\n'));
        if (const auto colon = line.find(": "); colon != std::string_view::npos) {
            line.remove_prefix(colon + 2);  // drop the error class, "Error: ..."
        }
        return std::string(line);
    }
    std::string_view line = message.substr(0, message.find('\n'));
    if (line.starts_with("[Request ID: ")) {
        if (const auto close = line.find("] "); close != std::string_view::npos) {
            line.remove_prefix(close + 2);
        }
    }
    return std::string(line);
}

classified_answer classify_answer(unsigned http_status, std::string_view body,
                                  std::string_view password) {
    answer_scratch& scratch = thread_scratch();
    const struct wipe_on_return {
        answer_scratch& scratch;
        ~wipe_on_return() { scratch.wipe(); }
    } wiping{scratch};

    simdjson::ondemand::document doc;
    const bool parsed =
        scratch.parser().iterate(scratch.padded(body)).get(doc) == simdjson::SUCCESS;
    return classify_document(http_status, parsed, doc, password);
}

}  // namespace convex_importd
