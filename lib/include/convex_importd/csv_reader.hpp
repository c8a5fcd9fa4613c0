#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "convex_importd/utf16_decoder.hpp"

namespace convex_importd {

/// One CSV record. Field text lives in one buffer that the reader reuses between calls, so
/// reading a file allocates only while records grow past the largest seen so far.
class csv_record {
public:
    csv_record() = default;
    csv_record(const csv_record&) = default;
    csv_record& operator=(const csv_record&) = default;
    csv_record(csv_record&&) noexcept = default;
    csv_record& operator=(csv_record&&) noexcept = default;
    ~csv_record();  // wipes the text: it may hold a password

    std::size_t line() const { return line_; }
    std::size_t size() const { return spans_.size(); }
    std::string_view field(std::size_t index) const {
        // Not substr(): the reader only makes spans that lie in the text, and its bounds check
        // (a compare, a branch and a clamp) ran on every field read, several per record.
        const span& found = spans_[index];
        return std::string_view(text_.data() + found.begin, found.end - found.begin);
    }

    /// Every field's text, in order, each followed or enclosed by ASCII bytes that belong to
    /// no field (delimiters, quotes, separators): the text is valid UTF-8 exactly when every
    /// field is.
    std::string_view text() const { return text_; }

    /// True when the reader saw that every byte of the record is ASCII, which spares the
    /// checks of UTF-8 a look at it; false says nothing.
    bool known_ascii() const { return known_ascii_; }

    /// True when the record passed the reader's size limit; its fields are then truncated.
    bool oversized() const { return oversized_; }

    /// True for a blank line (nothing but spaces and tabs) or a line of delimiters only, as
    /// spreadsheets pad with. A record with spaces in two fields is data, not padding.
    bool blank() const {
        if (oversized_) {
            return false;
        }
        if (spans_.size() > 1) {
            return std::all_of(spans_.begin(), spans_.end(),
                               [](const span& s) { return s.begin == s.end; });
        }
        const std::string_view only = spans_.empty() ? std::string_view() : field(0);
        return std::all_of(only.begin(), only.end(), [](char c) { return c == ' ' || c == '\t'; });
    }

private:
    friend class csv_reader;

    // Where a field's text lies in text_.
    struct span {
        std::size_t begin = 0;
        std::size_t end = 0;
    };

    void clear(std::size_t line);

    std::string text_;
    std::vector<span> spans_;
    std::size_t line_ = 0;
    bool oversized_ = false;
    bool known_ascii_ = false;
};

struct csv_options {
    char delimiter = ',';
    std::size_t max_record_bytes = 64 * 1024;
};

enum class text_encoding : std::uint8_t { utf8, utf16le, utf16be };

/// Streams RFC 4180 records from a file in fixed-size chunks: LF, CRLF or lone CR end a
/// record, quoted fields may hold delimiters, doubled quotes and line breaks. A UTF-8
/// byte-order mark is skipped; a UTF-16 one (LE or BE) switches to decoding UTF-16 into
/// UTF-8. Not thread-safe; one reader per thread.
class csv_reader {
public:
    /// Opens the file; throws std::system_error naming the path when it cannot be read.
    csv_reader(const std::filesystem::path& path, csv_options options);
    ~csv_reader();
    csv_reader(const csv_reader&) = delete;
    csv_reader& operator=(const csv_reader&) = delete;

    /// Reads the next record into `record`. Returns false at the end of the input.
    /// Throws csv_error for a fault that makes the rest of the file unreadable.
    bool next(csv_record& record);

    /// Bytes of the file read so far, for progress.
    std::size_t bytes_read() const { return bytes_read_; }

    /// The encoding found from the byte-order mark; known once the first record is read.
    text_encoding encoding() const { return encoding_; }

private:
    // Bytes that end a run of plain field text, outside and inside quotes.
    struct stop_bytes {
        std::array<bool, 256> unquoted{};
        std::array<bool, 256> quoted{};
    };

    enum class indexed_read { record, not_plain, window_ended };

    /// Reads a record that is one line ending in LF within the current chunk, its fields
    /// unquoted or quoted without quotes or line breaks inside, as most are, without the state
    /// machine. False, consuming nothing, otherwise.
    bool next_plain(csv_record& record);
    bool next_by_state_machine(csv_record& record);
    indexed_read read_indexed(csv_record& record);
    void index_window(std::size_t from);
    bool refill();
    void read_chunk();
    void consume(std::size_t n) { begin_ += n; }
    std::size_t read_raw();
    std::string_view skip_byte_order_mark(std::string_view raw);
    void append(csv_record& record, std::string_view text);
    void finish_field(csv_record& record);

    int fd_ = -1;
    csv_options options_;
    std::unique_ptr<char[]> raw_;
    std::string decoded_;
    std::optional<utf16_decoder> decoder_;
    text_encoding encoding_ = text_encoding::utf8;
    const char* data_ = nullptr;  // the current chunk: raw_, or decoded_ for UTF-16
    std::size_t begin_ = 0;
    std::size_t end_ = 0;
    std::size_t bytes_read_ = 0;
    std::size_t line_ = 1;
    stop_bytes stops_;
    // The offsets in the chunk of every delimiter, quote, CR and LF in the window
    // [window_begin_, window_end_), in order, then window_end_: found in one pass over the
    // window, so that the plain path walks from field end to field end without looking at
    // bytes again.
    std::unique_ptr<std::uint32_t[]> stops_at_;
    std::size_t next_stop_ = 0;  // the first entry at or after begin_
    std::size_t window_begin_ = 0;
    std::size_t window_end_ = 0;
    bool window_non_ascii_ = false;
    // Off when the delimiter is a quote or a line break, which the plain path cannot tell
    // from the bytes it stands for, or not ASCII, which would spoil the record's text for
    // UTF-8 checks.
    bool plain_path_ = true;
    bool last_was_cr_ = false;
    bool eof_ = false;
    bool first_chunk_ = true;
};

namespace detail {

/// For tests: whether the plain path indexes with the portable SSE2 scan even on a processor
/// with AVX2, so that both scans can be checked on one machine. Not for use while reading.
void use_portable_scan(bool portable);

}  // namespace detail

/// A fault that stops the whole file, with the line where it was found.
class csv_error : public std::runtime_error {
public:
    csv_error(std::size_t line, const std::string& what)
        : std::runtime_error("line " + std::to_string(line) + ": " + what), line_(line) {}
    std::size_t line() const { return line_; }

private:
    std::size_t line_;
};

}  // namespace convex_importd
