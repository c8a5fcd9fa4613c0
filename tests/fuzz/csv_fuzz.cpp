// Feeds arbitrary bytes through everything that reads an input file: encoding detection and
// decoding, RFC 4180 records, delimiter and header detection, row checks and duplicates.
// The first input byte picks the options so that small limits and fixed delimiters get
// their share of the runs.

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "convex_importd/file_layout.hpp"
#include "convex_importd/row_source.hpp"

using namespace convex_importd;

namespace {

// A file in memory that the reader can open by path like any other.
class memory_file {
public:
    memory_file(const std::uint8_t* data, std::size_t size)
        : fd_(::memfd_create("csv_fuzz", MFD_CLOEXEC)) {
        if (fd_ < 0 || ::write(fd_, data, size) != static_cast<ssize_t>(size)) {
            throw std::runtime_error("memfd");
        }
        path_ = "/proc/self/fd/" + std::to_string(fd_);
    }
    ~memory_file() { ::close(fd_); }

    const std::string& path() const { return path_; }

private:
    int fd_;
    std::string path_;
};

layout_options options_from(std::uint8_t knob) {
    layout_options options;
    options.max_record_bytes = (knob & 1) != 0 ? 32 : 64 * 1024;
    switch ((knob >> 1) & 3) {
        case 1:
            options.delimiter = ';';
            break;
        case 2:
            options.header = false;
            options.columns = {"email", "password", "name"};
            break;
        default:
            break;
    }
    if ((knob & 8) != 0) {
        options.names.params.emplace_back("name", "name");
    }
    return options;
}

void read_everything(const std::string& path, const layout_options& options, row_rules rules) {
    const file_layout layout = find_layout(path, options);
    row_source rows(path, layout, rules);
    user_row row;
    std::size_t expected_index = 0;
    while (rows.next(row)) {
        if (row.index != expected_index++ || row.line == 0) {
            __builtin_trap();  // rows must come in order with a line number each
        }
        if (row.verdict && !row.password.view().empty()) {
            __builtin_trap();  // a row decided locally never keeps its password
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    const memory_file file(data + 1, size - 1);
    row_rules rules;
    rules.letter_case = (data[0] & 16) != 0 ? email_case::preserve : email_case::lower;
    try {
        read_everything(file.path(), options_from(data[0]), rules);
    } catch (const layout_error&) {
    } catch (const csv_error&) {
    }
    return 0;
}
