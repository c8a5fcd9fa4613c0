#include "convex_importd/systemd_notify.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <array>
#include <cstdlib>
#include <string>

#include <boost/asio/io_context.hpp>

#include "test_files.hpp"

using namespace convex_importd;

namespace {

/// A datagram socket posing as systemd's notify socket, found through NOTIFY_SOCKET.
class fake_notify_socket {
public:
    explicit fake_notify_socket(const std::filesystem::path& path) {
        fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        path.string().copy(address.sun_path, sizeof(address.sun_path) - 1);
        REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
        const timeval limit{5, 0};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
        ::setenv("NOTIFY_SOCKET", path.c_str(), 1);
    }

    ~fake_notify_socket() {
        ::unsetenv("NOTIFY_SOCKET");
        ::close(fd_);
    }

    std::string receive() {
        std::array<char, 512> buffer{};
        const ssize_t got = ::recv(fd_, buffer.data(), buffer.size(), 0);
        return got > 0 ? std::string(buffer.data(), static_cast<std::size_t>(got)) : "";
    }

private:
    int fd_ = -1;
};

}  // namespace

TEST_CASE("messages reach the socket named by NOTIFY_SOCKET") {
    testing::temp_folder folder;
    fake_notify_socket systemd_socket(folder.path() / "notify");

    systemd::notify_ready();
    systemd::notify_status("importing users.csv 41% 180 rows/s");
    systemd::notify_stopping();

    CHECK(systemd_socket.receive() == "READY=1");
    CHECK(systemd_socket.receive() == "STATUS=importing users.csv 41% 180 rows/s");
    CHECK(systemd_socket.receive() == "STOPPING=1");
}

TEST_CASE("without NOTIFY_SOCKET nothing happens and nothing fails") {
    ::unsetenv("NOTIFY_SOCKET");
    CHECK_NOTHROW(systemd::notify_ready());
    CHECK_NOTHROW(systemd::notify_status("x"));
}

TEST_CASE("the watchdog pings from the event loop at half of WatchdogSec") {
    testing::temp_folder folder;
    fake_notify_socket systemd_socket(folder.path() / "notify");
    ::setenv("WATCHDOG_USEC", "200000", 1);
    ::setenv("WATCHDOG_PID", std::to_string(::getpid()).c_str(), 1);

    CHECK(systemd::watchdog_interval() == std::chrono::microseconds(200'000));
    boost::asio::io_context io;
    systemd::watchdog_pinger pinger(io.get_executor());
    REQUIRE(pinger.start());
    io.run_for(std::chrono::milliseconds(350));
    pinger.stop();
    io.run_for(std::chrono::milliseconds(50));

    CHECK(systemd_socket.receive() == "WATCHDOG=1");
    CHECK(systemd_socket.receive() == "WATCHDOG=1");
    CHECK(systemd_socket.receive() == "WATCHDOG=1");
    ::unsetenv("WATCHDOG_USEC");
    ::unsetenv("WATCHDOG_PID");
    CHECK_FALSE(systemd::watchdog_interval());
}
