// read-rows: the import's reading path with no network, timed.
//
// usage: read-rows FILE [--duplicates]
//
// Every record goes through the same checks as in an import (record structure, UTF-8, email
// normalisation, password length, the test for the rest of a record cut by a line break) and
// is filled into one reused user_row, as row_source does. Without --duplicates the rows skip
// the duplicate-email set, whose memory grows with the file (about 50 bytes per distinct
// email), so that a file of tens of millions of rows measures the reader and not a hash
// table; with --duplicates the rows come from row_source, exactly as `check` and `import`
// read them. Prints one line of key=value fields.

#include <chrono>
#include <cstdio>
#include <cstring>
#include <exception>

#include "convex_importd/file_layout.hpp"
#include "convex_importd/row_source.hpp"
#include "convex_importd/user_row.hpp"

namespace {

using namespace convex_importd;

struct tally {
    std::size_t rows = 0;
    std::size_t valid = 0;
    std::size_t bytes = 0;
};

void count(tally& total, const user_row& row) {
    ++total.rows;
    total.valid += row.verdict ? 0 : 1;
}

tally read_without_duplicates(const char* path, const file_layout& layout, const row_rules& rules) {
    csv_reader reader(path, layout.csv);
    skip_to_data(reader, layout);
    csv_record record;
    user_row row;
    tally total;
    while (reader.next(record)) {
        if (record.blank()) {
            continue;
        }
        // row_source asks this of every record it looks ahead to.
        const bool fragment = looks_like_fragment(record, layout.columns, rules);
        fill_user_row(row, record, layout.columns, total.rows, rules);
        if (fragment) {
            mark_broken_record(row, "cut by a line break that is not quoted");
        }
        count(total, row);
    }
    total.bytes = reader.bytes_read();
    return total;
}

tally read_with_duplicates(const char* path, const file_layout& layout, const row_rules& rules) {
    row_source rows(path, layout, rules);
    user_row row;
    tally total;
    while (rows.next(row)) {
        count(total, row);
    }
    total.bytes = rows.bytes_read();
    return total;
}

}  // namespace

int main(int argc, char** argv) {
    const bool duplicates = argc == 3 && std::strcmp(argv[2], "--duplicates") == 0;
    if (argc != 2 && !duplicates) {
        std::fprintf(stderr, "usage: read-rows FILE [--duplicates]\n");
        return 2;
    }

    try {
        const auto started = std::chrono::steady_clock::now();
        const file_layout layout = find_layout(argv[1], layout_options{});
        const row_rules rules;
        const tally total = duplicates ? read_with_duplicates(argv[1], layout, rules)
                                       : read_without_duplicates(argv[1], layout, rules);
        const double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

        std::printf("rows=%zu valid=%zu bytes=%zu seconds=%.3f mb_per_s=%.1f rows_per_s=%.0f\n",
                    total.rows, total.valid, total.bytes, seconds, total.bytes / seconds / 1e6,
                    total.rows / seconds);
        return 0;
    } catch (const std::exception& error) {
        std::fprintf(stderr, "read-rows: %s\n", error.what());
        return 1;
    }
}
