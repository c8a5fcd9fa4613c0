#include "convex_importd/convex_client.hpp"

#include <openssl/crypto.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <array>
#include <iterator>
#include <optional>
#include <stdexcept>

#include <fmt/format.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "answer_parser.hpp"
#include "convex_importd/version.hpp"
#include "deadline_watch.hpp"

namespace convex_importd {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto with_error = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t answer_body_limit = 1 << 20;
constexpr std::size_t read_chunk_bytes = 4096;

void wipe(std::string& text) {
    OPENSSL_cleanse(text.data(), text.size());
    text.clear();
}

http_result failure(boost::system::error_code error, std::string_view phase) {
    http_result result;
    result.error = error;
    result.phase = phase;
    return result;
}

// Beast reports every expired stream deadline as the same `timeout`; the phase it expired in
// gets its own code.
boost::system::error_code phase_error(boost::system::error_code error, client_error timeout) {
    return error == beast::error::timeout ? make_error_code(timeout) : error;
}

class client_category_impl : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "convex_importd.client"; }
    std::string message(int value) const override {
        switch (static_cast<client_error>(value)) {
            case client_error::resolve_timeout:
                return "no address within the resolve timeout";
            case client_error::connect_timeout:
                return "no connection within the connect timeout";
            case client_error::tls_timeout:
                return "no TLS handshake within the TLS timeout";
            case client_error::write_timeout:
                return "request not sent within the write timeout";
            case client_error::read_timeout:
                return "no answer within the read timeout";
        }
        return "unknown client error";
    }
};

// A name lookup cannot be cancelled once getaddrinfo runs on Asio's resolver thread, so the
// coroutine does not wait for it: it waits on `done`, which the lookup's handler or the
// timeout ends, and this state outlives whichever comes second.
struct resolve_state {
    explicit resolve_state(const asio::any_io_executor& executor)
        : resolver(executor), done(executor) {}

    tcp::resolver resolver;
    asio::steady_timer done;
    boost::system::error_code error;
    tcp::resolver::results_type addresses;
    bool finished = false;
};

// A keep-alive connection may have been closed by the server between two requests; the
// first write or read on it then fails before any answer arrives.
bool stale_connection_error(const http_result& result) {
    const auto& e = result.error;
    return result.phase == "write" ||
           (result.phase == "read" &&
            (e == http::error::end_of_stream || e == asio::error::connection_reset ||
             e == asio::error::eof || e == asio::error::broken_pipe));
}

bool is_ip_address(const std::string& host) {
    boost::system::error_code error;
    asio::ip::make_address(host, error);
    return !error;
}

// OpenSSL checks the name during the handshake, so a mismatch is reported as such
// ("hostname mismatch") rather than as a bare "certificate verify failed".
void expect_peer_name(SSL* ssl, const std::string& host) {
    if (is_ip_address(host)) {
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str());
        return;
    }
    SSL_set_tlsext_host_name(ssl, host.c_str());  // SNI, for virtual hosting
    SSL_set1_host(ssl, host.c_str());
}

std::string verify_failure(SSL* ssl) {
    const long result = SSL_get_verify_result(ssl);
    return result == X509_V_OK ? "" : X509_verify_cert_error_string(result);
}

// Only an unknown issuer is fixed by a CA file; a wrong name or an old protocol is not.
std::string trust_hint(std::string_view refusal) {
    const bool unknown_issuer = refusal.find("issuer") != std::string_view::npos ||
                                refusal.find("self-signed") != std::string_view::npos ||
                                refusal.find("self signed") != std::string_view::npos;
    return unknown_issuer ? ". If the deployment uses a private CA, set deployment.ca_file "
                            "(--ca-file) to its certificate"
                          : "";
}

// Written by hand rather than by Beast's serializer: the headers are the same for every
// sign-up, and serializing them field by field cost more CPU than the socket write itself.
// The endpoint's fixed headers go out from where they are (they hold the deploy key), so the
// per-request parts are the request line and the length.
void write_request_line(std::string& line, std::string_view target) {
    line.clear();
    line.append("POST ");
    line.append(target);
    line.append(" HTTP/1.1\r\n");
}

void write_content_length(std::string& length, std::size_t body_size) {
    length.clear();
    fmt::format_to(std::back_inserter(length), "Content-Length: {}\r\n\r\n", body_size);
}

// RFC 9110: an IPv6 address in brackets, and the port unless it is the scheme's default.
std::string host_header(const deployment_url& url) {
    const bool ipv6 = url.host.find(':') != std::string::npos;
    std::string host = ipv6 ? "[" + url.host + "]" : url.host;
    const bool default_port = url.port == (url.tls ? "443" : "80");
    return default_port ? host : host + ":" + url.port;
}

// Every header but the length, each ending in CRLF.
std::string fixed_request_headers(const deployment_url& url, const client_options& options) {
    std::string headers = "Host: " + host_header(url) + "\r\n" +
                          "Content-Type: application/json\r\n" + "Convex-Client: convex-importd-" +
                          version + "\r\n" + "Connection: keep-alive\r\n";
    if (!options.deploy_key.empty()) {
        headers += "Authorization: Convex " + options.deploy_key + "\r\n";
    }
    return headers;
}

// What http::async_read does, without its three layers of composed operations around each
// read (they cost more CPU per answer than the parsing): read what the socket has, give it
// to the parser, until the answer is complete. Bytes past its end stay in `buffer` for the
// next answer.
template <class Stream>
asio::awaitable<boost::system::error_code> read_answer(Stream& stream, beast::flat_buffer& buffer,
                                                       answer_parser& parser) {
    for (;;) {
        boost::system::error_code error;
        const std::size_t used = buffer.size() == 0 ? 0 : parser.put(buffer.data(), error);
        buffer.consume(used);
        if (parser.is_done()) {
            co_return boost::system::error_code{};
        }
        if (error && error != http::error::need_more) {
            co_return error;
        }
        if (used > 0 && buffer.size() > 0) {
            continue;  // the parser stopped between header and body: more to give it
        }

        auto [read_error, read] =
            co_await stream.async_read_some(buffer.prepare(read_chunk_bytes), with_error);
        buffer.commit(read);
        if (read_error == asio::error::eof) {
            // A server that closes before answering closed an idle keep-alive connection; one
            // that closes after a partial answer cut it short (or delimits the body so).
            if (!parser.got_some()) {
                co_return http::error::end_of_stream;
            }
            parser.put_eof(error);
            co_return error;
        }
        if (read_error) {
            co_return read_error;
        }
    }
}

}  // namespace

std::string deployment_url::text() const {
    return (tls ? "https://" : "http://") + host + ":" + port + path;
}

deployment_url parse_deployment_url(std::string_view url) {
    deployment_url parsed;
    if (url.starts_with("https://")) {
        parsed.tls = true;
        url.remove_prefix(8);
    } else if (url.starts_with("http://")) {
        url.remove_prefix(7);
    } else {
        throw std::invalid_argument("deployment URL must start with http:// or https://");
    }

    const auto slash = url.find('/');
    std::string_view authority = url.substr(0, slash);
    std::string_view path = slash == std::string_view::npos ? "" : url.substr(slash);
    while (path.ends_with('/')) {
        path.remove_suffix(1);
    }
    parsed.path = path;

    if (authority.empty()) {
        throw std::invalid_argument("deployment URL has no host");
    }
    const auto bracket = authority.rfind(']');
    const auto colon = authority.rfind(':');
    if (colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket)) {
        parsed.port = authority.substr(colon + 1);
        authority = authority.substr(0, colon);
        if (parsed.port.empty() ||
            parsed.port.find_first_not_of("0123456789") != std::string::npos) {
            throw std::invalid_argument("deployment URL has a bad port");
        }
    } else {
        parsed.port = parsed.tls ? "443" : "80";
    }
    if (authority.starts_with('[') && authority.ends_with(']')) {
        authority = authority.substr(1, authority.size() - 2);
    }
    parsed.host = authority;
    return parsed;
}

std::string http_result::error_text() const {
    std::string text = std::string(phase) + ": " + error.message();
    return detail.empty() ? text : text + " (" + detail + ")";
}

convex_endpoint::convex_endpoint(deployment_url url, client_options options)
    : url_(std::move(url)),
      options_(std::move(options)),
      request_headers_(fixed_request_headers(url_, options_)) {
    if (!url_.tls) {
        return;
    }
    tls_ = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
    tls_->set_default_verify_paths();
    if (!options_.ca_file.empty()) {
        tls_->load_verify_file(options_.ca_file);
    }
    tls_->set_verify_mode(asio::ssl::verify_peer);
    SSL_CTX_set_min_proto_version(tls_->native_handle(), TLS1_2_VERSION);
}

convex_endpoint::~convex_endpoint() {
    OPENSSL_cleanse(request_headers_.data(), request_headers_.size());  // holds the deploy key
}

const boost::system::error_category& client_category() {
    static const client_category_impl category;
    return category;
}

struct convex_connection::impl {
    impl(asio::any_io_executor executor_of_connection, const convex_endpoint& endpoint_used)
        : executor(std::move(executor_of_connection)), endpoint(endpoint_used), watch(executor) {}

    asio::any_io_executor executor;
    const convex_endpoint& endpoint;
    // Beast's streams time the connect and the TLS handshake, once per connection; the
    // requests on it are timed by `watch`, and a plain one is written and read on the socket
    // itself, without the stream's layer.
    std::optional<beast::tcp_stream> plain;
    std::optional<beast::ssl_stream<beast::tcp_stream>> secure;
    deadline_watch watch;
    beast::flat_buffer buffer;
    std::string request_line;  // rebuilt in place for each request, like the length
    std::string request_body;
    std::string content_length;
    std::shared_ptr<resolve_state> resolving;
    bool open = false;
    bool cancelled = false;

    beast::tcp_stream& socket() { return secure ? beast::get_lowest_layer(*secure) : *plain; }

    asio::awaitable<http_result> resolve(tcp::resolver::results_type& addresses);
    asio::awaitable<http_result> connect();
    asio::awaitable<http_result> exchange(const std::string& target, std::string& body);

    template <class Stream>
    asio::awaitable<http_result> exchange_on(Stream& stream, const std::string& target,
                                             std::string& body);

    // The timeout of the phase when the watch ended the socket (whatever error that caused:
    // aborted, end of file, broken pipe, or one of TLS's), else the error itself.
    boost::system::error_code timed(boost::system::error_code error) const {
        const auto expired = watch.expired();
        return expired ? make_error_code(*expired) : error;
    }
};

asio::awaitable<http_result> convex_connection::impl::resolve(
    tcp::resolver::results_type& addresses) {
    const auto& url = endpoint.url();
    auto state = std::make_shared<resolve_state>(executor);
    resolving = state;

    state->done.expires_after(endpoint.options().resolve_timeout);
    state->resolver.async_resolve(
        url.host, url.port,
        [state](boost::system::error_code error, tcp::resolver::results_type found) {
            state->error = error;
            state->addresses = std::move(found);
            state->finished = true;
            state->done.cancel();
        });
    co_await state->done.async_wait(with_error);
    resolving.reset();

    if (!state->finished) {
        state->resolver.cancel();
        co_return failure(cancelled ? asio::error::operation_aborted
                                    : make_error_code(client_error::resolve_timeout),
                          "resolve");
    }
    if (state->error) {
        co_return failure(state->error, "resolve");
    }
    addresses = state->addresses;
    co_return http_result{};
}

asio::awaitable<http_result> convex_connection::impl::connect() {
    const auto& url = endpoint.url();
    const auto& options = endpoint.options();

    tcp::resolver::results_type addresses;
    if (http_result resolved = co_await resolve(addresses); resolved.transport_failed()) {
        co_return resolved;
    }

    watch.disarm();
    plain.reset();
    secure.reset();
    if (endpoint.tls_context() != nullptr) {
        secure.emplace(executor, *endpoint.tls_context());
    } else {
        plain.emplace(executor);
    }

    socket().expires_after(options.connect_timeout);
    auto [connect_error, peer] = co_await socket().async_connect(addresses, with_error);
    if (connect_error) {
        co_return failure(phase_error(connect_error, client_error::connect_timeout), "connect");
    }
    socket().socket().set_option(tcp::no_delay(true));

    if (secure) {
        expect_peer_name(secure->native_handle(), url.host);
        socket().expires_after(options.tls_timeout);
        auto [tls_error] =
            co_await secure->async_handshake(asio::ssl::stream_base::client, with_error);
        if (tls_error) {
            http_result refused = failure(phase_error(tls_error, client_error::tls_timeout), "tls");
            refused.detail = verify_failure(secure->native_handle());
            co_return refused;
        }
    }

    socket().expires_never();  // from here on, `watch` times each write and read
    open = true;
    buffer.clear();
    co_return http_result{};
}

template <class Stream>
asio::awaitable<http_result> convex_connection::impl::exchange_on(Stream& stream,
                                                                  const std::string& target,
                                                                  std::string& body) {
    write_request_line(request_line, target);
    write_content_length(content_length, body.size());
    const std::array<asio::const_buffer, 4> request{
        asio::buffer(request_line), asio::buffer(endpoint.request_headers()),
        asio::buffer(content_length), asio::buffer(body)};
    tcp::socket& lowest = socket().socket();

    // A phase that completed after the watch ended the socket counts as timed out: an answer
    // that a server delimits by closing could otherwise pass for whole.
    watch.arm(lowest, endpoint.options().write_timeout, client_error::write_timeout);
    auto [write_error, written] = co_await asio::async_write(stream, request, with_error);
    if (write_error || watch.expired()) {
        watch.disarm();
        co_return failure(timed(write_error), "write");
    }

    answer_parser parser(answer_body_limit);
    watch.arm(lowest, endpoint.options().read_timeout, client_error::read_timeout);
    const boost::system::error_code read_error = co_await read_answer(stream, buffer, parser);
    watch.disarm();
    if (read_error || watch.expired()) {
        co_return failure(timed(read_error), "read");
    }

    http_result result;
    result.status = parser.status();
    result.retry_after = std::move(parser.retry_after());
    result.body = std::move(parser.body());
    if (!parser.keep_alive()) {
        open = false;
    }
    co_return result;
}

// Not a coroutine itself: the caller awaits the exchange's own frame directly.
asio::awaitable<http_result> convex_connection::impl::exchange(const std::string& target,
                                                               std::string& body) {
    if (secure) {
        return exchange_on(*secure, target, body);
    }
    return exchange_on(plain->socket(), target, body);
}

convex_connection::convex_connection(asio::any_io_executor executor,
                                     const convex_endpoint& endpoint)
    : impl_(std::make_unique<impl>(std::move(executor), endpoint)) {}

convex_connection::~convex_connection() = default;

void convex_connection::close() {
    if (impl_->open) {
        boost::system::error_code ignored;
        impl_->socket().socket().close(ignored);
    }
    impl_->open = false;
}

asio::awaitable<http_result> convex_connection::open() {
    if (impl_->open) {
        co_return http_result{};
    }
    http_result connected = co_await impl_->connect();
    if (connected.transport_failed()) {
        close();
    }
    co_return connected;
}

asio::awaitable<void> check_server_certificate(asio::any_io_executor executor,
                                               const convex_endpoint& endpoint) {
    if (endpoint.tls_context() == nullptr) {
        co_return;
    }
    convex_connection connection(std::move(executor), endpoint);
    const http_result opened = co_await connection.open();
    connection.close();

    // Errors of the TLS layer itself; a reset or timeout during the handshake is a fault of
    // the network that the import may get past.
    if (opened.transport_failed() && opened.phase == "tls" &&
        opened.error.category() == asio::error::get_ssl_category()) {
        const auto& url = endpoint.url();
        throw certificate_error(fmt::format("TLS with {}:{} failed: {}; no sign-up was sent{}",
                                            url.host, url.port, opened.error_text(),
                                            trust_hint(opened.detail)));
    }
}

std::string& convex_connection::request_body() {
    return impl_->request_body;
}

void convex_connection::cancel() {
    impl_->cancelled = true;
    if (impl_->resolving) {
        impl_->resolving->done.cancel();
    }
    if (impl_->plain || impl_->secure) {
        boost::system::error_code ignored;
        impl_->socket().socket().close(ignored);
    }
    impl_->open = false;
}

asio::awaitable<http_result> convex_connection::post(const std::string& target, std::string& body) {
    for (int attempt = 0;; ++attempt) {
        if (impl_->cancelled) {
            wipe(body);
            co_return failure(asio::error::operation_aborted, "connect");
        }
        const bool reused = impl_->open;
        if (!impl_->open) {
            http_result connected = co_await impl_->connect();
            if (connected.transport_failed()) {
                close();
                wipe(body);
                co_return connected;
            }
        }

        http_result result = co_await impl_->exchange(target, body);

        // Sending the same sign-up again is safe: Convex Auth answers a repeated sign-up
        // with the same email and password as a sign-in.
        if (result.transport_failed() && reused && attempt == 0 && !impl_->cancelled &&
            stale_connection_error(result)) {
            close();
            continue;
        }
        if (result.transport_failed() || !impl_->open) {
            close();
        }
        wipe(body);
        co_return result;
    }
}

}  // namespace convex_importd
