// generate-users: writes a CSV file of users for the benchmarks, so that every run reads the
// same shape of input without shipping one.
//
// usage: generate-users FILE --rows N        (N data rows)
//        generate-users FILE --bytes B       (rows until the file holds about B bytes)
//
// Rows look like an export from a sign-up sheet: `email,password,name`, every email unique.
// One row in 16 has a quoted name holding the delimiter and one in 64 a mixed-case email, so
// the reader's quoted path and the email normalisation are part of what is measured.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

namespace {

constexpr std::size_t flush_bytes = 1 << 20;

const char* const first_names[] = {"Ann",   "Bruno",  "Chen",   "Dana",
                                   "Emeka", "Fatima", "Gustav", "Hana"};
const char* const last_names[] = {"Smith", "Okafor",   "Nguyen", "Larsen",
                                  "Silva", "Kowalski", "Tanaka", "Moreau"};

struct limits {
    std::uint64_t rows = 0;   // 0: no row limit
    std::uint64_t bytes = 0;  // 0: no size limit
};

// xorshift64*: fast, and fixed, so that every run writes the same file.
class random_bits {
public:
    std::uint64_t next() {
        state_ ^= state_ >> 12;
        state_ ^= state_ << 25;
        state_ ^= state_ >> 27;
        return state_ * 0x2545F4914F6CDD1DULL;
    }

private:
    std::uint64_t state_ = 0x9E3779B97F4A7C15ULL;
};

void append_password(std::string& out, random_bits& random) {
    static constexpr std::string_view alphabet =
        "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789!#%*+-";
    std::uint64_t bits = random.next();
    for (int i = 0; i < 12; ++i) {
        out.push_back(alphabet[bits % alphabet.size()]);
        bits /= alphabet.size();
    }
}

void append_row(std::string& out, std::uint64_t n, random_bits& random) {
    const char* first = first_names[n % 8];
    const char* last = last_names[(n / 8) % 8];
    char email[64];
    std::snprintf(email, sizeof email,
                  n % 64 == 0 ? "User%09llu@Example.COM" : "user%09llu@example.com",
                  static_cast<unsigned long long>(n));

    out.append(email).push_back(',');
    append_password(out, random);
    out.push_back(',');
    if (n % 16 == 0) {
        out.append("\"").append(last).append(", ").append(first).append("\"");
    } else {
        out.append(first).append(" ").append(last);
    }
    out.push_back('\n');
}

bool parse_limits(int argc, char** argv, limits& wanted) {
    if (argc != 4) {
        return false;
    }
    const std::uint64_t value = std::strtoull(argv[3], nullptr, 10);
    if (value == 0) {
        return false;
    }
    if (std::strcmp(argv[2], "--rows") == 0) {
        wanted.rows = value;
    } else if (std::strcmp(argv[2], "--bytes") == 0) {
        wanted.bytes = value;
    } else {
        return false;
    }
    return true;
}

bool reached(const limits& wanted, std::uint64_t rows, std::uint64_t bytes) {
    return (wanted.rows != 0 && rows >= wanted.rows) ||
           (wanted.bytes != 0 && bytes >= wanted.bytes);
}

}  // namespace

int main(int argc, char** argv) {
    limits wanted;
    if (!parse_limits(argc, argv, wanted)) {
        std::fprintf(stderr, "usage: generate-users FILE --rows N | --bytes B\n");
        return 2;
    }
    std::FILE* file = std::fopen(argv[1], "w");
    if (file == nullptr) {
        std::perror(argv[1]);
        return 1;
    }

    std::string buffer = "email,password,name\n";
    std::uint64_t written = 0;
    std::uint64_t rows = 0;
    random_bits random;
    while (!reached(wanted, rows, written + buffer.size())) {
        append_row(buffer, rows++, random);
        if (buffer.size() >= flush_bytes) {
            written += std::fwrite(buffer.data(), 1, buffer.size(), file);
            buffer.clear();
        }
    }
    written += std::fwrite(buffer.data(), 1, buffer.size(), file);

    if (std::fclose(file) != 0) {
        std::perror(argv[1]);
        return 1;
    }
    std::printf("rows=%llu bytes=%llu\n", static_cast<unsigned long long>(rows),
                static_cast<unsigned long long>(written));
    return 0;
}
