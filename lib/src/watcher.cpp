#include "convex_importd/watcher.hpp"

#include <sys/inotify.h>

#include <array>
#include <cerrno>
#include <system_error>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace convex_importd {

namespace asio = boost::asio;

namespace {

int open_inotify(const std::filesystem::path& folder) {
    const int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0) {
        throw std::system_error(errno, std::generic_category(), "inotify_init1");
    }
    if (::inotify_add_watch(fd, folder.c_str(), IN_CLOSE_WRITE | IN_MOVED_TO) < 0) {
        const int error = errno;
        ::close(fd);
        throw std::system_error(error, std::generic_category(), "watch " + folder.string());
    }
    return fd;
}

}  // namespace

inbox_watcher::inbox_watcher(asio::any_io_executor executor, const std::filesystem::path& folder)
    : inotify_(executor, open_inotify(folder)), timer_(executor) {}

asio::awaitable<void> inbox_watcher::wait(std::chrono::milliseconds at_most) {
    using namespace asio::experimental::awaitable_operators;
    constexpr auto with_error = asio::as_tuple(asio::use_awaitable);

    // The events themselves are not needed: the caller rescans the folder. Reading them
    // empties the descriptor so that the next wait blocks again.
    std::array<char, 4096> events;
    timer_.expires_after(at_most);
    co_await (inotify_.async_read_some(asio::buffer(events), with_error) ||
              timer_.async_wait(with_error));
}

void inbox_watcher::cancel() {
    timer_.cancel();
    inotify_.cancel();
}

}  // namespace convex_importd
