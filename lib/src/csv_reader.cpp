#include "convex_importd/csv_reader.hpp"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <unistd.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <cstring>
#include <system_error>

namespace convex_importd {

namespace {

constexpr std::size_t chunk_bytes = 1 << 18;
// The plain path indexes a window of the chunk at a time rather than all of it: the entries
// are read back while the window's records are served, and an index of the whole chunk would
// have left the cache by then.
constexpr std::size_t window_bytes = 8 * 1024;
// Ends each field in the text of a record that the state machine reads.
constexpr char unit_separator = '\x1F';
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

// The bits of the bytes among the 64 at `bytes` that may end plain field text: quote, CR, LF
// and the delimiter.
struct stop_mask {
    std::uint64_t stops = 0;
    bool non_ascii = false;  // any byte of the 64 above 0x7F
};

// `delimiters`: the delimiter in each of eight bytes.
stop_mask find_stop_mask(const char* bytes, std::uint64_t delimiters) {
    stop_mask found;
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i cr = _mm_set1_epi8('\r');
    const __m128i lf = _mm_set1_epi8('\n');
    const __m128i other = _mm_set1_epi64x(static_cast<long long>(delimiters));
    __m128i high = _mm_setzero_si128();
    for (int offset = 0; offset < 64; offset += 16) {
        const __m128i chunk = _mm_loadu_si128(reinterpret_cast<const __m128i*>(bytes + offset));
        high = _mm_or_si128(high, chunk);
        const __m128i hits =
            _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(chunk, quote), _mm_cmpeq_epi8(chunk, other)),
                         _mm_or_si128(_mm_cmpeq_epi8(chunk, cr), _mm_cmpeq_epi8(chunk, lf)));
        const auto bits = static_cast<unsigned>(_mm_movemask_epi8(hits));
        found.stops |= static_cast<std::uint64_t>(bits) << offset;
    }
    found.non_ascii = _mm_movemask_epi8(high) != 0;
#else
    for (int i = 0; i < 64; ++i) {
        const char c = bytes[i];
        const bool stop = c == '"' || c == '\r' || c == '\n' || c == static_cast<char>(delimiters);
        found.stops |= stop ? std::uint64_t{1} << i : 0;
        found.non_ascii = found.non_ascii || static_cast<unsigned char>(c) >= 0x80;
    }
#endif
    return found;
}

// std::popcount without a call: x86-64 as built has no popcnt instruction, and libgcc's
// function cost a call per block.
int count_bits(std::uint64_t bits) {
    bits -= (bits >> 1) & 0x5555555555555555ULL;
    bits = (bits & 0x3333333333333333ULL) + ((bits >> 2) & 0x3333333333333333ULL);
    bits = (bits + (bits >> 4)) & 0x0F0F0F0F0F0F0F0FULL;
    return static_cast<int>((bits * 0x0101010101010101ULL) >> 56);
}

// Writes `base` plus the position of each of the `count` set bits of `bits`, in order, and
// returns the end of what it wrote. Four at a time without a test per bit: the bits of the
// field ends fall differently in every block, so a loop that stopped at the last one
// mispredicted about once per block. Up to three entries past the end are written and left
// as garbage.
std::uint32_t* append_offsets(std::uint32_t* out, std::size_t base, std::uint64_t bits, int count) {
    std::uint32_t* const end = out + count;
    const auto at = static_cast<std::uint32_t>(base);
    while (out < end) {
        for (int i = 0; i < 4; ++i) {
            out[i] = at + static_cast<std::uint32_t>(std::countr_zero(bits));
            bits &= bits - 1;
        }
        out += 4;
    }
    return end;
}

// The 64 bytes at `offset`, or, when the chunk (of `size` bytes) ends within them, a copy of
// its last bytes padded with zeros in `padded`.
const char* block_at(const char* data, std::size_t offset, std::size_t size, char (&padded)[64]) {
    if (offset + 64 <= size) {
        return data + offset;
    }
    std::memset(padded, 0, sizeof padded);
    std::memcpy(padded, data + offset, size - offset);
    return padded;
}

// The bits of a block's bytes before `end`.
std::uint64_t bits_before(std::size_t offset, std::size_t end) {
    return end - offset >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << (end - offset)) - 1;
}

// What indexing a window found: where its entries end, and whether it may hold bytes that are
// not ASCII.
struct window_scan {
    std::uint32_t* end = nullptr;
    bool non_ascii = false;
};

// The stops of data[from, end) in `out`; the chunk holds `size` bytes.
window_scan scan_window(const char* data, std::size_t from, std::size_t end, std::size_t size,
                        std::uint64_t delimiters, std::uint32_t* out) {
    window_scan scanned{out, false};
    for (std::size_t offset = from; offset < end; offset += 64) {
        char padded[64];
        const stop_mask found = find_stop_mask(block_at(data, offset, size, padded), delimiters);
        const std::uint64_t stops = found.stops & bits_before(offset, end);
        scanned.end = append_offsets(scanned.end, offset, stops, count_bits(stops));
        scanned.non_ascii = scanned.non_ascii || found.non_ascii;
    }
    return scanned;
}

#if defined(__x86_64__) && defined(__GNUC__)
#define CONVEX_IMPORTD_WIDE_SCAN 1

// The bits of the quotes, CRs, LFs and delimiters among 32 bytes.
[[gnu::target("avx2")]] std::uint64_t stops_in_avx2(__m256i bytes, __m256i delimiter) {
    const __m256i hits =
        _mm256_or_si256(_mm256_or_si256(_mm256_cmpeq_epi8(bytes, _mm256_set1_epi8('"')),
                                        _mm256_cmpeq_epi8(bytes, delimiter)),
                        _mm256_or_si256(_mm256_cmpeq_epi8(bytes, _mm256_set1_epi8('\r')),
                                        _mm256_cmpeq_epi8(bytes, _mm256_set1_epi8('\n'))));
    return static_cast<std::uint32_t>(_mm256_movemask_epi8(hits));
}

// find_stop_mask in two 32-byte steps, for processors with AVX2.
[[gnu::target("avx2")]] stop_mask find_stop_mask_avx2(const char* bytes, std::uint64_t delimiters) {
    const __m256i delimiter = _mm256_set1_epi64x(static_cast<long long>(delimiters));
    const __m256i low = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bytes));
    const __m256i high = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bytes + 32));
    stop_mask found;
    found.stops = stops_in_avx2(low, delimiter) | stops_in_avx2(high, delimiter) << 32;
    found.non_ascii = _mm256_movemask_epi8(_mm256_or_si256(low, high)) != 0;
    return found;
}

// scan_window with AVX2, and with the bit count and trailing-zero count in one instruction
// each: indexing was an eighth of the reading time.
[[gnu::target("avx2,bmi,popcnt")]] window_scan scan_window_avx2(const char* data, std::size_t from,
                                                                std::size_t end, std::size_t size,
                                                                std::uint64_t delimiters,
                                                                std::uint32_t* out) {
    window_scan scanned{out, false};
    for (std::size_t offset = from; offset < end; offset += 64) {
        char padded[64];
        const stop_mask found =
            find_stop_mask_avx2(block_at(data, offset, size, padded), delimiters);
        const std::uint64_t stops = found.stops & bits_before(offset, end);
        scanned.end = append_offsets(scanned.end, offset, stops, __builtin_popcountll(stops));
        scanned.non_ascii = scanned.non_ascii || found.non_ascii;
    }
    return scanned;
}

bool portable_scan_forced = false;

bool has_avx2() {
    static const bool found = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi") &&
                              __builtin_cpu_supports("popcnt");
    return found && !portable_scan_forced;
}
#endif

bool all_ascii(std::string_view text) {
    unsigned char seen = 0;
    for (const char c : text) {
        seen |= static_cast<unsigned char>(c);
    }
    return seen < 0x80;
}

// The whole capacity: the text is reused record after record (or chunk after chunk), so a
// shorter one leaves the tail of a longer one, passwords included, behind its size().
void cleanse_capacity(std::string& text) {
    text.resize(text.capacity());
    OPENSSL_cleanse(text.data(), text.size());
}

// Makes room for `size` bytes of a record's text. A std::string that grows by itself gives
// its old buffer back as it is, earlier records' passwords in it; grown here, the old buffer
// is wiped first.
void make_room(std::string& text, std::size_t size) {
    if (size <= text.capacity()) {
        return;
    }
    std::string grown;
    grown.reserve(std::max(size, 2 * text.capacity()));
    grown.append(text);
    cleanse_capacity(text);
    text.swap(grown);
}

}  // namespace

csv_record::~csv_record() {
    cleanse_capacity(text_);
}

void csv_record::clear(std::size_t line) {
    text_.clear();
    spans_.clear();
    known_ascii_ = false;
    line_ = line;
    oversized_ = false;
}

csv_reader::csv_reader(const std::filesystem::path& path, csv_options options)
    : options_(options),
      raw_(new char[chunk_bytes]),
      // Room for the four entries past the end that append_offsets may write.
      stops_at_(new std::uint32_t[window_bytes + 8]) {
    for (unsigned char c : {'\r', '\n', '"'}) {
        stops_.unquoted[c] = true;
        stops_.quoted[c] = true;
    }
    stops_.unquoted[static_cast<unsigned char>(options_.delimiter)] = true;
    const auto delimiter = static_cast<unsigned char>(options_.delimiter);
    plain_path_ = delimiter < 0x80 && delimiter != '"' && delimiter != '\r' && delimiter != '\n';

    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) {
        throw std::system_error(errno, std::generic_category(), "open " + path.string());
    }
    ::posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
}

csv_reader::~csv_reader() {
    // The buffers held the file's text, passwords included.
    OPENSSL_cleanse(raw_.get(), chunk_bytes);
    cleanse_capacity(decoded_);
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
    window_begin_ = 0;
    window_end_ = 0;  // the index is of the chunk before
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
    make_room(record.text_, record.text_.size() + text.size());
    record.text_.append(text);
}

// Each field counts one byte towards the size limit besides its text, so that a line of
// millions of delimiters cannot grow the field list without bound: the unit separator that
// ends it in the text.
void csv_reader::finish_field(csv_record& record) {
    if (record.text_.size() >= options_.max_record_bytes) {
        record.oversized_ = true;
        return;
    }
    const std::size_t begin = record.spans_.empty() ? 0 : record.spans_.back().end + 1;
    record.spans_.push_back({begin, record.text_.size()});
    make_room(record.text_, record.text_.size() + 1);
    record.text_.push_back(unit_separator);
}

void detail::use_portable_scan([[maybe_unused]] bool portable) {
#if defined(CONVEX_IMPORTD_WIDE_SCAN)
    portable_scan_forced = portable;
#endif
}

void csv_reader::index_window(std::size_t from) {
    const std::size_t end = std::min(end_, from + window_bytes);
    const std::uint64_t delimiters =
        0x0101010101010101ULL * static_cast<unsigned char>(options_.delimiter);
#if defined(CONVEX_IMPORTD_WIDE_SCAN)
    const window_scan scanned =
        has_avx2() ? scan_window_avx2(data_, from, end, end_, delimiters, stops_at_.get())
                   : scan_window(data_, from, end, end_, delimiters, stops_at_.get());
#else
    const window_scan scanned = scan_window(data_, from, end, end_, delimiters, stops_at_.get());
#endif
    *scanned.end = static_cast<std::uint32_t>(end);
    next_stop_ = 0;
    window_begin_ = from;
    window_end_ = end;
    window_non_ascii_ = scanned.non_ascii;
}

// Each field is unquoted text, or quoted text without quotes or line breaks inside, and ends
// in the delimiter or the LF; anything else (a CR, a doubled quote, a stray quote) leaves the
// record to the state machine, and so does the end of the window (the caller may index one
// that holds the record).
csv_reader::indexed_read csv_reader::read_indexed(csv_record& record) {
    const char* data = data_;
    const std::size_t window_end = window_end_;
    const auto delimiter = options_.delimiter;
    const std::uint32_t* stop = stops_at_.get() + next_stop_;
    std::size_t from = begin_;
    std::size_t quoted_fields = 0;
    for (;;) {
        std::size_t at = *stop;
        if (at >= window_end) {
            return indexed_read::window_ended;
        }
        std::size_t first = from;
        std::size_t last = at;
        char c = data[at];
        if (c == '"') {
            if (at != from) {
                return indexed_read::not_plain;  // a stray quote inside unquoted text
            }
            do {
                ++stop;
            } while (*stop < window_end && data[*stop] == delimiter);
            last = *stop;
            if (last >= window_end) {
                return indexed_read::window_ended;
            }
            if (data[last] != '"') {
                return indexed_read::not_plain;  // a line break inside the quotes
            }
            first = from + 1;
            ++quoted_fields;
            at = *++stop;
            if (at >= window_end) {
                return indexed_read::window_ended;
            }
            if (at != last + 1) {
                return indexed_read::not_plain;  // text after the closing quote
            }
            c = data[at];
        }
        if (c != delimiter && c != '\n') {
            return indexed_read::not_plain;  // a CR, or a doubled quote
        }
        record.spans_.push_back({first - begin_, last - begin_});
        from = at + 1;
        ++stop;
        if (c != '\n') {
            continue;
        }

        // The state machine counts a byte per field besides the text towards the size limit,
        // and marks a record that reaches it; only it does. That is the line's length less
        // the quotes around fields.
        if (at - begin_ - 2 * quoted_fields >= options_.max_record_bytes) {
            return indexed_read::not_plain;
        }
        // Appended to the cleared text rather than assigned: assign() checks whether the
        // source overlaps the string, on every record.
        make_room(record.text_, at - begin_);
        record.text_.append(data + begin_, at - begin_);
        record.known_ascii_ = !window_non_ascii_ || all_ascii(record.text_);
        next_stop_ = static_cast<std::size_t>(stop - stops_at_.get());
        consume(from - begin_);
        ++line_;
        return indexed_read::record;
    }
}

bool csv_reader::next_plain(csv_record& record) {
    if (!plain_path_ || last_was_cr_ || begin_ == end_) {
        return false;  // after a CR, the LF of a CRLF may come first
    }
    if (begin_ < window_begin_ || begin_ >= window_end_) {
        index_window(begin_);
    }
    while (stops_at_[next_stop_] < begin_) {
        ++next_stop_;  // past what the state machine read; the last entry ends the walk
    }
    for (;;) {
        const indexed_read outcome = read_indexed(record);
        if (outcome == indexed_read::record) {
            return true;
        }
        record.clear(line_);
        if (outcome == indexed_read::not_plain || window_begin_ == begin_ || window_end_ == end_) {
            return false;
        }
        // A record that starts near the window's end: a window from its start holds it, unless
        // it is longer than a window or crosses the chunk's end.
        index_window(begin_);
    }
}

bool csv_reader::next(csv_record& record) {
    record.clear(line_);
    return next_plain(record) || next_by_state_machine(record);
}

// Apart from next(): in one function, the state machine's registers were saved and restored
// on every call, though the plain path reads nearly every record.
bool csv_reader::next_by_state_machine(csv_record& record) {
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
