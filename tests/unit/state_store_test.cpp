#include "convex_importd/state_store.hpp"

#include <signal.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include "test_files.hpp"

using namespace convex_importd;
namespace fs = std::filesystem;

namespace {

row_result row(std::size_t line, const char* email, outcome result, unsigned attempts = 1) {
    return {line, email, result, attempts, std::string(to_string(result)) + " detail"};
}

// One value read straight from the database file, to check what is really stored there.
std::int64_t query_number(const fs::path& database, const char* sql) {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open_v2(database.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
    sqlite3_stmt* statement = nullptr;
    REQUIRE(sqlite3_prepare_v2(db, sql, -1, &statement, nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_step(statement) == SQLITE_ROW);
    const auto value = sqlite3_column_int64(statement, 0);
    sqlite3_finalize(statement);
    sqlite3_close(db);
    return value;
}

}  // namespace

TEST_CASE("committed outcomes survive a reopen and the file resumes with them") {
    testing::temp_folder folder;
    {
        auto store = state_store::open(folder.path() / "state");
        const auto file = store->begin_file("/spool/processing/a.csv", "id-1", "a.csv");
        CHECK(file.finished_rows == 0);
        store->record(file.id, 0, row(2, "a@x.io", outcome::created));
        store->record(file.id, 2, row(4, "c@x.io", outcome::invalid, 0));
        CHECK(store->pending() == 2);
        store->commit();
        CHECK(store->pending() == 0);
    }

    auto store = state_store::open(folder.path() / "state");
    const auto file = store->begin_file("/spool/processing/a.csv", "id-1", "a.csv");
    CHECK(file.finished_rows == 2);
    CHECK(store->has_outcome(file.id, 0));
    CHECK_FALSE(store->has_outcome(file.id, 1));
    CHECK(store->has_outcome(file.id, 2));
    CHECK((fs::status(folder.path() / "state").permissions() & fs::perms::others_all) ==
          fs::perms::none);
    for (const char* name : {"state.db", "state.db-wal"}) {
        CHECK((fs::status(folder.path() / "state" / name).permissions() &
               (fs::perms::group_all | fs::perms::others_all)) == fs::perms::none);
    }
}

TEST_CASE("rows come back in file order with their outcome, attempts and detail") {
    auto store = state_store::temporary();
    const auto file = store->begin_file("/in/b.csv", "id", "b.csv");
    store->record(file.id, 2, row(5, "c@x.io", outcome::failed, 10));
    store->record(file.id, 0, row(2, "a@x.io", outcome::created));
    store->record(file.id, 1, row(3, "b@x.io", outcome::exists, 2));
    store->commit();

    std::vector<std::size_t> indexes;
    std::vector<std::string> emails;
    store->for_each_row(file.id, [&](std::size_t index, const row_result& stored) {
        indexes.push_back(index);
        emails.push_back(stored.email);
        if (index == 2) {
            CHECK(stored.line == 5);
            CHECK(stored.result == outcome::failed);
            CHECK(stored.attempts == 10);
            CHECK(stored.detail == "failed detail");
        }
    });
    CHECK(indexes == std::vector<std::size_t>{0, 1, 2});
    CHECK(emails == std::vector<std::string>{"a@x.io", "b@x.io", "c@x.io"});

    const auto counts = store->count_outcomes(file.id);
    CHECK(counts[static_cast<std::size_t>(outcome::created)] == 1);
    CHECK(counts[static_cast<std::size_t>(outcome::exists)] == 1);
    CHECK(counts[static_cast<std::size_t>(outcome::failed)] == 1);
}

TEST_CASE("another file under the same name starts afresh") {
    auto store = state_store::temporary();
    const auto first = store->begin_file("/p/a.csv", "inode-1", "a.csv");
    store->record(first.id, 0, row(2, "a@x.io", outcome::created));
    store->commit();

    const auto second = store->begin_file("/p/a.csv", "inode-2", "a.csv");
    CHECK(second.id != first.id);
    CHECK(second.finished_rows == 0);
    CHECK_FALSE(store->has_outcome(second.id, 0));
}

TEST_CASE("the ledger remembers created and exists across files and reopenings") {
    testing::temp_folder folder;
    {
        auto store = state_store::open(folder.path());
        const auto file = store->begin_file("/p/team.csv", "id", "team.csv");
        store->record(file.id, 0, row(2, "new@x.io", outcome::created));
        store->record(file.id, 1, row(3, "old@x.io", outcome::exists));
        store->record(file.id, 2, row(4, "bad@x.io", outcome::rejected));
        store->record(file.id, 3, row(5, "down@x.io", outcome::failed));
        store->commit();
        CHECK_FALSE(store->find_in_ledger("new@x.io"));  // not before the file is sealed
        store->seal_file(file.id);
        store->seal_file(file.id);  // a crash before the move seals it again
        store->finish_file(file.id);
    }

    auto store = state_store::open(folder.path());
    const auto created = store->find_in_ledger("new@x.io");
    REQUIRE(created);
    CHECK(created->result == outcome::created);
    CHECK(created->file == "team.csv");
    CHECK(created->line == 2);
    CHECK(store->find_in_ledger("old@x.io")->result == outcome::exists);
    CHECK_FALSE(store->find_in_ledger("bad@x.io"));
    CHECK_FALSE(store->find_in_ledger("down@x.io"));
    CHECK_FALSE(store->find_in_ledger("New@x.io"));  // the caller normalises

    // Stored as 16-byte keyed hashes; the finished file's rows (with addresses) are gone.
    const auto database = folder.path() / "state.db";
    CHECK(query_number(database, "SELECT count(*) FROM ledger") == 2);
    CHECK(query_number(database,
                       "SELECT count(*) FROM ledger WHERE typeof(key) = 'blob' "
                       "AND length(key) = 16") == 2);
    CHECK(query_number(database,
                       "SELECT count(*) FROM sqlite_master "
                       "WHERE name LIKE 'rows_%'") == 0);
}

TEST_CASE("keyed hashes differ between stores and are stable within one") {
    auto one = state_store::temporary();
    auto two = state_store::temporary();
    CHECK(one->key_of("a@x.io") == one->key_of("a@x.io"));
    CHECK(one->key_of("a@x.io") != one->key_of("b@x.io"));
    CHECK(one->key_of("a@x.io") != two->key_of("a@x.io"));
}

TEST_CASE("a second process cannot open a state directory in use") {
    testing::temp_folder folder;
    auto store = state_store::open(folder.path());
    CHECK_THROWS_WITH_AS(state_store::open(folder.path()),
                         doctest::Contains("in use by another convex-importd process"),
                         state_error);
}

TEST_CASE("after a kill -9, committed rows are there and uncommitted ones are not") {
    testing::temp_folder folder;
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        auto store = state_store::open(folder.path());
        const auto file = store->begin_file("/p/k.csv", "id", "k.csv");
        for (std::size_t i = 0; i < 5; ++i) {
            store->record(file.id, i, row(i + 2, "a@x.io", outcome::created));
        }
        store->commit();
        for (std::size_t i = 5; i < 8; ++i) {
            store->record(file.id, i, row(i + 2, "b@x.io", outcome::created));
        }
        ::raise(SIGKILL);
    }
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    REQUIRE(WIFSIGNALED(status));

    auto store = state_store::open(folder.path());
    const auto file = store->begin_file("/p/k.csv", "id", "k.csv");
    CHECK(file.finished_rows == 5);
    CHECK(store->has_outcome(file.id, 4));
    CHECK_FALSE(store->has_outcome(file.id, 5));
}

TEST_CASE("a temporary store keeps no ledger: it is gone when its one run ends") {
    auto store = state_store::temporary();
    const auto file = store->begin_file("/p/once.csv", "id", "once.csv");
    store->record(file.id, 0, row(2, "once@x.io", outcome::created));
    store->commit();
    store->seal_file(file.id);
    CHECK_FALSE(store->find_in_ledger("once@x.io"));
    CHECK(store->count_outcomes(file.id)[static_cast<std::size_t>(outcome::created)] == 1);
}

TEST_CASE("unfinished entries of files that left processing/ are dropped") {
    testing::temp_folder folder;
    auto store = state_store::open(folder.path());
    const auto kept = store->begin_file("/s/processing/keep.csv", "id", "keep.csv");
    const auto gone = store->begin_file("/s/processing/gone.csv", "id", "gone.csv");
    const auto other = store->begin_file("/elsewhere/x.csv", "id", "x.csv");
    store->record(gone.id, 0, row(2, "g@x.io", outcome::created));
    store->commit();
    store->seal_file(gone.id);

    CHECK(store->forget_unfinished("/s/processing/", {"/s/processing/keep.csv"}) == 1);
    CHECK(store->begin_file("/s/processing/keep.csv", "id", "keep.csv").id == kept.id);
    CHECK(store->begin_file("/elsewhere/x.csv", "id", "x.csv").id == other.id);
    CHECK(store->begin_file("/s/processing/gone.csv", "id", "gone.csv").id != gone.id);
    CHECK(store->find_in_ledger("g@x.io"));  // the ledger outlives the file's progress
}

TEST_CASE("a file's identity changes when it is rewritten, not when it is renamed") {
    testing::temp_folder folder;
    const auto file = folder.write("a.csv", "email,password\n");
    const auto before = file_identity(file);
    fs::rename(file, folder.path() / "b.csv");
    CHECK(file_identity(folder.path() / "b.csv") == before);
    folder.write("b.csv", "email,password\nx@y.z,12345678\n");
    CHECK(file_identity(folder.path() / "b.csv") != before);
}

TEST_CASE("the first-line index answers the first line of each email") {
    first_line_index index;
    CHECK(index.first_line("a@x.io", 2) == 2);
    CHECK(index.first_line("b@x.io", 3) == 3);
    CHECK(index.first_line("a@x.io", 4) == 2);
    CHECK(index.first_line("a@x.io", 9) == 2);
    CHECK(index.first_line("b@x.io", 10) == 3);

    // Past one batch of inserts, the answers hold.
    std::size_t wrong = 0;
    for (std::size_t line = 20; line < 20'020; ++line) {
        const std::string email = std::to_string(line) + "@x.io";
        wrong += index.first_line(email, line) == line ? 0 : 1;
    }
    CHECK(wrong == 0);
    CHECK(index.first_line("20000@x.io", 30'000) == 20'000);
    CHECK(index.first_line("a@x.io", 30'001) == 2);
}

TEST_CASE("outcomes of many rows, recorded in batches, are all stored with their fields") {
    testing::temp_folder folder;
    constexpr std::size_t rows = 100;  // three full multi-row inserts and a remainder
    {
        auto store = state_store::open(folder.path() / "state");
        const auto file = store->begin_file("/in/many.csv", "id", "many.csv");
        const auto other = store->begin_file("/in/other.csv", "id", "other.csv");
        for (std::size_t i = 0; i < rows; ++i) {
            const std::string email = "user" + std::to_string(i) + "@x.io";
            store->record(file.id, rows - 1 - i, row(i + 2, email.c_str(), outcome::created, 1));
            if (i == 40) {
                // Not committed yet: a read sees it all the same, and so does the other file.
                CHECK(store->has_outcome(file.id, rows - 1 - i));
                store->record(other.id, 0, row(2, "other@x.io", outcome::exists));
                CHECK(store->count_outcomes(other.id)[static_cast<std::size_t>(outcome::exists)] ==
                      1);
            }
        }
        store->commit();
    }

    auto store = state_store::open(folder.path() / "state");
    const auto file = store->begin_file("/in/many.csv", "id", "many.csv");
    CHECK(file.finished_rows == rows);
    std::size_t seen = 0;
    store->for_each_row(file.id, [&](std::size_t index, const row_result& stored) {
        CHECK(index == seen);
        CHECK(stored.line == rows - 1 - index + 2);
        CHECK(stored.email == "user" + std::to_string(rows - 1 - index) + "@x.io");
        CHECK(stored.detail == "created detail");
        ++seen;
    });
    CHECK(seen == rows);
    const auto other = store->begin_file("/in/other.csv", "id", "other.csv");
    CHECK(other.finished_rows == 1);
}

TEST_CASE("a write that fails (a full disk) is reported as such, again at the next commit") {
    testing::temp_folder folder;
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        // In the child alone: files may not grow past 256 KiB, as on a full disk.
        ::signal(SIGXFSZ, SIG_IGN);
        const rlimit limit{256 << 10, 256 << 10};
        ::setrlimit(RLIMIT_FSIZE, &limit);
        int status = 1;
        try {
            auto store = state_store::open(folder.path());
            const auto file = store->begin_file("/p/full.csv", "id", "full.csv");
            const std::string detail(400, 'd');
            std::string first_error;
            for (std::size_t i = 0; i < 100'000 && first_error.empty(); ++i) {
                try {
                    // One batch: SQLite's page cache fills and spills during an insert.
                    store->record(file.id, i, {i + 2, "a@x.io", outcome::rejected, 1, detail});
                } catch (const state_error& error) {
                    first_error = error.what();
                }
            }
            std::string second_error;
            try {
                store->commit();
            } catch (const state_error& error) {
                second_error = error.what();
            }
            const auto misuse = [](const std::string& what) {
                return what.find("misuse") != std::string::npos;
            };
            status = !first_error.empty() && !second_error.empty() && !misuse(first_error) &&
                             !misuse(second_error)
                         ? 0
                         : 2;
        } catch (...) {
            status = 3;
        }
        ::_exit(status);
    }
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
}
