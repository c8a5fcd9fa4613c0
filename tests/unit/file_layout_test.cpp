#include "convex_importd/file_layout.hpp"

#include <doctest/doctest.h>

#include "test_files.hpp"

using namespace convex_importd;

namespace {

file_layout layout_of(std::string_view text, const layout_options& options = {}) {
    testing::temp_folder folder;
    return find_layout(folder.write("in.csv", text), options);
}

std::string layout_failure(std::string_view text, const layout_options& options = {}) {
    try {
        layout_of(text, options);
    } catch (const layout_error& error) {
        return error.what();
    }
    FAIL("expected a layout_error");
    return {};
}

}  // namespace

TEST_CASE("the delimiter is found from the header line") {
    CHECK(layout_of("email,password\n").csv.delimiter == ',');
    CHECK(layout_of("email;password\na@x.io;Sommer,2024!\n").csv.delimiter == ';');
    CHECK(layout_of("email\tpassword\n").csv.delimiter == '\t');
    CHECK(layout_of("\n\nemail|password|name\n").csv.delimiter == '|');
    CHECK(layout_of("\n\nemail|password|name\n").header_line == 3);
}

TEST_CASE("a header that no delimiter makes sense of fails the file") {
    CHECK(layout_failure("quinn@example.com,River-Stone-33\n") ==
          "line 1: no header row; expected columns email,password");
    CHECK(layout_failure("email,name\n") ==
          "line 1: no password column in the header; expected columns email,password");
    CHECK(layout_failure("email:password\n") ==
          "line 1: no header row; expected columns email,password");
    CHECK(layout_failure("") ==
          "the file is empty; expected a header row with columns email,password");
    CHECK(layout_failure("email,password,Email\n").find("email column twice") != std::string::npos);
}

TEST_CASE("a given delimiter is used as it is") {
    layout_options options;
    options.delimiter = ';';
    CHECK(layout_failure("email,password\n", options) ==
          "line 1: no header row; expected columns email,password");
}

TEST_CASE("encodings that cannot be read as text fail with what to do") {
    CHECK(layout_failure(std::string("e\0m\0a\0i\0l\0,\0p\0", 14))
              .find("UTF-16 without a "
                    "byte-order mark") != std::string::npos);
    CHECK(layout_failure("\xE9mail,password\n").find("not valid UTF-8") != std::string::npos);
}

TEST_CASE("UTF-16 with a byte-order mark is decoded") {
    const std::string text(
        "\xFF\xFE"
        "e\0m\0a\0i\0l\0\t\0p\0w\0\r\0\n\0",
        22);
    layout_options options;
    options.names.password_column = "pw";
    const auto layout = layout_of(text, options);
    CHECK(layout.csv.delimiter == '\t');
    CHECK(layout.encoding == text_encoding::utf16le);
}

TEST_CASE("without a header the columns come from the command line") {
    layout_options options;
    options.header = false;
    options.columns = {"email", "password", "name"};
    const auto layout = layout_of("a@x.io;pw-123456;Ann\n", options);
    CHECK(layout.csv.delimiter == ';');
    CHECK(layout.columns.password == 1);
    CHECK(layout.header_line == 0);
    CHECK(layout_failure("a@x.io\n", options).find("cannot tell the delimiter") !=
          std::string::npos);
}

TEST_CASE("an Excel sep= line names the delimiter and is not the header") {
    const auto layout = layout_of("sep=;\r\nEmail;Password\r\na@x.io;pw,with,commas\r\n");
    CHECK(layout.csv.delimiter == ';');
    CHECK(layout.separator_line);
    CHECK(layout.header_line == 2);
    CHECK(layout_of("sep=,\nemail,password\n").csv.delimiter == ',');
}

TEST_CASE("without a header, a short or padded first row still finds its delimiter") {
    layout_options options;
    options.header = false;
    options.columns = {"email", "password", "name"};
    CHECK(layout_of("nh1@example.com,Password-1\nnh2@example.com,Password-2,Bob\n", options)
              .csv.delimiter == ',');
    CHECK(layout_of("nh1@example.com;Password-1;Ann;\n", options).csv.delimiter == ';');
    options.delimiter = '|';
    CHECK(layout_of("nh1@example.com|Password-1\n", options).csv.delimiter == '|');
}

TEST_CASE("a pipe cannot be read twice, so it is refused with the reason") {
    CHECK_THROWS_WITH_AS(find_layout("/dev/null", {}), doctest::Contains("not a regular file"),
                         layout_error);
}
