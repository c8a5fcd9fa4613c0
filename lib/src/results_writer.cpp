#include "convex_importd/results_writer.hpp"

#include "convex_importd/escape.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

namespace convex_importd {

namespace {

[[noreturn]] void throw_io_error(const std::string& operation, const std::filesystem::path& path) {
    throw std::system_error(errno, std::generic_category(), operation + " " + path.string());
}

bool needs_quotes(std::string_view value) {
    // Not find_first_of: it runs a search of the four characters for each byte of the value.
    return std::any_of(value.begin(), value.end(),
                       [](char c) { return c == ',' || c == '"' || c == '\r' || c == '\n'; });
}

// Cells a spreadsheet would evaluate as a formula (or split, for TAB and CR).
bool looks_like_formula(std::string_view value) {
    return !value.empty() &&
           std::string_view("=+-@\t\r").find(value.front()) != std::string_view::npos;
}

}  // namespace

void append_csv_cell(std::string& out, std::string_view raw) {
    if (!has_controls(raw) && !looks_like_formula(raw) && !needs_quotes(raw)) {
        out.append(raw);  // most cells: an email, an outcome's short detail
        return;
    }
    // Control characters are written as \xNN: TAB and CR then cannot start a cell either.
    const std::string value = escape_controls(raw);
    const bool formula = looks_like_formula(value);
    if (!formula && !needs_quotes(value)) {
        out.append(value);
        return;
    }
    out.push_back('"');
    if (formula) {
        out.push_back('\'');
    }
    for (const char c : value) {
        if (c == '"') {
            out.push_back('"');
        }
        out.push_back(c);
    }
    out.push_back('"');
}

results_writer::results_writer(std::filesystem::path target)
    : target_(std::move(target)), temporary_(target_.string() + ".part") {
    const int fd = ::open(temporary_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        throw_io_error("create", temporary_);
    }
    file_ = ::fdopen(fd, "w");
    if (file_ == nullptr) {
        ::close(fd);
        throw_io_error("open", temporary_);
    }
    std::fputs("line,email,outcome,attempts,detail\n", file_);
}

results_writer::~results_writer() {
    if (file_ != nullptr) {
        std::fclose(file_);
        std::filesystem::remove(temporary_);
    }
}

void results_writer::add(std::size_t index, const row_result& result) {
    if (index != next_index_) {
        waiting_.emplace(index, result);  // copied only when it cannot be written yet
        return;
    }
    write(result);
    ++next_index_;
    for (auto it = waiting_.begin(); it != waiting_.end() && it->first == next_index_;
         it = waiting_.erase(it)) {
        write(it->second);
        ++next_index_;
    }
}

void results_writer::write(const row_result& result) {
    scratch_.clear();
    scratch_.append(std::to_string(result.line)).push_back(',');
    append_csv_cell(scratch_, result.email);
    scratch_.push_back(',');
    scratch_.append(to_string(result.result)).push_back(',');
    scratch_.append(std::to_string(result.attempts)).push_back(',');
    append_csv_cell(scratch_, result.detail);
    scratch_.push_back('\n');
    std::fwrite(scratch_.data(), 1, scratch_.size(), file_);
}

void results_writer::commit() {
    for (const auto& [index, result] : waiting_) {
        write(result);  // gaps mean rows without an outcome; the caller reports those
    }
    waiting_.clear();

    const bool written = std::fflush(file_) == 0 && ::fsync(::fileno(file_)) == 0;
    const int close_status = std::fclose(file_);
    file_ = nullptr;
    if (!written || close_status != 0) {
        throw_io_error("write", temporary_);
    }
    std::filesystem::rename(temporary_, target_);
}

}  // namespace convex_importd
