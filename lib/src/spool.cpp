#include "convex_importd/spool.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <functional>
#include <system_error>

#include <fmt/format.h>

namespace convex_importd {

namespace fs = std::filesystem;

namespace {

std::vector<fs::path> importable_files(const fs::path& folder) {
    std::vector<std::pair<fs::file_time_type, fs::path>> found;
    for (const auto& entry : fs::directory_iterator(folder)) {
        std::error_code error;
        if (entry.is_regular_file(error) &&
            spool::importable_name(entry.path().filename().string())) {
            found.emplace_back(entry.last_write_time(error), entry.path());
        }
    }
    std::sort(found.begin(), found.end());

    std::vector<fs::path> files;
    for (auto& [time, path] : found) {
        files.push_back(std::move(path));
    }
    return files;
}

void sync_folder(const fs::path& folder) {
    const int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        ::fsync(fd);
        ::close(fd);
    }
}

void write_file(const fs::path& path, std::string_view text) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        throw std::system_error(errno, std::generic_category(), "create " + path.string());
    }
    const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    ::close(fd);
    if (!written) {
        throw std::system_error(errno, std::generic_category(), "write " + path.string());
    }
}

// Best effort: a file dropped by another user cannot be changed, only moved or deleted.
void restrict_to_owner(const fs::path& file) {
    std::error_code ignored;
    fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write, ignored);
}

}  // namespace

spool::spool(fs::path root)
    : inbox_(root / "inbox"),
      processing_(root / "processing"),
      done_(root / "done"),
      failed_(root / "failed") {
    for (const auto* folder : {&inbox_, &processing_, &done_, &failed_}) {
        fs::create_directories(*folder);
    }
}

bool spool::importable_name(std::string_view name) {
    return !name.starts_with('.') && name.size() > 4 && name.ends_with(".csv");
}

std::vector<fs::path> spool::waiting_files() const {
    return importable_files(inbox_);
}

std::vector<file_observation> spool::observe_inbox() const {
    std::vector<file_observation> seen;
    for (auto& path : importable_files(inbox_)) {
        std::error_code size_error;
        std::error_code time_error;
        const auto size = fs::file_size(path, size_error);
        const auto modified = fs::last_write_time(path, time_error);
        if (!size_error && !time_error) {
            seen.push_back({std::move(path), size, modified});
        }
    }
    return seen;
}

std::vector<fs::path> spool::unfinished_files() const {
    return importable_files(processing_);
}

// Long enough for any real file name, short enough that NAME.results.csv.part and a "-N"
// suffix still fit in the 255 bytes a file name may have.
constexpr std::size_t longest_claimed_name = 200;

// A name cut to fit, ending in a digest of the whole so that two long names stay apart.
fs::path shortened(const fs::path& name) {
    const std::string text = name.string();
    if (text.size() <= longest_claimed_name) {
        return name;
    }
    std::size_t cut = longest_claimed_name - 24;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) {
        --cut;  // not inside a UTF-8 sequence
    }
    const std::size_t digest = std::hash<std::string>{}(text);
    return fmt::format("{}-{:016x}.csv", text.substr(0, cut), digest);
}

fs::path spool::unused_name(const fs::path& wanted) const {
    const fs::path name = shortened(wanted);
    const auto taken = [this](const fs::path& candidate) {
        return fs::exists(processing_ / candidate) || fs::exists(done_ / candidate) ||
               fs::exists(failed_ / candidate);
    };
    if (!taken(name)) {
        return name;
    }
    for (int n = 2;; ++n) {
        fs::path candidate = name.stem().string() + "-" + std::to_string(n) + ".csv";
        if (!taken(candidate)) {
            return candidate;
        }
    }
}

std::optional<fs::path> spool::claim(const fs::path& waiting) {
    const fs::path target = processing_ / unused_name(waiting.filename());
    std::error_code error;
    fs::rename(waiting, target, error);
    if (error == std::errc::no_such_file_or_directory) {
        return std::nullopt;
    }
    if (error) {
        throw fs::filesystem_error("claim", waiting, target, error);
    }
    sync_folder(processing_);
    return target;
}

fs::path spool::results_path(const fs::path& claimed) const {
    return done_ / (claimed.filename().string() + ".results.csv");
}

fs::path spool::finish(const fs::path& claimed) {
    const fs::path target = done_ / claimed.filename();
    restrict_to_owner(claimed);
    fs::rename(claimed, target);
    sync_folder(done_);
    return target;
}

void spool::discard(const fs::path& claimed) {
    fs::remove(claimed);
    sync_folder(processing_);
}

fs::path spool::fail(const fs::path& claimed, std::string_view reason) {
    const fs::path target = failed_ / claimed.filename();
    restrict_to_owner(claimed);
    write_file(failed_ / (claimed.filename().string() + ".error.txt"), std::string(reason) + "\n");
    fs::rename(claimed, target);
    sync_folder(failed_);
    return target;
}

}  // namespace convex_importd
