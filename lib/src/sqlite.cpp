#include "sqlite.hpp"

#include <utility>

namespace convex_importd::sqlite {

statement::statement(sqlite3* db, std::string_view sql) : db_(db) {
    if (sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                           &stmt_, nullptr) != SQLITE_OK) {
        fail("prepare");
    }
}

statement::~statement() {
    sqlite3_finalize(stmt_);
}

statement::statement(statement&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)), stmt_(std::exchange(other.stmt_, nullptr)) {}

statement& statement::operator=(statement&& other) noexcept {
    if (this != &other) {
        sqlite3_finalize(stmt_);
        db_ = std::exchange(other.db_, nullptr);
        stmt_ = std::exchange(other.stmt_, nullptr);
    }
    return *this;
}

std::string statement::failure(std::string_view operation) const {
    std::string what = "state database: " + std::string(operation);
    if (stmt_ != nullptr) {
        what += " \"" + std::string(sqlite3_sql(stmt_)) + "\"";
    }
    return what + ": " + sqlite3_errmsg(db_);
}

void statement::fail(std::string_view operation) const {
    throw state_error(failure(operation));
}

statement& statement::bind(int index, std::int64_t value) {
    if (sqlite3_bind_int64(stmt_, index, value) != SQLITE_OK) {
        fail("bind");
    }
    return *this;
}

statement& statement::bind(int index, std::string_view text) {
    if (sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()),
                          SQLITE_STATIC) != SQLITE_OK) {
        fail("bind");
    }
    return *this;
}

statement& statement::bind(int index, std::span<const unsigned char> blob) {
    if (sqlite3_bind_blob(stmt_, index, blob.data(), static_cast<int>(blob.size()),
                          SQLITE_STATIC) != SQLITE_OK) {
        fail("bind");
    }
    return *this;
}

bool statement::step() {
    switch (sqlite3_step(stmt_)) {
        case SQLITE_ROW:
            return true;
        case SQLITE_DONE:
            return false;
        default: {
            // Reset, or every later use of the statement would fail as a misuse, hiding the
            // fault (a full disk) that the caller may get past.
            const std::string what = failure("step");
            reset();
            throw state_error(what);
        }
    }
}

void statement::reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
}

void statement::run() {
    while (step()) {
    }
    reset();
}

std::int64_t statement::integer(int column) const {
    return sqlite3_column_int64(stmt_, column);
}

std::string_view statement::text(int column) const {
    const auto* data = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
    return data == nullptr ? std::string_view()
                           : std::string_view(data, sqlite3_column_bytes(stmt_, column));
}

std::span<const unsigned char> statement::blob(int column) const {
    const auto* data = static_cast<const unsigned char*>(sqlite3_column_blob(stmt_, column));
    return {data, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column))};
}

database::database(const std::string& path) {
    const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
        const std::string reason = db_ != nullptr ? sqlite3_errmsg(db_) : "out of memory";
        sqlite3_close(db_);
        throw state_error("state database: open " + (path.empty() ? "(temporary)" : path) + ": " +
                          reason);
    }
    sqlite3_extended_result_codes(db_, 1);
}

database::~database() {
    sqlite3_close_v2(db_);
}

void database::exec(std::string_view sql) {
    char* message = nullptr;
    if (sqlite3_exec(db_, std::string(sql).c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
        std::string what = "state database: " + std::string(sql) + ": " +
                           (message != nullptr ? message : sqlite3_errmsg(db_));
        sqlite3_free(message);
        throw state_error(what);
    }
}

}  // namespace convex_importd::sqlite
