#include "convex_importd/status_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include <fmt/format.h>

#include "convex_importd/json_text.hpp"
#include "convex_importd/version.hpp"

namespace convex_importd {

namespace fs = std::filesystem;

namespace {

std::string counts_json(const std::array<std::size_t, outcome_count>& counts) {
    std::string out = "{";
    for (std::size_t i = 0; i < outcome_count; ++i) {
        out += fmt::format("{}\"{}\":{}", i == 0 ? "" : ",", to_string(static_cast<outcome>(i)),
                           counts[i]);
    }
    return out + "}";
}

std::string number_or_null(const std::optional<double>& value, int decimals) {
    return value ? fmt::format("{:.{}f}", *value, decimals) : "null";
}

std::string active_json(const import_progress& progress) {
    std::string out = "{\"file\":";
    append_json_text(out, progress.file);
    out += fmt::format(
        ",\"total\":{},\"done\":{},\"percent\":{},\"rows_per_s\":{:.1f},\"eta_s\":{},"
        "\"seconds\":{:.1f},\"counts\":{}}}",
        progress.total ? std::to_string(*progress.total) : "null", progress.done(),
        number_or_null(progress.percent(), 1), progress.rows_per_second(),
        number_or_null(progress.eta_seconds(), 0), progress.seconds, counts_json(progress.counts));
    return out;
}

std::string totals_json(const service_totals& totals) {
    std::size_t rows = 0;
    for (const auto count : totals.counts) {
        rows += count;
    }
    return fmt::format(
        "{{\"files_finished\":{},\"files_failed\":{},\"files_interrupted\":{},\"rows\":{},"
        "\"counts\":{}}}",
        totals.files_finished, totals.files_failed, totals.files_interrupted, rows,
        counts_json(totals.counts));
}

[[noreturn]] void throw_io_error(const std::string& operation, const fs::path& path) {
    throw std::system_error(errno, std::generic_category(), operation + " " + path.string());
}

}  // namespace

std::string status_json(const status_report& report) {
    std::string out = "{\"version\":";
    append_json_text(out, version);
    out += fmt::format(",\"pid\":{},\"state\":", report.pid);
    append_json_text(out, report.state);
    out += ",\"started\":";
    append_json_text(out, report.started);
    out += ",\"updated\":";
    append_json_text(out, report.updated);
    out += ",\"active\":[";
    for (std::size_t i = 0; i < report.active.size(); ++i) {
        out += i == 0 ? "" : ",";
        out += active_json(report.active[i]);
    }
    out += "],\"totals\":" + totals_json(report.totals) + "}\n";
    return out;
}

void replace_file(const fs::path& path, std::string_view content, mode_t mode) {
    fs::create_directories(path.parent_path());
    const fs::path temporary =
        path.parent_path() / fmt::format(".{}.tmp", path.filename().string());
    const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) {
        throw_io_error("create", temporary);
    }

    const bool written =
        ::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()) &&
        ::fdatasync(fd) == 0;
    const int saved_errno = errno;
    ::close(fd);
    if (!written) {
        errno = saved_errno;
        throw_io_error("write", temporary);
    }

    if (::rename(temporary.c_str(), path.c_str()) != 0) {
        throw_io_error("rename " + temporary.string() + " to", path);
    }
}

}  // namespace convex_importd
