#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "convex_importd/csv_reader.hpp"
#include "convex_importd/file_layout.hpp"
#include "convex_importd/user_row.hpp"

namespace convex_importd {

/// Remembers on which line each normalised email first appeared in one file, in memory that
/// does not grow with the number of rows. A first pass notes every email in a Bloom filter
/// and keeps the digests of those the filter had (maybe) seen before: only these can repeat,
/// so only these get a line number in the second pass. The filter is 8 MiB for files up to
/// 256 MiB (about 5 million rows), then grows with the file so that its false positives,
/// which cost memory and never a wrong answer, stay rare. Holds 128-bit digests, not
/// addresses. Not thread-safe.
class first_seen_emails {
public:
    explicit first_seen_emails(std::uintmax_t file_bytes);

    /// First pass: notes an email that the second pass will ask about.
    void note(std::string_view email);

    /// Second pass: the line `email` was first seen on, or `line` when it is new. Every
    /// email asked about must have been noted.
    std::size_t first_line(std::string_view email, std::size_t line);

    /// Emails that may repeat, kept for the second pass (for tests and benchmarks).
    std::size_t candidates() {
        insert_waiting();
        return candidate_count_;
    }

private:
    struct digest {
        std::uint64_t high = 0;
        std::uint64_t low = 0;
        bool operator==(const digest&) const = default;
    };
    // One candidate of the open-addressing table.
    struct slot {
        digest key;
        std::size_t line = 0;  // 0: not seen in pass two yet
        bool used = false;
    };
    struct unmap_filter {
        std::size_t length;
        void operator()(void* base) const;
    };

    static digest digest_of(std::string_view email);
    std::uint64_t* block_of(const digest& d) const;
    bool filter_insert(const digest& d);
    void insert(const digest& d);
    void insert_waiting();
    slot& slot_of(const digest& d);
    void grow_slots();

    // A filter block is a cache miss (and often a TLB miss) away; noted digests wait here,
    // their blocks prefetched, so that several misses are in flight at once.
    static constexpr std::size_t waiting_capacity = 16;

    // Anonymous memory, zero until written: the pages of a small file's filter that no bit
    // lands in stay unmapped.
    std::unique_ptr<void, unmap_filter> mapping_;
    std::uint64_t* filter_ = nullptr;
    std::size_t block_mask_ = 0;  // the filter's 64-byte blocks, minus one
    // The candidates, by open addressing: a power of two in size, at most half full, so a
    // lookup (one per row in pass two) is a mask and a probe or two.
    std::vector<slot> slots_;
    std::size_t candidate_count_ = 0;
    std::array<digest, waiting_capacity> waiting_{};
    std::size_t waiting_count_ = 0;
    std::size_t waiting_oldest_ = 0;
};

/// A file's data records as checked user rows, in file order: blank lines are counted and
/// skipped, a record cut in two by an unquoted line break makes both halves invalid, and a
/// repeated email becomes a `duplicate` row naming the line it was first seen on (the first
/// one wins). The constructor reads the whole file once to note its emails (see
/// first_seen_emails) and count its records, so that a fault in the file's structure throws
/// before the first row; next() then streams it. Not thread-safe.
class row_source {
public:
    /// Asked every few thousand records of the constructor's pass; true ends the pass, and
    /// next() then gives no row.
    using stop_check = std::function<bool()>;

    row_source(const std::filesystem::path& file, const file_layout& layout, const row_rules& rules,
               const stop_check& stopped = {});

    /// The next row; false at the end. Throws csv_error when the file's structure breaks.
    bool next(user_row& row);

    /// The data records (blank lines left out): how many rows next() gives, known from the
    /// start. Those read so far when a stop ended the first pass.
    std::size_t records() const { return record_count_; }

    std::size_t blank_lines() const { return blank_lines_; }
    std::size_t bytes_read() const { return reader_.bytes_read(); }

private:
    static constexpr std::size_t stop_check_interval = 4096;

    void note_emails(const std::filesystem::path& file, const stop_check& stopped);
    bool read_record(csv_record& record);
    void mark_cut_records(user_row& row) const;
    csv_record& current() { return records_[current_]; }
    csv_record& ahead() { return records_[1 - current_]; }
    const csv_record& ahead() const { return records_[1 - current_]; }

    csv_reader reader_;
    // One record of look-ahead: whether the next record is the cut-off rest of this one
    // decides whether this one can be trusted. The two take turns rather than being swapped:
    // moving a record's strings stalled every row.
    std::array<csv_record, 2> records_;
    std::size_t current_ = 0;
    bool started_ = false;
    bool have_ahead_ = false;
    bool current_is_fragment_ = false;
    bool ahead_is_fragment_ = false;
    std::size_t previous_line_ = 0;
    const file_layout& layout_;
    row_rules rules_;
    first_seen_emails seen_;
    std::size_t index_ = 0;
    std::size_t blank_lines_ = 0;
    std::size_t record_count_ = 0;
    bool stopped_ = false;
};

}  // namespace convex_importd
