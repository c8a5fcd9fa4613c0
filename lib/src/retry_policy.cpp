#include "convex_importd/retry_policy.hpp"

#include <time.h>

#include <algorithm>
#include <charconv>
#include <string>

#include <boost/asio/error.hpp>
#include <boost/beast/http/error.hpp>

#include "convex_importd/client_error.hpp"

namespace convex_importd {

namespace {

attempt_fault classify_status(unsigned http_status) {
    switch (http_status) {
        case 200:
        case 560:  // older backends' function error
            return attempt_fault::none;
        case 429:
            return attempt_fault::throttled;
        case 503:
            return attempt_fault::overloaded;
        case 500:
        case 502:
        case 504:
            return attempt_fault::server_error;
        default:
            return attempt_fault::permanent;
    }
}

attempt_fault classify_transport(const boost::system::error_code& error) {
    if (error.category() == client_category()) {
        return attempt_fault::timeout;
    }

    // An unknown name will not appear by waiting (a temporary DNS failure may go away), and an
    // answer larger than the body limit will not shrink. Everything else that breaks a
    // connection or a handshake is the network's or the server's passing trouble.
    namespace netdb = boost::asio::error;
    if (error == netdb::host_not_found || error == netdb::service_not_found ||
        error == netdb::no_data || error == netdb::no_recovery ||
        error == boost::beast::http::error::body_limit) {
        return attempt_fault::permanent;
    }
    return attempt_fault::network;
}

std::optional<std::chrono::system_clock::time_point> parse_http_date(const std::string& text) {
    // IMF-fixdate first; the two obsolete forms are still allowed by RFC 9110.
    for (const char* format :
         {"%a, %d %b %Y %H:%M:%S GMT", "%A, %d-%b-%y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y"}) {
        std::tm parts{};
        const char* end = ::strptime(text.c_str(), format, &parts);
        if (end != nullptr && *end == '\0') {
            return std::chrono::system_clock::from_time_t(::timegm(&parts));
        }
    }
    return std::nullopt;
}

}  // namespace

attempt_fault classify_fault(const boost::system::error_code& transport_error,
                             unsigned http_status) {
    return transport_error ? classify_transport(transport_error) : classify_status(http_status);
}

std::optional<std::chrono::milliseconds> parse_retry_after(
    std::string_view value, std::chrono::system_clock::time_point now) {
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
        value.remove_prefix(1);
    }
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) {
        value.remove_suffix(1);
    }
    if (value.empty()) {
        return std::nullopt;
    }

    if (value.find_first_not_of("0123456789") == std::string_view::npos) {
        unsigned long long seconds = 0;
        const auto [end, error] =
            std::from_chars(value.data(), value.data() + value.size(), seconds);
        if (error != std::errc{}) {
            seconds = 24 * 3600;  // absurdly long; the row deadline decides
        }
        seconds = std::min<unsigned long long>(seconds, 24 * 3600);
        return std::chrono::seconds(seconds);
    }

    const auto date = parse_http_date(std::string(value));
    if (!date) {
        return std::nullopt;
    }
    return std::max(std::chrono::milliseconds(0),
                    std::chrono::duration_cast<std::chrono::milliseconds>(*date - now));
}

retry_schedule::retry_schedule(const retry_options& options, clock::time_point first_attempt,
                               jitter_source& jitter)
    : options_(options), jitter_(jitter), deadline_(first_attempt + options.row_deadline) {}

std::chrono::milliseconds retry_schedule::backoff_bound() const {
    // Doubling stops at the cap; the shift is bounded so that it cannot overflow.
    const unsigned doublings = std::min(attempts_ - 1, 30U);
    const auto uncapped = options_.initial_backoff * (std::int64_t{1} << doublings);
    return std::min(uncapped, options_.max_backoff);
}

retry_step retry_schedule::after_failure(attempt_fault fault,
                                         std::optional<std::chrono::milliseconds> retry_after,
                                         clock::time_point now) {
    if (!is_transient(fault)) {
        return {false, {}, "not retryable"};
    }
    if (attempts_ >= options_.max_attempts) {
        return {false, {}, "gave up after " + std::to_string(attempts_) + " attempts"};
    }

    const auto bound = backoff_bound();
    auto delay = std::chrono::milliseconds(
        static_cast<std::int64_t>(jitter_() * static_cast<double>(bound.count())));
    if (retry_after) {
        delay = std::max(delay, *retry_after);
    }
    if (now + delay > deadline_) {
        return {false,
                {},
                "gave up at the row deadline after " + std::to_string(attempts_) + " attempts"};
    }

    ++attempts_;
    return {true, delay, {}};
}

}  // namespace convex_importd
