#include "convex_importd/row_source.hpp"

#include <simdjson.h>
#include <sys/mman.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <new>
#include <optional>
#include <string>

namespace convex_importd {

namespace {

constexpr std::size_t huge_page_bytes = 2 << 20;
constexpr std::size_t first_slot_count = 1024;

std::uint64_t load_word(const char* bytes) {
    std::uint64_t word = 0;
    std::memcpy(&word, bytes, 8);
    return word;
}

// The bytes after the last whole word: the last eight bytes, overlapping that word, when
// there are eight; a variable-length copy would call memcpy on every email.
std::uint64_t tail_word(std::string_view text) {
    if (text.size() >= 8) {
        return load_word(text.data() + text.size() - 8);
    }
    std::uint64_t word = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        word |= std::uint64_t{static_cast<unsigned char>(text[i])} << (8 * i);
    }
    return word;
}

std::uint64_t mix(std::uint64_t h, std::uint64_t multiplier) {
    h ^= h >> 29;
    h *= multiplier;
    return h ^ (h >> 32);
}

}  // namespace

// Two 64-bit hashes side by side, from one pass over the email's words, each with its own
// seed, steps and multipliers: a false duplicate would need both to collide. Not keyed:
// whoever writes the file already decides which rows it holds.
first_seen_emails::digest first_seen_emails::digest_of(std::string_view email) {
    std::uint64_t high = 0x9E3779B97F4A7C15ULL ^ email.size();
    std::uint64_t low = 0xC2B2AE3D27D4EB4FULL + email.size();
    std::size_t i = 0;
    for (; i + 8 <= email.size(); i += 8) {
        const std::uint64_t word = load_word(email.data() + i);
        high = std::rotl((high ^ word) * 0xBF58476D1CE4E5B9ULL, 31);
        low = std::rotl((low + word) * 0x9FB21C651E98DF25ULL, 27) ^ (low >> 33);
    }
    const std::uint64_t tail = tail_word(email);
    high = mix((high ^ tail) * 0x94D049BB133111EBULL, 0xBF58476D1CE4E5B9ULL);
    low = mix((low + tail) * 0xD6E8FEB86659FD93ULL, 0x94D049BB133111EBULL);
    return {high, low};
}

void first_seen_emails::unmap_filter::operator()(void* base) const {
    ::munmap(base, length);
}

first_seen_emails::first_seen_emails(std::uintmax_t file_bytes) : slots_(first_slot_count) {
    constexpr std::uintmax_t least = 8 << 20;
    constexpr std::uintmax_t most = 256 << 20;
    const std::uintmax_t wanted = std::clamp(file_bytes / 32, least, most);
    const std::size_t bytes = std::bit_ceil(static_cast<std::size_t>(wanted));

    // Mapped with room to start on a huge-page boundary.
    const std::size_t length = bytes + huge_page_bytes;
    void* base =
        ::mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) {
        throw std::bad_alloc();
    }
    mapping_ = std::unique_ptr<void, unmap_filter>(base, unmap_filter{length});
    const auto start = reinterpret_cast<std::uintptr_t>(base);
    filter_ =
        reinterpret_cast<std::uint64_t*>((start + huge_page_bytes - 1) & ~(huge_page_bytes - 1));

    // A file this large lands bits on every page of its filter, and with 4 KiB pages most
    // lookups missed the TLB as well as the cache. Only a hint: without it the filter works.
    if (file_bytes >= bytes) {
        ::madvise(filter_, bytes, MADV_HUGEPAGE);
    }
    block_mask_ = bytes / 64 - 1;
}

std::uint64_t* first_seen_emails::block_of(const digest& d) const {
    return filter_ + 8 * ((d.high ^ (d.high >> 31)) & block_mask_);
}

// A blocked Bloom filter: the six bits of an email lie in one 64-byte block, so a lookup
// costs one cache miss rather than six. True when all six were set already.
bool first_seen_emails::filter_insert(const digest& d) {
    std::uint64_t* block = block_of(d);
    std::uint64_t bits = d.low;
    bool present = true;
    for (int i = 0; i < 6; ++i, bits >>= 9) {
        const std::uint64_t mask = std::uint64_t{1} << (bits & 63);
        std::uint64_t& word = block[(bits >> 6) & 7];
        present = present && (word & mask) != 0;
        word |= mask;
    }
    return present;
}

first_seen_emails::slot& first_seen_emails::slot_of(const digest& d) {
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t i = d.low & mask;; i = (i + 1) & mask) {
        if (!slots_[i].used || slots_[i].key == d) {
            return slots_[i];
        }
    }
}

void first_seen_emails::grow_slots() {
    std::vector<slot> old(slots_.size() * 2);
    old.swap(slots_);
    for (const slot& candidate : old) {
        if (candidate.used) {
            slot_of(candidate.key) = candidate;
        }
    }
}

void first_seen_emails::insert(const digest& d) {
    if (!filter_insert(d)) {
        return;
    }
    slot& candidate = slot_of(d);
    if (candidate.used) {
        return;
    }
    candidate = {d, 0, true};
    if (++candidate_count_ * 2 > slots_.size()) {
        grow_slots();
    }
}

// Waiting digests go into the filter in the order they were noted, so the result is the
// same as inserting each at once.
void first_seen_emails::insert_waiting() {
    for (; waiting_count_ > 0; --waiting_count_) {
        insert(waiting_[waiting_oldest_]);
        waiting_oldest_ = (waiting_oldest_ + 1) % waiting_capacity;
    }
}

void first_seen_emails::note(std::string_view email) {
    const digest d = digest_of(email);
    __builtin_prefetch(block_of(d), 1);
    if (waiting_count_ < waiting_capacity) {
        waiting_[(waiting_oldest_ + waiting_count_++) % waiting_capacity] = d;
        return;
    }
    insert(waiting_[waiting_oldest_]);
    waiting_[waiting_oldest_] = d;
    waiting_oldest_ = (waiting_oldest_ + 1) % waiting_capacity;
}

std::size_t first_seen_emails::first_line(std::string_view email, std::size_t line) {
    insert_waiting();
    slot& found = slot_of(digest_of(email));
    if (!found.used) {
        return line;  // the filter saw it once: it cannot repeat
    }
    if (found.line == 0) {
        found.line = line;
    }
    return found.line;
}

namespace {

// Whether the record has an email that may be sent, normalised into `email` (its storage
// reused from row to row): a superset of the rows that make_user_row accepts, with the same
// normalisation, at a fraction of the cost.
bool candidate_email(const csv_record& record, const file_layout& layout, const row_rules& rules,
                     std::string& email) {
    if (record.size() <= layout.columns.email) {
        return false;
    }
    const std::string_view text = record.field(layout.columns.email);
    const bool ascii = record.known_ascii() || is_ascii(text);
    if (!ascii && !simdjson::validate_utf8(text.data(), text.size())) {
        return false;
    }
    return !normalise_email(text, rules.letter_case, email);
}

}  // namespace

row_source::row_source(const std::filesystem::path& file, const file_layout& layout,
                       const row_rules& rules, const stop_check& stopped)
    : reader_(file, layout.csv),
      layout_(layout),
      rules_(rules),
      seen_(std::filesystem::file_size(file)) {
    note_emails(file, stopped);
    blank_lines_ = skip_to_data(reader_, layout_);
}

// The first pass: every email that the second pass may look up, and the number of records.
void row_source::note_emails(const std::filesystem::path& file, const stop_check& stopped) {
    csv_reader reader(file, layout_.csv);
    skip_to_data(reader, layout_);
    csv_record record;
    std::string email;
    while (reader.next(record)) {
        if (record.blank()) {
            continue;
        }
        ++record_count_;
        if (candidate_email(record, layout_, rules_, email)) {
            seen_.note(email);
        }
        // A stop must not wait for the pass over a large file to end.
        if (record_count_ % stop_check_interval == 0 && stopped && stopped()) {
            stopped_ = true;
            return;
        }
    }
}

bool row_source::read_record(csv_record& record) {
    while (reader_.next(record)) {
        if (!record.blank()) {
            return true;
        }
        ++blank_lines_;
    }
    return false;
}

// Both halves of a cut record are invalid: the first would sign up a truncated password,
// the second holds its rest where the email should be. A half that is already invalid and
// shows nothing keeps its own reason.
void row_source::mark_cut_records(user_row& row) const {
    if (!current_is_fragment_ && !ahead_is_fragment_) {
        return;  // nearly every row: nothing was cut
    }
    const bool short_row = row.detail.find(" fields, expected ") != std::string::npos;
    if (row.verdict == outcome::invalid && row.email.empty() && short_row) {
        return;  // "2 fields, expected 3" already says what is wrong
    }
    if (current_is_fragment_) {
        mark_broken_record(row, "looks like the rest of line " + std::to_string(previous_line_) +
                                    ", cut by a line break that is not quoted");
    } else if (ahead_is_fragment_) {
        mark_broken_record(row, "cut by a line break that is not quoted: line " +
                                    std::to_string(ahead().line()) + " looks like its rest");
    }
}

bool row_source::next(user_row& row) {
    if (stopped_) {
        return false;  // the first pass did not see every email
    }
    if (!started_) {
        started_ = true;
        have_ahead_ = read_record(ahead());
    }
    if (!have_ahead_) {
        return false;
    }

    current_ = 1 - current_;
    current_is_fragment_ = ahead_is_fragment_;
    have_ahead_ = read_record(ahead());
    ahead_is_fragment_ = have_ahead_ && looks_like_fragment(ahead(), layout_.columns, rules_);

    fill_user_row(row, current(), layout_.columns, index_++, rules_);
    mark_cut_records(row);
    previous_line_ = current().line();
    if (row.verdict || row.email.empty()) {
        return true;
    }

    const std::size_t first = seen_.first_line(row.email, row.line);
    if (first != row.line) {
        row.verdict = outcome::duplicate;
        row.detail = "first seen on line " + std::to_string(first);
        row.password.wipe();
    }
    return true;
}

}  // namespace convex_importd
