#include "deadline_watch.hpp"

#include <doctest/doctest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

using namespace convex_importd;
using namespace std::chrono_literals;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

// Two ends of a loopback connection; the peer never writes unless a test makes it.
struct socket_pair {
    explicit socket_pair(asio::io_context& io)
        : acceptor(io, {asio::ip::make_address("127.0.0.1"), 0}), client(io) {
        client.connect(acceptor.local_endpoint());
        peer = acceptor.accept();
    }

    tcp::acceptor acceptor;
    tcp::socket client;
    tcp::socket peer{acceptor.get_executor()};
};

// Starts a one-byte read on `socket`; `ended` is set when it completes, with its error.
struct pending_read {
    explicit pending_read(tcp::socket& socket) {
        socket.async_read_some(asio::buffer(&byte, 1),
                               [this](boost::system::error_code result, std::size_t) {
                                   error = result;
                                   ended = true;
                               });
    }

    char byte = 0;
    bool ended = false;
    boost::system::error_code error;
};

// A connection and a watch on its client end, for one test.
struct watched_connection {
    void run_for(std::chrono::milliseconds time) {
        io.restart();
        io.run_for(time);
    }

    asio::io_context io;
    socket_pair sockets{io};
    deadline_watch watch{io.get_executor()};
};

}  // namespace

TEST_CASE_FIXTURE(watched_connection,
                  "a read still pending at its deadline ends, and expired() names the phase") {
    watch.arm(sockets.client, 50ms, client_error::read_timeout);
    pending_read read(sockets.client);
    run_for(30ms);
    CHECK_FALSE(read.ended);
    CHECK_FALSE(watch.expired());

    run_for(200ms);
    CHECK(read.ended);
    CHECK(read.error);
    CHECK(watch.expired() == client_error::read_timeout);
}

TEST_CASE_FIXTURE(watched_connection,
                  "a deadline that passes between two operations ends the next one at once") {
    watch.arm(sockets.client, 50ms, client_error::write_timeout);
    run_for(150ms);  // nothing pending when it passes
    REQUIRE(watch.expired() == client_error::write_timeout);

    pending_read read(sockets.client);
    run_for(100ms);  // the peer never writes: only the ended socket can end it
    CHECK(read.ended);
    CHECK(read.error);
}

TEST_CASE_FIXTURE(watched_connection,
                  "a deadline moved later before it passes leaves the socket alone until then") {
    watch.arm(sockets.client, 50ms, client_error::read_timeout);
    run_for(20ms);
    watch.arm(sockets.client, 300ms, client_error::read_timeout);
    pending_read read(sockets.client);
    run_for(150ms);  // past the first deadline: the timer wakes and sleeps on
    CHECK_FALSE(read.ended);
    CHECK_FALSE(watch.expired());

    run_for(300ms);
    CHECK(read.ended);
    CHECK(watch.expired() == client_error::read_timeout);
}

TEST_CASE_FIXTURE(watched_connection, "a deadline moved earlier is kept: the timer wakes for it") {
    watch.arm(sockets.client, 10s, client_error::read_timeout);
    run_for(10ms);
    watch.arm(sockets.client, 50ms, client_error::write_timeout);
    pending_read read(sockets.client);
    run_for(300ms);
    CHECK(read.ended);
    CHECK(watch.expired() == client_error::write_timeout);
}

TEST_CASE_FIXTURE(watched_connection,
                  "a disarmed watch lets the socket sit idle past the old deadline") {
    watch.arm(sockets.client, 50ms, client_error::read_timeout);
    watch.disarm();
    pending_read read(sockets.client);
    run_for(200ms);
    CHECK_FALSE(read.ended);
    CHECK_FALSE(watch.expired());

    const char byte = 'x';
    sockets.peer.write_some(asio::buffer(&byte, 1));
    run_for(100ms);
    CHECK(read.ended);
    CHECK_FALSE(read.error);
}
