// Stands in for systemd's notify socket in integration tests: binds a datagram socket at
// the path given as its argument, prints "listening", then prints each message it receives
// on one line (a newline inside a message becomes '|'). Runs until it is killed.

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <string>

int main(int argc, char** argv) {
    if (argc != 2 || std::strlen(argv[1]) >= sizeof(sockaddr_un::sun_path)) {
        std::fprintf(stderr, "usage: notify_listener SOCKET_PATH (shorter than 108 bytes)\n");
        return 2;
    }
    const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strcpy(address.sun_path, argv[1]);
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
        std::perror("notify_listener: bind");
        return 1;
    }
    std::printf("listening\n");
    std::fflush(stdout);

    std::array<char, 4096> buffer{};
    for (;;) {
        const ssize_t got = ::recv(fd, buffer.data(), buffer.size(), 0);
        if (got < 0) {
            continue;
        }
        std::string message(buffer.data(), static_cast<std::size_t>(got));
        std::replace(message.begin(), message.end(), '\n', '|');
        std::printf("%s\n", message.c_str());
        std::fflush(stdout);
    }
}
