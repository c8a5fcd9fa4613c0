#include "convex_importd/state_store.hpp"

#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <system_error>

#include "convex_importd/logging.hpp"
#include "sqlite.hpp"

namespace convex_importd {

namespace fs = std::filesystem;

namespace {

constexpr std::int64_t schema_version = 1;
constexpr std::size_t ledger_key_bytes = 32;

// Tables, created when missing. File ids are never reused (AUTOINCREMENT): the ledger names
// the file an email was imported from by its id. Each file's rows live in a table of their own,
// rows_<id>, so that finishing a file is a DROP TABLE (pages go to the free list without being
// rewritten) rather than a DELETE of millions of rows through the write-ahead log.
constexpr std::string_view schema = R"sql(
CREATE TABLE IF NOT EXISTS meta(name TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS files(
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL,
    identity TEXT NOT NULL,
    name TEXT NOT NULL,
    done INTEGER NOT NULL DEFAULT 0,
    started INTEGER NOT NULL,
    finished INTEGER);
CREATE INDEX IF NOT EXISTS files_by_key ON files(key) WHERE done = 0;
CREATE TABLE IF NOT EXISTS ledger(
    key BLOB PRIMARY KEY,
    outcome INTEGER NOT NULL,
    file INTEGER NOT NULL,
    line INTEGER NOT NULL) WITHOUT ROWID;
)sql";

std::int64_t unix_seconds() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string rows_table(std::int64_t file) {
    return "rows_" + std::to_string(file);
}

// Outcomes go into SQLite this many at a time, through one statement: running a statement
// for each row cost more in the statement's own setup than in storing the row.
constexpr std::size_t rows_per_insert = 32;
constexpr int columns_per_row = 6;  // the placeholders of one row below

std::string insert_rows_sql(std::int64_t file, std::size_t rows) {
    std::string sql = "INSERT OR REPLACE INTO " + rows_table(file) +
                      "(idx, line, email, outcome, attempts, detail) VALUES";
    for (std::size_t i = 0; i < rows; ++i) {
        sql += i == 0 ? "(?, ?, ?, ?, ?, ?)" : ", (?, ?, ?, ?, ?, ?)";
    }
    return sql;
}

// An outcome waiting for the next multi-row insert. The slots are reused, strings included.
struct queued_row {
    std::int64_t index = 0;
    std::int64_t line = 0;
    std::string email;
    std::int64_t result = 0;
    std::int64_t attempts = 0;
    std::string detail;

    void bind_to(sqlite::statement& insert, int first) const {
        insert.bind(first, index)
            .bind(first + 1, line)
            .bind(first + 2, email)
            .bind(first + 3, result)
            .bind(first + 4, attempts)
            .bind(first + 5, detail);
    }
};

/// HMAC-SHA-256 with one key, cut to the size of an email_key.
class email_hasher {
public:
    explicit email_hasher(std::span<const unsigned char> key)
        : mac_(EVP_MAC_fetch(nullptr, "HMAC", nullptr)),
          context_(mac_ != nullptr ? EVP_MAC_CTX_new(mac_) : nullptr) {
        char digest[] = "SHA256";
        const OSSL_PARAM params[] = {
            OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
            OSSL_PARAM_construct_end()};
        if (context_ == nullptr || EVP_MAC_init(context_, key.data(), key.size(), params) != 1) {
            throw state_error("cannot set up HMAC-SHA-256 for the ledger");
        }
    }
    ~email_hasher() {
        EVP_MAC_CTX_free(context_);
        EVP_MAC_free(mac_);
    }
    email_hasher(const email_hasher&) = delete;
    email_hasher& operator=(const email_hasher&) = delete;

    email_key operator()(std::string_view email) const {
        // A null key starts a new message under the key set in the constructor.
        unsigned char full[EVP_MAX_MD_SIZE];
        std::size_t size = 0;
        if (EVP_MAC_init(context_, nullptr, 0, nullptr) != 1 ||
            EVP_MAC_update(context_, reinterpret_cast<const unsigned char*>(email.data()),
                           email.size()) != 1 ||
            EVP_MAC_final(context_, full, &size, sizeof full) != 1 || size < sizeof(email_key)) {
            throw state_error("HMAC-SHA-256 of an email failed");
        }
        email_key key;
        std::copy_n(full, key.size(), key.begin());
        return key;
    }

private:
    EVP_MAC* mac_;
    EVP_MAC_CTX* context_;
};

std::vector<unsigned char> random_bytes(std::size_t count) {
    std::vector<unsigned char> bytes(count);
    if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
        throw state_error("cannot draw random bytes for the ledger key");
    }
    return bytes;
}

// Only one process may use a state directory: two daemons on one spool would both resume
// the same files. The lock goes with the process, however it ends.
int lock_directory(const fs::path& dir) {
    const fs::path file = dir / "lock";
    const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        throw state_error("open " + file.string() + ": " + std::strerror(errno));
    }
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        const int error = errno;
        ::close(fd);
        throw state_error(error == EWOULDBLOCK
                              ? "state directory " + dir.string() +
                                    " is in use by another convex-importd process"
                              : "lock " + file.string() + ": " + std::strerror(error));
    }
    return fd;
}

void create_private_directory(const fs::path& dir) {
    std::error_code error;
    if (fs::create_directories(dir, error)) {
        fs::permissions(dir, fs::perms::owner_all, error);
    }
    if (!fs::is_directory(dir)) {
        throw state_error("cannot create the state directory " + dir.string() +
                          (error ? ": " + error.message() : ""));
    }
}

}  // namespace

struct state_store::impl {
    impl(const std::string& path, bool durable_store, int lock)
        : db(path), durable(durable_store), lock_fd(lock) {
        // The log and shared-memory files SQLite creates next take this file's mode.
        if (durable && ::chmod(path.c_str(), S_IRUSR | S_IWUSR) != 0) {
            throw state_error("chmod " + path + ": " + std::strerror(errno));
        }
        configure();
        db.exec(schema);
        hasher.emplace(ledger_key());
        register_email_key();
        find_ledger = db.prepare(
            "SELECT ledger.outcome, files.name, ledger.line FROM ledger "
            "LEFT JOIN files ON files.id = ledger.file WHERE ledger.key = ?");
        auto any = db.prepare("SELECT EXISTS(SELECT 1 FROM ledger)");
        ledger_empty = any.step() && any.integer(0) == 0;
    }

    // email_key(email) in SQL, so that a file's emails go into the ledger in one statement.
    void register_email_key() {
        const auto function = [](sqlite3_context* context, int, sqlite3_value** values) {
            const auto* self = static_cast<const email_hasher*>(sqlite3_user_data(context));
            const auto* text = reinterpret_cast<const char*>(sqlite3_value_text(values[0]));
            const std::string_view email(text == nullptr ? "" : text,
                                         static_cast<std::size_t>(sqlite3_value_bytes(values[0])));
            const email_key key = (*self)(email);
            sqlite3_result_blob(context, key.data(), static_cast<int>(key.size()),
                                SQLITE_TRANSIENT);
        };
        if (sqlite3_create_function_v2(db.handle(), "email_key", 1,
                                       SQLITE_UTF8 | SQLITE_DETERMINISTIC, &*hasher, function,
                                       nullptr, nullptr, nullptr) != SQLITE_OK) {
            throw state_error("state database: cannot register email_key()");
        }
    }

    ~impl() {
        try {
            commit();
        } catch (const state_error& error) {
            log::state().error("state not saved reason={}", log_value(error.what()));
        }
        if (lock_fd >= 0) {
            ::close(lock_fd);
        }
    }

    // WAL with synchronous=NORMAL: a commit is in the log file once COMMIT returns, so it
    // survives the process being killed; a power cut may lose the last commits, and the rows
    // they held are then sent again, which Convex Auth answers as a sign-in (same password).
    void configure() {
        sqlite3_busy_timeout(db.handle(), 5000);
        if (durable) {
            db.exec("PRAGMA journal_mode=WAL");
            db.exec("PRAGMA synchronous=NORMAL");
            db.exec("PRAGMA journal_size_limit=67108864");
        } else {
            db.exec("PRAGMA journal_mode=OFF");
            db.exec("PRAGMA synchronous=OFF");
        }
    }

    std::vector<unsigned char> ledger_key() {
        auto read = db.prepare("SELECT value FROM meta WHERE name = 'ledger_key'");
        if (read.step()) {
            const auto stored = read.blob(0);
            return {stored.begin(), stored.end()};
        }
        auto key = random_bytes(ledger_key_bytes);
        auto write = db.prepare("INSERT INTO meta(name, value) VALUES(?, ?)");
        write.bind(1, "ledger_key").bind(2, std::span<const unsigned char>(key)).run();
        write.bind(1, "schema").bind(2, schema_version).run();
        return key;
    }

    void begin_batch() {
        if (!in_batch) {
            db.exec("BEGIN IMMEDIATE");
            in_batch = true;
        }
    }

    void commit() {
        if (in_batch) {
            insert_queued();
            db.exec("COMMIT");
            in_batch = false;
            pending = 0;
        }
    }

    struct row_statements {
        sqlite::statement has;
        sqlite::statement insert_one;
        sqlite::statement insert_many;  // rows_per_insert rows
    };

    row_statements& rows(std::int64_t file) {
        auto it = files.find(file);
        if (it == files.end()) {
            const std::string table = rows_table(file);
            row_statements statements{db.prepare("SELECT 1 FROM " + table + " WHERE idx = ?"),
                                      db.prepare(insert_rows_sql(file, 1)),
                                      db.prepare(insert_rows_sql(file, rows_per_insert))};
            it = files.emplace(file, std::move(statements)).first;
        }
        return it->second;
    }

    void queue_row(std::int64_t file, std::size_t index, const row_result& row) {
        if (queued_count > 0 && queued_file != file) {
            insert_queued();
        }
        if (queued.size() == queued_count) {
            queued.emplace_back();
        }
        queued_row& slot = queued[queued_count++];
        slot.index = static_cast<std::int64_t>(index);
        slot.line = static_cast<std::int64_t>(row.line);
        slot.email.assign(row.email);
        slot.result = static_cast<std::int64_t>(row.result);
        slot.attempts = static_cast<std::int64_t>(row.attempts);
        slot.detail.assign(row.detail);
        queued_file = file;
        if (queued_count == rows_per_insert) {
            insert_queued();
        }
    }

    // Within the open batch. Reads of a file's rows call this first, to see every outcome.
    void insert_queued() {
        if (queued_count == 0) {
            return;
        }
        row_statements& statements = rows(queued_file);
        if (queued_count == rows_per_insert) {
            for (std::size_t i = 0; i < queued_count; ++i) {
                queued[i].bind_to(statements.insert_many,
                                  static_cast<int>(i) * columns_per_row + 1);
            }
            statements.insert_many.run();
        } else {
            for (std::size_t i = 0; i < queued_count; ++i) {
                queued[i].bind_to(statements.insert_one, 1);
                statements.insert_one.run();
            }
        }
        queued_count = 0;
    }

    void drop_rows(std::int64_t file) {
        if (queued_file == file) {
            queued_count = 0;
        }
        files.erase(file);
        db.exec("DROP TABLE IF EXISTS " + rows_table(file));
    }

    // Within the open batch; the caller commits.
    void forget(std::int64_t file) {
        drop_rows(file);
        auto entry = db.prepare("DELETE FROM files WHERE id = ?");
        entry.bind(1, file).run();
    }

    sqlite::database db;
    bool durable;
    int lock_fd;
    std::optional<email_hasher> hasher;
    sqlite::statement find_ledger;
    bool ledger_empty = true;  // spares the first import a keyed hash and a lookup per row
    std::map<std::int64_t, row_statements> files;
    std::vector<queued_row> queued;  // the first queued_count are waiting, for queued_file
    std::size_t queued_count = 0;
    std::int64_t queued_file = 0;
    bool in_batch = false;
    std::size_t pending = 0;
};

std::unique_ptr<state_store> state_store::open(const fs::path& dir) {
    create_private_directory(dir);
    const int lock = lock_directory(dir);
    try {
        return std::unique_ptr<state_store>(
            new state_store(std::make_unique<impl>((dir / "state.db").string(), true, lock)));
    } catch (...) {
        ::close(lock);
        throw;
    }
}

std::unique_ptr<state_store> state_store::temporary() {
    return std::unique_ptr<state_store>(new state_store(std::make_unique<impl>("", false, -1)));
}

state_store::state_store(std::unique_ptr<impl> state) : impl_(std::move(state)) {}

state_store::~state_store() = default;

file_entry state_store::begin_file(std::string_view key, std::string_view identity,
                                   std::string_view name) {
    impl_->commit();
    impl_->begin_batch();

    std::optional<std::int64_t> resumed;
    std::vector<std::int64_t> replaced;
    auto find = impl_->db.prepare("SELECT id, identity FROM files WHERE key = ? AND done = 0");
    find.bind(1, key);
    while (find.step()) {
        if (!resumed && find.text(1) == identity) {
            resumed = find.integer(0);
        } else {
            replaced.push_back(find.integer(0));
        }
    }
    for (const auto id : replaced) {
        impl_->forget(id);
    }

    file_entry entry;
    if (resumed) {
        entry.id = *resumed;
        auto count = impl_->db.prepare("SELECT count(*) FROM " + rows_table(entry.id));
        entry.finished_rows = count.step() ? static_cast<std::size_t>(count.integer(0)) : 0;
    } else {
        auto insert =
            impl_->db.prepare("INSERT INTO files(key, identity, name, started) VALUES(?, ?, ?, ?)");
        insert.bind(1, key).bind(2, identity).bind(3, name).bind(4, unix_seconds()).run();
        entry.id = sqlite3_last_insert_rowid(impl_->db.handle());
        impl_->db.exec("CREATE TABLE " + rows_table(entry.id) +
                       "(idx INTEGER PRIMARY KEY, line INTEGER NOT NULL, email TEXT NOT NULL, "
                       "outcome INTEGER NOT NULL, attempts INTEGER NOT NULL, "
                       "detail TEXT NOT NULL)");
    }
    impl_->commit();
    return entry;
}

bool state_store::has_outcome(std::int64_t file, std::size_t index) {
    impl_->insert_queued();
    auto& has = impl_->rows(file).has;
    has.bind(1, static_cast<std::int64_t>(index));
    const bool found = has.step();
    has.reset();
    return found;
}

void state_store::record(std::int64_t file, std::size_t index, const row_result& row) {
    impl_->begin_batch();
    impl_->queue_row(file, index, row);
    ++impl_->pending;
}

void state_store::commit() {
    impl_->commit();
}

std::size_t state_store::pending() const {
    return impl_->pending;
}

bool state_store::durable() const {
    return impl_->durable;
}

std::optional<ledger_entry> state_store::find_in_ledger(std::string_view email) {
    if (impl_->ledger_empty) {
        return std::nullopt;
    }
    const email_key key = key_of(email);
    auto& find = impl_->find_ledger;
    find.bind(1, std::span<const unsigned char>(key));
    std::optional<ledger_entry> entry;
    if (find.step()) {
        entry = ledger_entry{static_cast<outcome>(find.integer(0)), std::string(find.text(1)),
                             static_cast<std::size_t>(find.integer(2))};
    }
    find.reset();
    return entry;
}

void state_store::for_each_row(std::int64_t file,
                               const std::function<void(std::size_t, const row_result&)>& each) {
    impl_->insert_queued();
    auto rows = impl_->db.prepare("SELECT idx, line, email, outcome, attempts, detail FROM " +
                                  rows_table(file) + " ORDER BY idx");
    row_result row;
    while (rows.step()) {
        row.line = static_cast<std::size_t>(rows.integer(1));
        row.email = rows.text(2);
        row.result = static_cast<outcome>(rows.integer(3));
        row.attempts = static_cast<unsigned>(rows.integer(4));
        row.detail = rows.text(5);
        each(static_cast<std::size_t>(rows.integer(0)), row);
    }
}

std::array<std::size_t, outcome_count> state_store::count_outcomes(std::int64_t file) {
    impl_->insert_queued();
    std::array<std::size_t, outcome_count> counts{};
    auto rows = impl_->db.prepare("SELECT outcome, count(*) FROM " + rows_table(file) +
                                  " GROUP BY outcome");
    while (rows.step()) {
        const auto value = static_cast<std::size_t>(rows.integer(0));
        if (value < outcome_count) {
            counts[value] = static_cast<std::size_t>(rows.integer(1));
        }
    }
    return counts;
}

void state_store::seal_file(std::int64_t file) {
    // A temporary store is deleted when its run ends: a ledger in it would serve nobody.
    if (!impl_->durable) {
        return;
    }
    // Keys are random, so inserting them as rows end would dirty one ledger page per row and
    // write a page to the log for each. Sorted and merged once, they fill pages in order.
    impl_->commit();
    impl_->begin_batch();
    auto merge = impl_->db.prepare(
        "INSERT INTO ledger(key, outcome, file, line) "
        "SELECT email_key(email) AS key, outcome, ?, line FROM " +
        rows_table(file) + " WHERE outcome IN (?, ?) ORDER BY key ON CONFLICT(key) DO NOTHING");
    merge.bind(1, file)
        .bind(2, static_cast<std::int64_t>(outcome::created))
        .bind(3, static_cast<std::int64_t>(outcome::exists))
        .run();
    const bool merged = sqlite3_changes(impl_->db.handle()) > 0;
    impl_->commit();
    impl_->ledger_empty = impl_->ledger_empty && !merged;
}

void state_store::finish_file(std::int64_t file) {
    impl_->commit();
    impl_->begin_batch();
    impl_->drop_rows(file);
    auto done = impl_->db.prepare("UPDATE files SET done = 1, finished = ? WHERE id = ?");
    done.bind(1, unix_seconds()).bind(2, file).run();
    impl_->commit();
}

void state_store::forget_file(std::int64_t file) {
    impl_->begin_batch();
    impl_->forget(file);
    impl_->commit();
}

std::size_t state_store::forget_unfinished(std::string_view prefix,
                                           const std::vector<std::string>& keep) {
    std::vector<std::int64_t> stale;
    auto find = impl_->db.prepare("SELECT id, key FROM files WHERE done = 0");
    while (find.step()) {
        const std::string_view key = find.text(1);
        if (key.starts_with(prefix) && std::find(keep.begin(), keep.end(), key) == keep.end()) {
            stale.push_back(find.integer(0));
        }
    }
    impl_->begin_batch();
    for (const auto id : stale) {
        impl_->forget(id);
    }
    impl_->commit();
    return stale.size();
}

email_key state_store::key_of(std::string_view email) const {
    return (*impl_->hasher)(email);
}

std::string file_identity(const fs::path& file) {
    struct stat info {};
    if (::stat(file.c_str(), &info) != 0) {
        throw fs::filesystem_error("stat", file, std::error_code(errno, std::generic_category()));
    }
    return std::to_string(info.st_dev) + ":" + std::to_string(info.st_ino) + ":" +
           std::to_string(info.st_size) + ":" + std::to_string(info.st_mtim.tv_sec) + "." +
           std::to_string(info.st_mtim.tv_nsec);
}

struct first_line_index::impl {
    static constexpr std::size_t batch_rows = 8192;

    impl() : db(""), hasher(random_bytes(ledger_key_bytes)) {
        db.exec("PRAGMA journal_mode=OFF");
        db.exec("PRAGMA synchronous=OFF");
        db.exec("CREATE TABLE seen(key BLOB PRIMARY KEY, line INTEGER NOT NULL) WITHOUT ROWID");
        find = db.prepare("SELECT line FROM seen WHERE key = ?");
        insert = db.prepare("INSERT INTO seen(key, line) VALUES(?, ?)");
    }

    sqlite::database db;
    email_hasher hasher;
    sqlite::statement find;
    sqlite::statement insert;
    std::size_t in_batch = 0;
};

first_line_index::first_line_index() : impl_(std::make_unique<impl>()) {}

first_line_index::~first_line_index() = default;

std::size_t first_line_index::first_line(std::string_view email, std::size_t line) {
    const email_key key = impl_->hasher(email);
    const std::span<const unsigned char> bytes(key);

    impl_->find.bind(1, bytes);
    const bool seen = impl_->find.step();
    const auto first = seen ? static_cast<std::size_t>(impl_->find.integer(0)) : line;
    impl_->find.reset();
    if (seen) {
        return first;
    }

    if (impl_->in_batch == 0) {
        impl_->db.exec("BEGIN");
    }
    impl_->insert.bind(1, bytes).bind(2, static_cast<std::int64_t>(line)).run();
    if (++impl_->in_batch == impl::batch_rows) {
        impl_->db.exec("COMMIT");
        impl_->in_batch = 0;
    }
    return line;
}

}  // namespace convex_importd
