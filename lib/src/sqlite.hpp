#pragma once

// A thin RAII layer over the SQLite C API for the state store. Internal to lib/.

#include <sqlite3.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "convex_importd/state_store.hpp"

namespace convex_importd::sqlite {

/// One prepared statement. Bind with 1-based indexes, step() until it returns false, and
/// reset() before running it again. Not thread-safe, like its connection.
class statement {
public:
    statement() = default;
    statement(sqlite3* db, std::string_view sql);
    ~statement();
    statement(statement&& other) noexcept;
    statement& operator=(statement&& other) noexcept;
    statement(const statement&) = delete;
    statement& operator=(const statement&) = delete;

    statement& bind(int index, std::int64_t value);
    /// Text and blobs are not copied: they must outlive the statement's run, up to the
    /// reset() that run() ends with (a copy per bound value cost two allocations per row).
    statement& bind(int index, std::string_view text);
    statement& bind(int index, std::span<const unsigned char> blob);

    /// True while there is a row to read; false once the statement is done.
    bool step();
    void reset();

    /// Runs a statement that returns no rows, then resets it.
    void run();

    std::int64_t integer(int column) const;
    std::string_view text(int column) const;
    std::span<const unsigned char> blob(int column) const;

private:
    [[noreturn]] void fail(std::string_view operation) const;
    std::string failure(std::string_view operation) const;

    sqlite3* db_ = nullptr;
    sqlite3_stmt* stmt_ = nullptr;
};

/// One connection. Throws state_error with SQLite's message when anything fails.
class database {
public:
    /// Opens (creating when missing) the database at `path`; an empty path opens a private
    /// temporary database that SQLite deletes when the connection closes.
    explicit database(const std::string& path);
    ~database();
    database(const database&) = delete;
    database& operator=(const database&) = delete;

    void exec(std::string_view sql);
    statement prepare(std::string_view sql) { return statement(db_, sql); }
    sqlite3* handle() const { return db_; }

private:
    sqlite3* db_ = nullptr;
};

}  // namespace convex_importd::sqlite
