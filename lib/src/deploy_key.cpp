#include "convex_importd/deploy_key.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>
#include <openssl/crypto.h>

namespace convex_importd {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t longest_key = 4096;

class file_descriptor {
public:
    explicit file_descriptor(int fd) : fd_(fd) {}
    ~file_descriptor() {
        if (fd_ >= 0) {
            ::close(fd_);
        }
    }
    file_descriptor(const file_descriptor&) = delete;
    file_descriptor& operator=(const file_descriptor&) = delete;

    int get() const { return fd_; }

private:
    int fd_;
};

std::string errno_text() {
    return std::strerror(errno);
}

// Checked on the open descriptor, so the file cannot be swapped between check and read.
void refuse_shared_file(int fd, const fs::path& path) {
    struct stat status {};
    if (::fstat(fd, &status) != 0) {
        throw deploy_key_error("deploy key file " + path.string() + ": " + errno_text());
    }
    if (!S_ISREG(status.st_mode)) {
        throw deploy_key_error("deploy key file " + path.string() + ": not a regular file");
    }
    if ((status.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
        throw deploy_key_error(fmt::format(
            "deploy key file {} has mode {:04o}: it must not be readable by group or others "
            "(chmod 600 {})",
            path.string(), status.st_mode & 07777, path.string()));
    }
}

std::string read_small_file(int fd, const fs::path& path) {
    std::string text;
    std::array<char, 1024> chunk{};
    for (;;) {
        const ssize_t got = ::read(fd, chunk.data(), chunk.size());
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got < 0) {
            throw deploy_key_error("read deploy key " + path.string() + ": " + errno_text());
        }
        if (got == 0) {
            break;
        }
        text.append(chunk.data(), static_cast<std::size_t>(got));
        if (text.size() > longest_key) {
            OPENSSL_cleanse(text.data(), text.size());
            throw deploy_key_error("deploy key " + path.string() + ": longer than 4096 bytes");
        }
    }
    OPENSSL_cleanse(chunk.data(), chunk.size());
    return text;
}

// The key goes into a header line: a stray CR or LF would end it, so only printable ASCII
// passes. A trailing newline, as editors write one, is dropped.
std::string checked_key(std::string text, const fs::path& path) {
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
        text.pop_back();
    }
    if (text.empty()) {
        throw deploy_key_error("deploy key " + path.string() + " is empty");
    }
    for (const char c : text) {
        if (c < 0x21 || c > 0x7E) {
            OPENSSL_cleanse(text.data(), text.size());
            throw deploy_key_error("deploy key " + path.string() +
                                   ": expected one line of printable characters");
        }
    }
    return text;
}

std::string read_key(const fs::path& path, bool check_mode) {
    const file_descriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
    if (fd.get() < 0) {
        throw deploy_key_error("open deploy key " + path.string() + ": " + errno_text());
    }
    if (check_mode) {
        refuse_shared_file(fd.get(), path);
    }
    return checked_key(read_small_file(fd.get(), path), path);
}

}  // namespace

deploy_key load_deploy_key(const deploy_key_sources& sources) {
    // systemd makes credentials readable by the service alone, and skips a missing one.
    if (!sources.credentials_directory.empty() && !sources.credential.empty()) {
        const fs::path credential = sources.credentials_directory / sources.credential;
        std::error_code error;
        if (fs::exists(credential, error)) {
            return {read_key(credential, false), "credential " + sources.credential};
        }
    }

    if (!sources.key_file.empty()) {
        return {read_key(sources.key_file, true), "file " + sources.key_file.string()};
    }
    return {};
}

}  // namespace convex_importd
