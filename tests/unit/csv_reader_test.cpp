#include "convex_importd/csv_reader.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "convex_importd/email.hpp"
#include "test_files.hpp"
#include "test_random.hpp"

using namespace convex_importd;

namespace {

struct read_record {
    std::size_t line;
    std::vector<std::string> fields;
    bool oversized = false;
    bool operator==(const read_record&) const = default;
};

std::vector<read_record> read_text(std::string_view text, csv_options options = {}) {
    testing::temp_folder folder;
    csv_reader reader(folder.write("in.csv", text), options);
    csv_record record;
    std::vector<read_record> records;
    while (reader.next(record)) {
        CHECK((!record.known_ascii() || is_ascii(record.text())));  // the flag never lies
        read_record copy{record.line(), {}, record.oversized()};
        for (std::size_t i = 0; i < record.size(); ++i) {
            copy.fields.emplace_back(record.field(i));
        }
        records.push_back(std::move(copy));
    }
    return records;
}

using fields = std::vector<std::string>;

}  // namespace

TEST_CASE("a byte-order mark and CRLF line ends leave no trace in the fields") {
    const auto records = read_text(
        "\xEF\xBB\xBF"
        "email,password\r\na@x.io,pw-1\r\n");
    REQUIRE(records.size() == 2);
    CHECK(records[0].fields == fields{"email", "password"});
    CHECK(records[1].fields == fields{"a@x.io", "pw-1"});
    CHECK(records[1].line == 2);
}

TEST_CASE("lone CR ends a record like LF does") {
    const auto records = read_text("email,password\rd@x.io,one\re@x.io,two");
    REQUIRE(records.size() == 3);
    CHECK(records[2].fields == fields{"e@x.io", "two"});
    CHECK(records[2].line == 3);
}

TEST_CASE("quoted fields keep delimiters, doubled quotes and line breaks") {
    const auto records = read_text(
        "email,password,name\r\nf@x.io,\"pa,ss\"\"word-1\",\"Frank\nExample\"\r\n"
        "g@x.io,Plain,Grace\r\n");
    REQUIRE(records.size() == 3);
    CHECK(records[1].fields == fields{"f@x.io", "pa,ss\"word-1", "Frank\nExample"});
    CHECK(records[1].line == 2);
    CHECK(records[2].line == 4);  // the record after a quoted line break starts a line later
}

TEST_CASE("blank lines are blank records and keep line numbers right") {
    const auto records = read_text("a,b\n\n\r\nc,d\n,,\n");
    REQUIRE(records.size() == 5);
    CHECK(records[1].fields == fields{""});
    CHECK(records[3].fields == fields{"c", "d"});
    CHECK(records[3].line == 4);
    CHECK(records[4].fields == fields{"", "", ""});
}

TEST_CASE("another delimiter splits there and leaves commas alone") {
    csv_options options;
    options.delimiter = ';';
    const auto records = read_text("email;password\nanna@x.io;Sommer,2024!\n", options);
    REQUIRE(records.size() == 2);
    CHECK(records[1].fields == fields{"anna@x.io", "Sommer,2024!"});
}

TEST_CASE("an unterminated quote fails with the line where it opened") {
    testing::temp_folder folder;
    csv_reader reader(folder.write("in.csv", "a,b\nc,\"open\nmore\nlines\n"), {});
    csv_record record;
    CHECK(reader.next(record));
    try {
        reader.next(record);
        FAIL("expected csv_error");
    } catch (const csv_error& error) {
        CHECK(error.line() == 2);
        CHECK(std::string(error.what()).find("unterminated quoted field") != std::string::npos);
    }
}

TEST_CASE("a record past the size limit is marked and truncated") {
    csv_options options;
    options.max_record_bytes = 16;
    testing::temp_folder folder;
    csv_reader reader(folder.write("in.csv", "a,b\n" + std::string(40, 'x') + ",y\nc,d\n"),
                      options);
    csv_record record;
    REQUIRE(reader.next(record));
    REQUIRE(reader.next(record));
    CHECK(record.oversized());
    CHECK(record.text().size() <= 16);
    REQUIRE(reader.next(record));
    CHECK_FALSE(record.oversized());
    CHECK(record.field(0) == "c");
}

TEST_CASE("records that straddle read chunks come out whole") {
    std::string text = "email,password\r\n";
    const std::size_t rows = 40'000;  // about 1.3 MB: several chunks, CRLF split somewhere
    for (std::size_t i = 0; i < rows; ++i) {
        text += "user" + std::to_string(i) + "@example.com,\"pw\r\n" + std::to_string(i) + "\"\r\n";
    }
    const auto records = read_text(text);
    REQUIRE(records.size() == rows + 1);
    for (std::size_t i = 0; i < rows; ++i) {
        const auto& record = records[i + 1];
        REQUIRE(record.fields.size() == 2);
        REQUIRE(record.fields[0] == "user" + std::to_string(i) + "@example.com");
        REQUIRE(record.fields[1] == "pw\r\n" + std::to_string(i));
        REQUIRE(record.line == 2 + 2 * i);
    }
}

TEST_CASE("a missing file names its path") {
    CHECK_THROWS_WITH_AS(csv_reader("/nonexistent/in.csv", {}),
                         doctest::Contains("/nonexistent/in.csv"), std::system_error);
}

TEST_CASE("a line of millions of delimiters is oversized, not blank, and stays small") {
    csv_options options;
    options.max_record_bytes = 1024;
    testing::temp_folder folder;
    csv_reader reader(folder.write("in.csv", "a,b\n" + std::string(2'000'000, ',') + "\nc,d\n"),
                      options);
    csv_record record;
    REQUIRE(reader.next(record));
    REQUIRE(reader.next(record));
    CHECK(record.oversized());
    CHECK_FALSE(record.blank());
    CHECK(record.size() <= 1024);
    REQUIRE(reader.next(record));
    CHECK(record.field(0) == "c");
}

TEST_CASE("text after a closing quote fails the file, naming both lines") {
    testing::temp_folder folder;
    csv_reader reader(folder.write("in.csv", "a,b\nann,\"Winter,Ann\nbob,x,\"Smith\" Bob\n"), {});
    csv_record record;
    REQUIRE(reader.next(record));
    CHECK_THROWS_WITH_AS(reader.next(record),
                         doctest::Contains("line 3: text after the closing quote of a field that "
                                           "opens on line 2"),
                         csv_error);
}

TEST_CASE("spaces after a closing quote are allowed") {
    const auto records = read_text("\"a@x.io\" ,\"pw\"\t\n");
    REQUIRE(records.size() == 1);
    CHECK(records[0].fields == fields{"a@x.io", "pw"});
}

namespace {

// A file of records built from pieces that each take a different turn in the reader: quoted
// fields with delimiters, doubled quotes and line breaks, stray quotes, blanks around closing
// quotes, non-ASCII text, empty fields and blank lines, long fields that cross the 64-byte
// blocks of the plain path. `line_end` ends every record.
std::string tricky_records(std::size_t rows, std::string_view line_end) {
    const std::vector<std::string_view> pieces = {
        "plain",
        "",
        "\"a,b\"",
        "\"x\"\"y\"",
        "\"two\nlines\"",
        "Jos\xC3\xA9",
        "ab\"c",
        "\"q\"  ",
        "\"\"",
        "  padded ",
        "user@example.com",
        "a-long-field-that-fills-more-than-one-block-of-sixty-four-bytes-on-its-own"};
    testing::test_random generator(0x9E3779B97F4A7C15ULL);
    const auto random = [&generator](std::size_t below) { return generator.below(below); };
    std::string text;
    for (std::size_t row = 0; row < rows; ++row) {
        const std::size_t width = random(5);  // 0: a blank line
        for (std::size_t field = 0; field < width; ++field) {
            text += field == 0 ? "" : ",";
            text += pieces[random(pieces.size())];
        }
        text += line_end;
    }
    return text;
}

}  // namespace

TEST_CASE("the plain path for LF records reads what the state machine reads") {
    // With CRLF line ends no record takes the plain path, so the two readings compare it with
    // the state machine; 20,000 rows span several read chunks.
    const std::string lf = tricky_records(20'000, "\n");
    const std::string crlf = tricky_records(20'000, "\r\n");
    for (const std::size_t limit : {std::size_t{40}, std::size_t{64 * 1024}}) {
        csv_options options;
        options.max_record_bytes = limit;
        const auto plain = read_text(lf, options);
        const auto state_machine = read_text(crlf, options);
        REQUIRE(plain.size() == state_machine.size());
        for (std::size_t i = 0; i < plain.size(); ++i) {
            CAPTURE(i);
            REQUIRE(plain[i] == state_machine[i]);
        }
        CHECK(read_text("\xEF\xBB\xBF" + lf, options) == plain);
    }
}

namespace {

// Records whose lengths vary from a few bytes to longer than the plain path's 8 KiB index
// window, so that records start at every distance from a window's end and some cannot fit
// one; their fields are plain, quoted, or quoted with delimiters inside.
std::string records_of_every_length(std::size_t rows, std::string_view line_end) {
    testing::test_random generator(0x2545F4914F6CDD1DULL);
    const auto random = [&generator](std::size_t below) { return generator.below(below); };
    const std::vector<std::size_t> lengths = {0, 1, 7, 63, 64, 65, 700, 4000, 9000, 20000};
    std::string text;
    for (std::size_t row = 0; row < rows; ++row) {
        const std::size_t width = 1 + random(4);
        for (std::size_t field = 0; field < width; ++field) {
            text += field == 0 ? "" : ",";
            const std::string value(lengths[random(lengths.size())], 'a' + field);
            switch (random(3)) {
                case 0:
                    text += value;
                    break;
                case 1:
                    text += "\"" + value + "\"";
                    break;
                default:
                    text += "\"" + value + ",\"";
            }
        }
        text += line_end;
    }
    return text;
}

// UTF-16 of text whose characters all take one or two bytes in UTF-8.
std::string utf16le_of(std::string_view utf8) {
    std::string out = "\xFF\xFE";
    for (std::size_t i = 0; i < utf8.size(); ++i) {
        unsigned unit = static_cast<unsigned char>(utf8[i]);
        if (unit >= 0xC0) {
            unit = ((unit & 0x1F) << 6) | (static_cast<unsigned char>(utf8[++i]) & 0x3F);
        }
        out += static_cast<char>(unit & 0xFF);
        out += static_cast<char>(unit >> 8);
    }
    return out;
}

void require_same_records(const std::vector<read_record>& plain,
                          const std::vector<read_record>& state_machine) {
    REQUIRE(plain.size() == state_machine.size());
    for (std::size_t i = 0; i < plain.size(); ++i) {
        CAPTURE(i);
        REQUIRE(plain[i] == state_machine[i]);
    }
}

}  // namespace

TEST_CASE("the plain path reads what the state machine reads across its index windows") {
    const std::string lf = records_of_every_length(3'000, "\n");
    const std::string crlf = records_of_every_length(3'000, "\r\n");
    for (const std::size_t limit : {std::size_t{5'000}, std::size_t{64 * 1024}}) {
        csv_options options;
        options.max_record_bytes = limit;
        require_same_records(read_text(lf, options), read_text(crlf, options));
    }
}

TEST_CASE("the plain path reads decoded UTF-16 as it reads UTF-8") {
    const std::string lf = tricky_records(20'000, "\n");
    const std::string crlf = tricky_records(20'000, "\r\n");
    require_same_records(read_text(utf16le_of(lf)), read_text(crlf));
}

TEST_CASE("a record that ends the file without a line break is read whole") {
    CHECK(read_text("a,\"b,c\"\nd,e") ==
          std::vector<read_record>{{1, {"a", "b,c"}}, {2, {"d", "e"}}});
    CHECK(read_text("a,b\n\"x\"") == std::vector<read_record>{{1, {"a", "b"}}, {2, {"x"}}});
}

TEST_CASE("the plain path and the state machine agree on records at the size limit") {
    // The limit counts field text and a byte per field (`text` in all): quotes and the line end
    // do not count.
    for (const std::size_t text : {std::size_t{19}, std::size_t{20}, std::size_t{21}}) {
        CAPTURE(text);
        std::string lf;
        for (const std::string_view shape : {"plain", "quoted", "both"}) {
            const std::string value(text - (shape == "both" ? 4 : 2), 'v');
            if (shape == "plain") {
                lf += "a," + value + "\n";
            } else if (shape == "quoted") {
                lf += "\"a\",\"" + value + "\"\n";
            } else {
                lf += "\"a\",\"" + value + "\",b\n";
            }
        }
        std::string crlf;
        for (const char c : lf) {
            crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
        }
        csv_options options;
        options.max_record_bytes = 20;
        require_same_records(read_text(lf, options), read_text(crlf, options));
    }
}

TEST_CASE("the portable scan of an index window finds what the AVX2 one finds") {
    const std::string text = records_of_every_length(3'000, "\n") + tricky_records(5'000, "\n");
    const auto wide = read_text(text);  // AVX2 where the processor has it
    std::vector<read_record> portable;
    {
        const struct portable_while_in_scope {
            portable_while_in_scope() { detail::use_portable_scan(true); }
            ~portable_while_in_scope() { detail::use_portable_scan(false); }
        } forced;
        portable = read_text(text);
    }
    require_same_records(portable, wide);
}
