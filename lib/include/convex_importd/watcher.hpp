#pragma once

#include <chrono>
#include <filesystem>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

namespace convex_importd {

/// Wakes the spool loop when a file is finished in, or moved into, the inbox folder
/// (inotify IN_CLOSE_WRITE and IN_MOVED_TO). Not thread-safe; one waiter at a time.
class inbox_watcher {
public:
    /// Throws std::system_error when inotify cannot watch `folder`.
    inbox_watcher(boost::asio::any_io_executor executor, const std::filesystem::path& folder);

    /// Returns after the next inotify event, after `at_most` (a rescan catches what
    /// inotify misses), or when cancel() is called.
    boost::asio::awaitable<void> wait(std::chrono::milliseconds at_most);

    void cancel();

private:
    boost::asio::posix::stream_descriptor inotify_;
    boost::asio::steady_timer timer_;
};

}  // namespace convex_importd
