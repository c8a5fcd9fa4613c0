#include "convex_importd/csv_reader.hpp"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <unistd.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <array>
#include <cerrno>
#include <cstring>
#include <system_error>

namespace convex_importd {

namespace {

constexpr std::size_t chunk_bytes = 1 << 18;
constexpr std::string_view utf8_bom = "\xEF\xBB\xBF";
constexpr std::string_view utf16le_bom = "\xFF\xFE";
constexpr std::string_view utf16be_bom = "\xFE\xFF";

enum class scan_state { field_start, unquoted, quoted, quote_seen };

// The length of the run of plain text at `first`: the bytes before the first one that `stop`
// marks. `extra` must be one of the marked bytes besides quote, CR and LF (the delimiter, or
// the quote again inside quotes). Fields are short, so a byte loop spent most of the reading
// time here; SSE2 (always there on x86-64) looks at 16 bytes per step.
std::size_t run_length(const char* first, const char* last, char extra,
                       const std::array<bool, 256>& stop) {
    const char* p = first;
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i cr = _mm_set1_epi8('\r');
    const __m128i lf = _mm_set1_epi8('\n');
    const __m128i other = _mm_set1_epi8(extra);
    for (; last - p >= 16; p += 16) {
        const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
        const __m128i hits =
            _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(bytes, quote), _mm_cmpeq_epi8(bytes, other)),
                         _mm_or_si128(_mm_cmpeq_epi8(bytes, cr), _mm_cmpeq_epi8(bytes, lf)));
        if (const int mask = _mm_movemask_epi8(hits); mask != 0) {
            return static_cast<std::size_t>(p - first) + static_cast<unsigned>(__builtin_ctz(mask));
        }
    }
#else
    (void)extra;
#endif
    while (p != last && !stop[static_cast<unsigned char>(*p)]) {
        ++p;
    }
    return static_cast<std::size_t>(p - first);
}

}  // namespace

std::string_view csv_record::field(std::size_t index) const {
    const std::size_t begin = index == 0 ? 0 : ends_[index - 1];
    return std::string_view(text_).substr(begin, ends_[index] - begin);
}

csv_record::~csv_record() {
    OPENSSL_cleanse(text_.data(), text_.size());
}

void csv_record::clear(std::size_t line) {
    text_.clear();
    ends_.clear();
    line_ = line;
    oversized_ = false;
}

csv_reader::csv_reader(const std::filesystem::path& path, csv_options options)
    : options_(options), raw_(new char[chunk_bytes]) {
    for (unsigned char c : {'\r', '\n', '"'}) {
        stops_.unquoted[c] = true;
        stops_.quoted[c] = true;
    }
    stops_.unquoted[static_cast<unsigned char>(options_.delimiter)] = true;

    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) {
        throw std::system_error(errno, std::generic_category(), "open " + path.string());
    }
    ::posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
}

csv_reader::~csv_reader() {
    // The buffers held the file's text, passwords included.
    OPENSSL_cleanse(raw_.get(), chunk_bytes);
    OPENSSL_cleanse(decoded_.data(), decoded_.size());
    if (fd_ >= 0) {
        ::close(fd_);
    }
}

bool csv_reader::refill() {
    while (!eof_ && begin_ == end_) {
        read_chunk();
    }
    return begin_ != end_;
}

std::size_t csv_reader::read_raw() {
    ssize_t n = 0;
    do {
        n = ::read(fd_, raw_.get(), chunk_bytes);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        throw std::system_error(errno, std::generic_category(), "read");
    }
    bytes_read_ += static_cast<std::size_t>(n);
    return static_cast<std::size_t>(n);
}

std::string_view csv_reader::skip_byte_order_mark(std::string_view raw) {
    if (raw.starts_with(utf8_bom)) {
        return raw.substr(utf8_bom.size());
    }
    if (raw.starts_with(utf16le_bom) || raw.starts_with(utf16be_bom)) {
        const bool little = raw.starts_with(utf16le_bom);
        encoding_ = little ? text_encoding::utf16le : text_encoding::utf16be;
        decoder_.emplace(little ? byte_order::little_endian : byte_order::big_endian);
        decoded_.reserve(chunk_bytes * 3 / 2);
        return raw.substr(utf16le_bom.size());
    }
    return raw;
}

void csv_reader::read_chunk() {
    const std::size_t n = read_raw();
    eof_ = n == 0;
    std::string_view raw(raw_.get(), n);
    if (first_chunk_) {
        first_chunk_ = false;
        raw = skip_byte_order_mark(raw);
    }

    if (!decoder_) {
        data_ = raw.data();
        begin_ = 0;
        end_ = raw.size();
        return;
    }
    decoded_.clear();
    decoder_->decode(raw, decoded_);
    if (eof_) {
        decoder_->finish(decoded_);
    }
    data_ = decoded_.data();
    begin_ = 0;
    end_ = decoded_.size();
}

void csv_reader::append(csv_record& record, std::string_view text) {
    const std::size_t room =
        options_.max_record_bytes - std::min(options_.max_record_bytes, record.text_.size());
    if (text.size() > room) {
        record.oversized_ = true;
        text = text.substr(0, room);
    }
    record.text_.append(text);
}

// Each field counts one byte towards the size limit besides its text, so that a line of
// millions of delimiters cannot grow the field list without bound.
void csv_reader::finish_field(csv_record& record) {
    if (record.text_.size() + record.ends_.size() >= options_.max_record_bytes) {
        record.oversized_ = true;
        return;
    }
    record.ends_.push_back(record.text_.size());
}

bool csv_reader::next_plain(csv_record& record) {
    if (last_was_cr_) {
        return false;  // the LF of a CRLF may come first
    }
    const char* const first = data_ + begin_;
    const char* const last = data_ + end_;
    const char* field = first;
    for (;;) {
        const char* stop = field + run_length(field, last, options_.delimiter, stops_.unquoted);
        if (stop == last || (*stop != options_.delimiter && *stop != '\n')) {
            record.clear(line_);  // a quote, a CR, or the end of the chunk
            return false;
        }
        record.text_.append(field, stop);
        finish_field(record);
        field = stop + 1;
        if (*stop == '\n') {
            break;
        }
    }
    if (record.text_.size() + record.ends_.size() > options_.max_record_bytes) {
        record.clear(line_);
        return false;
    }
    consume(static_cast<std::size_t>(field - first));
    ++line_;
    return true;
}

bool csv_reader::next(csv_record& record) {
    record.clear(line_);
    if (next_plain(record)) {
        return true;
    }
    auto state = scan_state::field_start;
    std::size_t quote_line = 0;
    bool started = false;

    for (;;) {
        if (begin_ == end_ && !refill()) {
            if (state == scan_state::quoted) {
                throw csv_error(quote_line, "unterminated quoted field (the quote opens on line " +
                                                std::to_string(quote_line) + ")");
            }
            if (!started) {
                return false;
            }
            finish_field(record);
            return true;
        }

        const char* data = data_;
        const char c = data[begin_];

        if (state == scan_state::unquoted || state == scan_state::quoted) {
            const bool quoted = state == scan_state::quoted;
            const std::size_t n =
                run_length(data + begin_, data + end_, quoted ? '"' : options_.delimiter,
                           quoted ? stops_.quoted : stops_.unquoted);
            if (n > 0) {
                append(record, std::string_view(data + begin_, n));
                consume(n);
                last_was_cr_ = false;
                continue;
            }
        }

        consume(1);
        const bool after_cr = last_was_cr_;
        last_was_cr_ = c == '\r';
        const bool line_break = c == '\r' || (c == '\n' && !after_cr);
        if (line_break) {
            ++line_;
        }

        switch (state) {
            case scan_state::field_start:
                if (c == '\n' && after_cr && !started) {
                    record.line_ = line_;  // the LF of a CRLF that ended the previous record
                    continue;
                }
                started = true;
                if (c == '"') {
                    state = scan_state::quoted;
                    quote_line = line_;
                } else if (c == options_.delimiter) {
                    finish_field(record);
                } else if (c == '\r' || c == '\n') {
                    finish_field(record);
                    return true;
                } else {
                    append(record, std::string_view(&c, 1));
                    state = scan_state::unquoted;
                }
                break;

            case scan_state::unquoted:
                if (c == options_.delimiter) {
                    finish_field(record);
                    state = scan_state::field_start;
                } else if (c == '\r' || c == '\n') {
                    finish_field(record);
                    return true;
                } else {
                    append(record, std::string_view(&c, 1));  // a stray quote is kept as text
                }
                break;

            case scan_state::quoted:
                if (c == '"') {
                    state = scan_state::quote_seen;
                } else {
                    append(record, std::string_view(&c, 1));  // a line break inside quotes
                }
                break;

            case scan_state::quote_seen:
                if (c == '"') {
                    append(record, "\"");
                    state = scan_state::quoted;
                } else if (c == options_.delimiter) {
                    finish_field(record);
                    state = scan_state::field_start;
                } else if (c == '\r' || c == '\n') {
                    finish_field(record);
                    return true;
                } else if (c == ' ' || c == '\t') {
                    // Hand-written files pad after the closing quote: `"a@x.io" , "pw"`.
                } else {
                    // A quote that opened by mistake may have swallowed other users' lines,
                    // so no row of this file can be trusted to be where it seems.
                    throw csv_error(line_,
                                    "text after the closing quote of a field that "
                                    "opens on line " +
                                        std::to_string(quote_line) +
                                        "; quote the whole field and double the quotes "
                                        "inside it");
                }
                break;
        }
    }
}

}  // namespace convex_importd
