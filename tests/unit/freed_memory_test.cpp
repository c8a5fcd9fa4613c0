// What the reader gives back to the allocator holds no password. The global operator delete
// is replaced for the whole test binary; it looks into the blocks only while a test asks.
#include <fcntl.h>
#include <malloc.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>
#include <string_view>

#include "convex_importd/csv_reader.hpp"
#include "test_files.hpp"

namespace {

constexpr std::string_view password_marker = "Secret-pw-4711";
std::atomic<bool> inspecting{false};
std::atomic<int> blocks_with_password{0};

void inspect(void* block) {
    if (block == nullptr || !inspecting.load(std::memory_order_relaxed)) {
        return;
    }
    const std::string_view bytes(static_cast<const char*>(block), malloc_usable_size(block));
    if (bytes.find(password_marker) != std::string_view::npos) {
        blocks_with_password.fetch_add(1);
    }
}

// Counts the blocks freed with the password in them while it lives.
struct freed_blocks_inspected {
    freed_blocks_inspected() {
        blocks_with_password = 0;
        inspecting = true;
    }
    ~freed_blocks_inspected() { inspecting = false; }
};

}  // namespace

void operator delete(void* block) noexcept {
    inspect(block);
    std::free(block);
}

void operator delete(void* block, std::size_t) noexcept {
    inspect(block);
    std::free(block);
}

using namespace convex_importd;

TEST_CASE("a record that outgrows its storage leaves no password in the storage it gives up") {
    testing::temp_folder folder;
    // The second record is longer than the first: its text needs a larger buffer.
    const std::string text = "email,password\na@x.io," + std::string(password_marker) +
                             "\nb@x.io," + std::string(200, 'p') + "\n\"c@x.io\",\"" +
                             std::string(password_marker) + "\"\n\"d@x.io\",\"a\nlong " +
                             std::string(300, 'q') + "\"\n";
    // Not through a file stream: its buffer, freed with the text in it, would be found.
    const auto file = folder.path() / "grow.csv";
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    REQUIRE(fd >= 0);
    REQUIRE(::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
    ::close(fd);

    int records = 0;
    {
        const freed_blocks_inspected inspected;
        csv_reader reader(file, csv_options{});
        csv_record record;
        while (reader.next(record)) {
            ++records;
        }
    }
    CHECK(records == 5);
    CHECK(blocks_with_password.load() == 0);
}
