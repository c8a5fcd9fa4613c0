#include "convex_importd/convex_client.hpp"

#include <doctest/doctest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/use_awaitable.hpp>

using namespace convex_importd;
using namespace std::chrono_literals;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

// A server on a free loopback port that accepts connections and never answers anything.
class silent_server {
public:
    explicit silent_server(asio::io_context& io)
        : acceptor_(io, {asio::ip::make_address("127.0.0.1"), 0}) {
        asio::co_spawn(io, accept(), asio::detached);
    }

    std::string port() const { return std::to_string(acceptor_.local_endpoint().port()); }

private:
    asio::awaitable<void> accept() {
        for (;;) {
            auto [error, socket] =
                co_await acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
            if (error) {
                co_return;
            }
            held_.push_back(std::move(socket));
        }
    }

    tcp::acceptor acceptor_;
    std::vector<tcp::socket> held_;
};

client_options short_timeouts() {
    client_options options;
    options.tls_timeout = 200ms;
    options.read_timeout = 200ms;
    return options;
}

http_result post_once(asio::io_context& io, const convex_endpoint& endpoint,
                      std::chrono::milliseconds limit) {
    convex_connection connection(io.get_executor(), endpoint);
    http_result result;
    bool done = false;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            std::string body = R"({"path":"auth:signIn"})";
            result = co_await connection.post("/api/action", body);
            done = true;
            io.stop();
        },
        asio::detached);
    io.run_for(limit);
    REQUIRE(done);
    return result;
}

}  // namespace

TEST_CASE("a server that never answers ends the request with the read timeout code") {
    asio::io_context io;
    silent_server server(io);
    const convex_endpoint endpoint(parse_deployment_url("http://127.0.0.1:" + server.port()),
                                   short_timeouts());

    const auto started = std::chrono::steady_clock::now();
    const http_result result = post_once(io, endpoint, 5s);
    CHECK(result.error == client_error::read_timeout);
    CHECK(result.phase == "read");
    CHECK(result.error_text() == "read: no answer within the read timeout");
    CHECK(std::chrono::steady_clock::now() - started < 2s);
}

TEST_CASE("a server that never completes the TLS handshake ends it with the TLS timeout code") {
    asio::io_context io;
    silent_server server(io);
    const convex_endpoint endpoint(parse_deployment_url("https://127.0.0.1:" + server.port()),
                                   short_timeouts());

    const http_result result = post_once(io, endpoint, 5s);
    CHECK(result.error == client_error::tls_timeout);
    CHECK(result.phase == "tls");
}

TEST_CASE("a closed port is refused in the connect phase") {
    asio::io_context io;
    std::string port;
    {
        tcp::acceptor closed(io, {asio::ip::make_address("127.0.0.1"), 0});
        port = std::to_string(closed.local_endpoint().port());
    }
    const convex_endpoint endpoint(parse_deployment_url("http://127.0.0.1:" + port),
                                   short_timeouts());

    const http_result result = post_once(io, endpoint, 5s);
    CHECK(result.error == asio::error::connection_refused);
    CHECK(result.phase == "connect");
}

TEST_CASE("cancel() ends a request in flight at once") {
    asio::io_context io;
    silent_server server(io);
    client_options options;  // a read timeout of a minute: only cancel() can end it soon
    const convex_endpoint endpoint(parse_deployment_url("http://127.0.0.1:" + server.port()),
                                   options);
    convex_connection connection(io.get_executor(), endpoint);

    http_result result;
    bool done = false;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            std::string body = "{}";
            result = co_await connection.post("/api/action", body);
            done = true;
        },
        asio::detached);
    io.run_for(100ms);
    REQUIRE_FALSE(done);

    connection.cancel();
    io.run_for(1s);
    CHECK(done);
    CHECK(result.error == asio::error::operation_aborted);
}
