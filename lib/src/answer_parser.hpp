#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include <boost/beast/http/basic_parser.hpp>

namespace convex_importd {

/// Reads an HTTP response keeping only what a sign-up's outcome depends on: the status, the
/// Retry-After header and the body. Beast's stock response parser stores every header in a
/// list of its own allocations, a cost paid on every answer for fields nobody reads.
class answer_parser final : public boost::beast::http::basic_parser<false> {
public:
    explicit answer_parser(std::uint64_t body_limit_bytes) { body_limit(body_limit_bytes); }

    unsigned status() const { return status_; }
    std::optional<std::string>& retry_after() { return retry_after_; }
    std::string& body() { return body_; }

private:
    using error_code = boost::beast::error_code;
    using string_view = boost::beast::string_view;
    using field = boost::beast::http::field;
    using verb = boost::beast::http::verb;

    void on_request_impl(verb, string_view, string_view, int, error_code&) override {}

    void on_response_impl(int code, string_view, int, error_code&) override {
        status_ = static_cast<unsigned>(code);
    }

    void on_field_impl(field name, string_view, string_view value, error_code&) override {
        if (name == field::retry_after) {
            retry_after_.emplace(value.data(), value.size());
        }
    }

    void on_header_impl(error_code&) override {}

    void on_body_init_impl(const boost::optional<std::uint64_t>& length, error_code&) override {
        if (length) {
            body_.reserve(static_cast<std::size_t>(*length));
        }
    }

    std::size_t on_body_impl(string_view piece, error_code&) override {
        body_.append(piece.data(), piece.size());
        return piece.size();
    }

    void on_chunk_header_impl(std::uint64_t, string_view, error_code&) override {}

    std::size_t on_chunk_body_impl(std::uint64_t, string_view piece, error_code&) override {
        body_.append(piece.data(), piece.size());
        return piece.size();
    }

    void on_finish_impl(error_code&) override {}

    unsigned status_ = 0;
    std::optional<std::string> retry_after_;
    std::string body_;
};

}  // namespace convex_importd
