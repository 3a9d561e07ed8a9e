// Statements on SQLite through its C API, on the connection SOCI opened.
// SQLite runs in this process and its API is already what db_* describe
// (bind by name, step, typed columns); SOCI's row exchange on top of it
// copied every value into strings and back, which cost more than the query
// itself on a point read.
#include <stdexcept>

#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include "db/backend_statement.hpp"
#include "db/sql_text.hpp"

namespace trellis::db::detail {
namespace {

// An SQLite failure as SOCI reports them, so that the caller maps both
// backends' failures in one place.
[[noreturn]] void throw_sqlite(sqlite_api::sqlite3* conn, int rc, std::string_view context) {
    throw soci::sqlite3_soci_error(std::string(context) + ": " + sqlite_api::sqlite3_errmsg(conn), rc);
}

class SqliteStatement final : public BackendStatement {
public:
    SqliteStatement(soci::session& on, std::string text) : BackendStatement(on, std::move(text)) {
        auto* conn = static_cast<soci::sqlite3_session_backend*>(on.get_backend())->conn_;
        // PERSISTENT: the statement lives in the session's cache for long.
        const char* tail = nullptr;
        const int rc = sqlite_api::sqlite3_prepare_v3(conn, sql.data(), static_cast<int>(sql.size()),
                                                      SQLITE_PREPARE_PERSISTENT, &native_, &tail);
        if (rc != SQLITE_OK) throw_sqlite(conn, rc, "preparing \"" + sql + "\"");
        if (!native_) throw std::invalid_argument("the SQL holds no statement (only comments)");
        // SQLite would run the first statement and ignore the rest;
        // PostgreSQL refuses several commands in a prepared statement.
        // Refuse on both.
        const std::string_view rest(tail, static_cast<std::size_t>(sql.data() + sql.size() - tail));
        if (!split_statements(rest).empty()) {
            // No destructor runs for a constructor that throws: an unfinalized
            // statement would keep the connection from closing (a leak).
            sqlite_api::sqlite3_finalize(native_);
            native_ = nullptr;
            throw std::invalid_argument("db_prepare takes one SQL statement; more follows: \"" + std::string(rest) + "\"");
        }
        for (Param& param : params)
            param.position = sqlite_api::sqlite3_bind_parameter_index(native_, (":" + param.name).c_str());
    }

    ~SqliteStatement() override { sqlite_api::sqlite3_finalize(native_); }

    bool execute(long long& affected) override {
        auto* conn = sqlite_api::sqlite3_db_handle(native_);
        sqlite_api::sqlite3_reset(native_);
        for (const Param& param : params) {
            if (param.position == 0) continue;  // not a parameter to SQLite (say, inside a string it parses otherwise)
            int rc = SQLITE_OK;
            switch (param.kind) {
                case Param::Kind::Int: rc = sqlite_api::sqlite3_bind_int64(native_, param.position, param.integer); break;
                case Param::Kind::Real: rc = sqlite_api::sqlite3_bind_double(native_, param.position, param.real); break;
                case Param::Kind::Text:
                    // The text lives in the Param, unchanged until the statement is reset.
                    rc = sqlite_api::sqlite3_bind_text64(native_, param.position, param.text.data(), param.text.size(),
                                                         SQLITE_STATIC, SQLITE_UTF8);
                    break;
                case Param::Kind::Null:
                case Param::Kind::Unset: rc = sqlite_api::sqlite3_bind_null(native_, param.position); break;
            }
            if (rc != SQLITE_OK) throw_sqlite(conn, rc, "binding :" + param.name);
        }
        const bool got = step();
        // Right away: SQLite counts changes per connection, and only for
        // statements that write.
        affected = sqlite_api::sqlite3_stmt_readonly(native_) ? 0 : sqlite_api::sqlite3_changes64(conn);
        return got;
    }

    bool fetch() override { return step(); }

    int column_type(int index) override {
        // SQLite is dynamically typed: the value's own type is the truth.
        switch (sqlite_api::sqlite3_column_type(native_, index)) {
            case SQLITE_INTEGER: return TRELLIS_DB_INTEGER;
            case SQLITE_FLOAT: return TRELLIS_DB_REAL;
            case SQLITE_NULL: return TRELLIS_DB_NULL;
            default: return TRELLIS_DB_TEXT;
        }
    }

    std::int64_t column_int(int index) override { return sqlite_api::sqlite3_column_int64(native_, index); }
    double column_real(int index) override { return sqlite_api::sqlite3_column_double(native_, index); }

    trellis_str column_text(int index) override {
        switch (sqlite_api::sqlite3_column_type(native_, index)) {
            case SQLITE_NULL: return {"", 0};
            case SQLITE_FLOAT: {
                // SQLite's own text of a real is not the shortest one.
                auto& kept = texts[static_cast<std::size_t>(index)];
                if (!kept) kept = format_real(sqlite_api::sqlite3_column_double(native_, index));
                return {kept->data(), kept->size()};
            }
            default: {
                // SQLite's own text of the value: valid until the next step,
                // reset or finalize, which is the view's lifetime in abi.h.
                const auto* text = reinterpret_cast<const char*>(sqlite_api::sqlite3_column_text(native_, index));
                return text ? trellis_str{text, static_cast<std::size_t>(sqlite_api::sqlite3_column_bytes(native_, index))}
                            : trellis_str{"", 0};
            }
        }
    }

    bool retire(bool on_row, bool in_transaction) noexcept override {
        // A statement that was not stepped to its end keeps a read
        // transaction open (a snapshot). Reset now, a writer would hold its
        // lock, and any statement would pin that snapshot while the session
        // sits idle. A reader that stopped on a row (a point read) is parked
        // instead: its read lock then stays taken until the session's next
        // lease or the pool's settling of idle sessions
        // (Database::kSettleInterval) resets it. While worker threads
        // overlap, some session always holds the shared read lock, and
        // SQLite takes and drops it in the operating system (two fcntl
        // calls, under a process-wide mutex) only when the first reader
        // comes and the last one goes: resetting every read at once cost 7%
        // of point-read throughput on two threads.
        if (on_row && sqlite_api::sqlite3_stmt_readonly(native_) && !in_transaction) return true;
        sqlite_api::sqlite3_reset(native_);
        return false;
    }

    void settle() noexcept override { sqlite_api::sqlite3_reset(native_); }

private:
    bool step() {
        const int rc = sqlite_api::sqlite3_step(native_);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
            throw_sqlite(sqlite_api::sqlite3_db_handle(native_), rc, "executing \"" + sql + "\"");
        describe(static_cast<std::size_t>(sqlite_api::sqlite3_column_count(native_)), [&](std::size_t i) {
            const char* name = sqlite_api::sqlite3_column_name(native_, static_cast<int>(i));
            return std::string_view(name ? name : "");
        });
        return rc == SQLITE_ROW;
    }

    sqlite_api::sqlite3_stmt* native_ = nullptr;  // owned: finalized by the destructor
};

}  // namespace

std::unique_ptr<BackendStatement> prepare_sqlite(soci::session& session, std::string sql) {
    auto statement = std::make_unique<SqliteStatement>(session, std::move(sql));
    count_backend_prepare();
    return statement;
}

}  // namespace trellis::db::detail
