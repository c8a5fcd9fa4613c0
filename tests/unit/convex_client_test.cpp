#include "convex_importd/convex_client.hpp"

#include <doctest/doctest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/error.hpp>

#include <thread>

#include "convex_importd/version.hpp"

using namespace convex_importd;
using namespace std::chrono_literals;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

// Where a canned answer is split into two writes 50 ms apart, so that the client reads it in
// pieces.
constexpr char pause_mark = '\x01';

// Where the server blocks the one thread of the io_context for 300 ms, writing what comes
// before the mark in the middle of it.
constexpr char stall_mark = '\x02';

// A loopback server that keeps each request as it arrived on the wire and answers with the
// next of its canned responses, closing the connection after an answer that says so. Once
// its answers run out it holds connections open and reads nothing more: with none, it never
// answers at all.
class scripted_server {
public:
    scripted_server(asio::io_context& io, std::vector<std::string> answers)
        : acceptor_(io, {asio::ip::make_address("127.0.0.1"), 0}), answers_(std::move(answers)) {
        asio::co_spawn(io, accept(), asio::detached);
    }

    std::string port() const { return std::to_string(acceptor_.local_endpoint().port()); }
    std::string url() const { return "http://127.0.0.1:" + port(); }
    const std::vector<std::string>& requests() const { return requests_; }
    int connections() const { return connections_; }

private:
    asio::awaitable<void> accept() {
        for (;;) {
            auto [error, socket] =
                co_await acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
            if (error) {
                co_return;
            }
            ++connections_;
            asio::co_spawn(acceptor_.get_executor(), serve(std::move(socket)), asio::detached);
        }
    }

    asio::awaitable<void> serve(tcp::socket socket) {
        constexpr auto with_error = asio::as_tuple(asio::use_awaitable);
        std::string pending;
        while (next_answer_ < answers_.size()) {
            auto [head_error, head_size] = co_await asio::async_read_until(
                socket, asio::dynamic_buffer(pending), "\r\n\r\n", with_error);
            if (head_error) {
                co_return;
            }
            const std::size_t length = content_length(pending.substr(0, head_size));
            if (pending.size() < head_size + length) {
                auto [body_error, body_size] = co_await asio::async_read(
                    socket, asio::dynamic_buffer(pending),
                    asio::transfer_exactly(head_size + length - pending.size()), with_error);
                if (body_error) {
                    co_return;
                }
            }
            requests_.push_back(pending.substr(0, head_size + length));
            pending.erase(0, head_size + length);

            const std::string& answer = answers_[next_answer_++];
            co_await write_in_pieces(socket, answer);
            if (answer.find("Connection: close") != std::string::npos) {
                co_return;
            }
        }
        held_.push_back(std::move(socket));
    }

    static asio::awaitable<void> write_in_pieces(tcp::socket& socket, std::string_view answer) {
        constexpr auto with_error = asio::as_tuple(asio::use_awaitable);
        if (const auto stall = answer.find(stall_mark); stall != std::string_view::npos) {
            // Past the client's deadline, and written while the loop is still held: its read
            // and its deadline then come due in the same turn of the event loop.
            std::this_thread::sleep_for(250ms);
            asio::write(socket, asio::buffer(answer.substr(0, stall)));
            std::this_thread::sleep_for(50ms);
            answer.remove_prefix(stall + 1);
        }
        const auto pause = answer.find(pause_mark);
        co_await asio::async_write(socket, asio::buffer(answer.substr(0, pause)), with_error);
        if (pause != std::string_view::npos) {
            asio::steady_timer timer(socket.get_executor(), 50ms);
            co_await timer.async_wait(with_error);
            co_await asio::async_write(socket, asio::buffer(answer.substr(pause + 1)), with_error);
        }
    }

    static std::size_t content_length(const std::string& head) {
        const auto at = head.find("Content-Length: ");
        return at == std::string::npos ? 0 : std::stoul(head.substr(at + 16));
    }

    tcp::acceptor acceptor_;
    std::vector<std::string> answers_;
    std::size_t next_answer_ = 0;
    std::vector<std::string> requests_;
    std::vector<tcp::socket> held_;
    int connections_ = 0;
};

client_options short_timeouts() {
    client_options options;
    options.tls_timeout = 200ms;
    options.read_timeout = 200ms;
    return options;
}

http_result post_once(asio::io_context& io, const convex_endpoint& endpoint,
                      std::chrono::milliseconds limit,
                      std::string body = R"({"path":"auth:signIn"})") {
    convex_connection connection(io.get_executor(), endpoint);
    http_result result;
    bool done = false;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
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
    scripted_server server(io, {});
    const convex_endpoint endpoint(parse_deployment_url("http://127.0.0.1:" + server.port()),
                                   short_timeouts());

    const auto started = std::chrono::steady_clock::now();
    const http_result result = post_once(io, endpoint, 5s);
    CHECK(result.error == client_error::read_timeout);
    CHECK(result.phase == "read");
    CHECK(result.error_text() == "read: no answer within the read timeout");
    CHECK(std::chrono::steady_clock::now() - started < 2s);
}

TEST_CASE("a server that never reads ends the request with the write timeout code") {
    asio::io_context io;
    scripted_server server(io, {});
    client_options options;
    options.write_timeout = 200ms;
    const convex_endpoint endpoint(parse_deployment_url(server.url()), options);

    const auto started = std::chrono::steady_clock::now();
    // Far more than the socket buffers of both ends hold, so the write cannot finish.
    const http_result result = post_once(io, endpoint, 5s, std::string(64 << 20, 'x'));
    CHECK(result.error == client_error::write_timeout);
    CHECK(result.phase == "write");
    CHECK(std::chrono::steady_clock::now() - started < 2s);
}

TEST_CASE("a read deadline that comes due with part of the answer still ends the request") {
    asio::io_context io;
    // More than one read's worth of a longer body, then nothing: the client reads a piece,
    // starts its next read, and the deadline passes between the two.
    const std::string cut = "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" +
                            std::string(6000, 'x') + std::string(1, stall_mark);
    scripted_server server(io, {cut});
    const convex_endpoint endpoint(parse_deployment_url(server.url()), short_timeouts());

    const auto started = std::chrono::steady_clock::now();
    const http_result result = post_once(io, endpoint, 5s);
    CHECK(result.error == client_error::read_timeout);
    CHECK(result.phase == "read");
    CHECK(std::chrono::steady_clock::now() - started < 2s);
}

TEST_CASE("a server that never completes the TLS handshake ends it with the TLS timeout code") {
    asio::io_context io;
    scripted_server server(io, {});
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
    scripted_server server(io, {});
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

namespace {

constexpr std::string_view success_answer =
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 33\r\n\r\n"
    R"({"status":"success","value":null})";

// Sends `bodies` one after another on one connection; returns each result.
std::vector<http_result> post_all(asio::io_context& io, const convex_endpoint& endpoint,
                                  std::vector<std::string> bodies) {
    convex_connection connection(io.get_executor(), endpoint);
    std::vector<http_result> results;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            for (auto& body : bodies) {
                results.push_back(co_await connection.post("/api/action", body));
            }
            io.stop();
        },
        asio::detached);
    io.run_for(5s);
    REQUIRE(results.size() == bodies.size());
    return results;
}

}  // namespace

TEST_CASE("a sign-up goes out as one keep-alive POST with the deployment's headers") {
    asio::io_context io;
    scripted_server server(io, {std::string(success_answer), std::string(success_answer)});
    client_options options;
    options.deploy_key = "prod:app|secret";
    const convex_endpoint endpoint(parse_deployment_url(server.url() + "/prefix/"), options);

    const auto results = post_all(io, endpoint, {R"({"a":1})", R"({"b":"é"})"});
    CHECK(results[0].status == 200);
    CHECK(results[1].body == R"({"status":"success","value":null})");
    CHECK(server.connections() == 1);

    const std::string port = server.url().substr(server.url().rfind(':') + 1);
    REQUIRE(server.requests().size() == 2);
    CHECK(server.requests()[1] ==
          "POST /api/action HTTP/1.1\r\nHost: 127.0.0.1:" + port +
              "\r\nContent-Type: application/json\r\nConvex-Client: convex-importd-" +
              std::string(version) +
              "\r\nConnection: keep-alive\r\nAuthorization: Convex prod:app|secret\r\n"
              "Content-Length: 10\r\n\r\n{\"b\":\"é\"}");
}

TEST_CASE("a chunked answer is put together, and Retry-After is kept") {
    asio::io_context io;
    scripted_server server(io, {"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 7\r\n"
                                "Transfer-Encoding: chunked\r\n\r\n"
                                "5\r\n{\"sta\r\n9\r\ntus\":\"err\r\n4\r\nor\"}\r\n0\r\n\r\n"});
    const convex_endpoint endpoint(parse_deployment_url(server.url()), client_options{});

    const auto results = post_all(io, endpoint, {"{}"});
    CHECK(results[0].status == 429);
    REQUIRE(results[0].retry_after);
    CHECK(*results[0].retry_after == "7");
    CHECK(results[0].body == R"({"status":"error"})");
}

TEST_CASE("an answer that closes the connection makes the next request open a new one") {
    asio::io_context io;
    const std::string closing =
        "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 33\r\n\r\n"
        R"({"status":"success","value":null})";
    scripted_server server(io, {closing, std::string(success_answer)});
    const convex_endpoint endpoint(parse_deployment_url(server.url()), client_options{});

    const auto results = post_all(io, endpoint, {"{}", "{}"});
    CHECK(results[0].status == 200);
    CHECK_FALSE(results[1].transport_failed());
    CHECK(results[1].status == 200);
    CHECK(server.connections() == 2);
}

TEST_CASE("a keep-alive connection idle for longer than the read timeout is used again") {
    asio::io_context io;
    scripted_server server(io, {std::string(success_answer), std::string(success_answer)});
    const convex_endpoint endpoint(parse_deployment_url(server.url()), short_timeouts());
    convex_connection connection(io.get_executor(), endpoint);

    std::vector<http_result> results;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            std::string body = "{}";
            results.push_back(co_await connection.post("/api/action", body));
            asio::steady_timer idle(io, 500ms);  // past the first request's read deadline
            co_await idle.async_wait(asio::use_awaitable);
            body = "{}";
            results.push_back(co_await connection.post("/api/action", body));
            io.stop();
        },
        asio::detached);
    io.run_for(5s);

    REQUIRE(results.size() == 2);
    CHECK_FALSE(results[0].transport_failed());
    CHECK_FALSE(results[1].transport_failed());
    CHECK(results[1].status == 200);
    CHECK(server.connections() == 1);
}

TEST_CASE("an answer that arrives in pieces is read whole, header and body apart") {
    asio::io_context io;
    const std::string head_then_body = "HTTP/1.1 200 OK\r\nContent-Length: 33\r\n\r\n" +
                                       std::string(1, pause_mark) +
                                       R"({"status":"success","value":null})";
    const std::string header_cut = "HTTP/1.1 503 Service Unavailable\r\nRetry-" +
                                   std::string(1, pause_mark) +
                                   "After: 3\r\nContent-Length: 2\r\n\r\n{}";
    const std::string body_cut =
        "HTTP/1.1 200 OK\r\nContent-Length: 33\r\n\r\n{\"status\":" + std::string(1, pause_mark) +
        R"("success","value":null})";
    scripted_server server(io, {head_then_body, header_cut, body_cut});
    const convex_endpoint endpoint(parse_deployment_url(server.url()), client_options{});

    const auto results = post_all(io, endpoint, {"{}", "{}", "{}"});
    CHECK(results[0].body == R"({"status":"success","value":null})");
    CHECK(results[1].status == 503);
    REQUIRE(results[1].retry_after);
    CHECK(*results[1].retry_after == "3");
    CHECK(results[1].body == "{}");
    CHECK(results[2].body == R"({"status":"success","value":null})");
    CHECK(server.connections() == 1);
}

TEST_CASE("a connection closed halfway through an answer is a read error") {
    asio::io_context io;
    scripted_server server(io, {"HTTP/1.1 200 OK\r\nContent-Length: 33\r\nConnection: close"
                                "\r\n\r\n{\"status\""});
    const convex_endpoint endpoint(parse_deployment_url(server.url()), client_options{});

    const auto results = post_all(io, endpoint, {"{}"});
    CHECK(results[0].phase == "read");
    CHECK(results[0].error == boost::beast::http::error::partial_message);
}
