#include "convex_importd/row_source.hpp"

#include <simdjson.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <functional>
#include <new>
#include <optional>
#include <string>

namespace convex_importd {

namespace {

// Eight bytes per step, each word folded in with a multiply and a rotate, then a final mix.
std::uint64_t word_hash(std::string_view text) {
    std::uint64_t h = 0x9E3779B97F4A7C15ULL ^ text.size();
    std::size_t i = 0;
    for (; i + 8 <= text.size(); i += 8) {
        std::uint64_t word = 0;
        std::memcpy(&word, text.data() + i, 8);
        h = std::rotl((h ^ word) * 0xBF58476D1CE4E5B9ULL, 31);
    }
    std::uint64_t tail = 0;
    std::memcpy(&tail, text.data() + i, text.size() - i);
    h = (h ^ tail) * 0x94D049BB133111EBULL;
    h ^= h >> 29;
    h *= 0xBF58476D1CE4E5B9ULL;
    return h ^ (h >> 32);
}

}  // namespace

// Two unrelated 64-bit hashes side by side: a false duplicate would need both to collide.
// Not keyed: whoever writes the file already decides which rows it holds.
first_seen_emails::digest first_seen_emails::digest_of(std::string_view email) {
    return {word_hash(email), std::hash<std::string_view>{}(email)};
}

first_seen_emails::first_seen_emails(std::uintmax_t file_bytes) {
    constexpr std::uintmax_t least = 8 << 20;
    constexpr std::uintmax_t most = 256 << 20;
    const std::uintmax_t wanted = std::clamp(file_bytes / 32, least, most);
    const std::size_t bytes = std::bit_ceil(static_cast<std::size_t>(wanted));
    filter_.reset(static_cast<std::uint64_t*>(std::calloc(bytes / 8, 8)));
    if (!filter_) {
        throw std::bad_alloc();
    }
    block_mask_ = bytes / 64 - 1;
}

std::uint64_t* first_seen_emails::block_of(const digest& d) const {
    return filter_.get() + 8 * ((d.high ^ (d.high >> 31)) & block_mask_);
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

void first_seen_emails::insert(const digest& d) {
    if (filter_insert(d)) {
        lines_.try_emplace(d, 0);
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
    const auto found = lines_.find(digest_of(email));
    if (found == lines_.end()) {
        return line;  // the filter saw it once: it cannot repeat
    }
    if (found->second == 0) {
        found->second = line;
    }
    return found->second;
}

namespace {

// The email a record would be sent with, when it has one that may be: a superset of the
// rows that make_user_row accepts, with the same normalisation, at a fraction of the cost.
std::optional<std::string> candidate_email(const csv_record& record, const file_layout& layout,
                                           const row_rules& rules) {
    if (record.size() <= layout.columns.email) {
        return std::nullopt;
    }
    const std::string_view text = record.field(layout.columns.email);
    if (!is_ascii(text) && !simdjson::validate_utf8(text.data(), text.size())) {
        return std::nullopt;
    }
    email_check checked = normalise_email(text, rules.letter_case);
    if (checked.problem) {
        return std::nullopt;
    }
    return std::move(checked.email);
}

// The first pass: every email that the second pass may look up.
first_seen_emails note_emails(const std::filesystem::path& file, const file_layout& layout,
                              const row_rules& rules) {
    first_seen_emails seen(std::filesystem::file_size(file));
    csv_reader reader(file, layout.csv);
    skip_to_data(reader, layout);
    csv_record record;
    while (reader.next(record)) {
        if (record.blank()) {
            continue;
        }
        if (const auto email = candidate_email(record, layout, rules)) {
            seen.note(*email);
        }
    }
    return seen;
}

}  // namespace

row_source::row_source(const std::filesystem::path& file, const file_layout& layout,
                       const row_rules& rules)
    : reader_(file, layout.csv),
      layout_(layout),
      rules_(rules),
      seen_(note_emails(file, layout, rules)) {
    blank_lines_ = skip_to_data(reader_, layout_);
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
    const bool short_row = row.detail.find(" fields, expected ") != std::string::npos;
    if (row.verdict == outcome::invalid && row.email.empty() && short_row) {
        return;  // "2 fields, expected 3" already says what is wrong
    }
    if (current_is_fragment_) {
        mark_broken_record(row, "looks like the rest of line " + std::to_string(previous_line_) +
                                    ", cut by a line break that is not quoted");
    } else if (ahead_is_fragment_) {
        mark_broken_record(row, "cut by a line break that is not quoted: line " +
                                    std::to_string(ahead_.line()) + " looks like its rest");
    }
}

bool row_source::next(user_row& row) {
    if (!started_) {
        started_ = true;
        have_ahead_ = read_record(ahead_);
    }
    if (!have_ahead_) {
        return false;
    }

    std::swap(current_, ahead_);
    current_is_fragment_ = ahead_is_fragment_;
    have_ahead_ = read_record(ahead_);
    ahead_is_fragment_ = have_ahead_ && looks_like_fragment(ahead_, layout_.columns, rules_);

    fill_user_row(row, current_, layout_.columns, index_++, rules_);
    mark_cut_records(row);
    previous_line_ = current_.line();
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
