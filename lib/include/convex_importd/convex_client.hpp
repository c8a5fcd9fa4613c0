#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>

#include "convex_importd/client_error.hpp"

namespace boost::asio::ssl {
class context;
}

namespace convex_importd {

/// A Convex deployment URL taken apart: http:// or https://, host, port, path prefix.
struct deployment_url {
    bool tls = false;
    std::string host;
    std::string port;
    std::string path;  // prefix without a trailing slash, usually empty

    std::string action_target() const { return path + "/api/action"; }
    std::string text() const;
};

/// Parses a deployment URL; throws std::invalid_argument with the reason.
deployment_url parse_deployment_url(std::string_view url);

/// Each phase of a request has its own timeout and its own error code (client_error).
struct client_options {
    std::chrono::milliseconds resolve_timeout{10'000};
    std::chrono::milliseconds connect_timeout{10'000};
    std::chrono::milliseconds tls_timeout{10'000};
    std::chrono::milliseconds write_timeout{30'000};
    // The answer comes after the action ran, and a deployment queues an action for up to
    // 10 s before it answers 429: well above both.
    std::chrono::milliseconds read_timeout{60'000};
    std::string ca_file;     // extra CA certificates, besides the system store
    std::string deploy_key;  // sent as `Authorization: Convex KEY` when set; never logged
};

/// What is shared by every connection to one deployment: its URL, options and TLS context.
class convex_endpoint {
public:
    convex_endpoint(deployment_url url, client_options options);
    ~convex_endpoint();

    const deployment_url& url() const { return url_; }
    const client_options& options() const { return options_; }
    boost::asio::ssl::context* tls_context() const { return tls_.get(); }

    /// The headers every sign-up carries (host, content type, client, key), each with its CRLF.
    const std::string& request_headers() const { return request_headers_; }

private:
    deployment_url url_;
    client_options options_;
    std::string request_headers_;
    std::unique_ptr<boost::asio::ssl::context> tls_;
};

/// One HTTP exchange: either a transport error in a named phase, or an HTTP answer.
struct http_result {
    boost::system::error_code error;
    std::string_view phase;  // "resolve", "connect", "tls", "write" or "read" on error
    unsigned status = 0;
    std::string body;
    std::optional<std::string> retry_after;
    std::string detail;  // why a certificate was refused, when it was

    bool transport_failed() const { return static_cast<bool>(error); }
    std::string error_text() const;
};

/// One keep-alive HTTP/1.1 connection to the deployment, opened on first use and reopened
/// after a failure. Not thread-safe: one coroutine at a time owns it.
class convex_connection {
public:
    convex_connection(boost::asio::any_io_executor executor, const convex_endpoint& endpoint);
    ~convex_connection();
    convex_connection(const convex_connection&) = delete;
    convex_connection& operator=(const convex_connection&) = delete;

    /// POSTs a JSON body to `target`. The body is wiped once it is sent: it holds a password.
    boost::asio::awaitable<http_result> post(const std::string& target, std::string& body);

    /// Connects (and shakes hands, over TLS) without sending anything.
    boost::asio::awaitable<http_result> open();

    void close();

    /// Storage for the next request's body, kept from one request to the next so that it is
    /// not allocated for each; post() wipes it.
    std::string& request_body();

    /// Ends the request in progress, if any, at once: it returns with operation_aborted. For
    /// a shutdown that cannot wait; the connection is not used again.
    void cancel();

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

/// The deployment's TLS certificate was refused (unknown CA, wrong host name, expired) or
/// the handshake failed: a configuration problem, not a passing fault. No sign-up was sent.
class certificate_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// For an https:// deployment, opens one connection before any sign-up is sent and throws
/// certificate_error when TLS refuses it. Other failures (refused, timed out) pass: the
/// import reports them per row.
boost::asio::awaitable<void> check_server_certificate(boost::asio::any_io_executor executor,
                                                      const convex_endpoint& endpoint);

}  // namespace convex_importd
