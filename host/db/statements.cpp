// The ABI's db_* functions on top of SOCI.
//
// A statement's life: db_prepare parses the SQL on the backend at once (so
// syntax errors and unknown tables are reported there) and records the
// :name parameters it holds; db_bind_* store values inside the statement
// object, at addresses that stay put; the first db_step hands those values
// to the backend and executes. Whether a statement returns rows is the
// backend's answer, not a guess from the SQL text (SQLite: the statement's
// column count; PostgreSQL: the result's field count), so a SELECT, an
// INSERT ... RETURNING or a PRAGMA yield rows and an UPDATE yields none
// (db_step answers TRELLIS_DB_DONE at once).
//
// Two ways to the backend, one contract:
//  - PostgreSQL: SOCI statements (soci::use by name, a dynamic soci::row).
//  - SQLite: the SQLite C API on the connection SOCI opened. SQLite runs in
//    this process and its API is already what db_* describe (bind by name,
//    step, typed columns); SOCI's row exchange on top of it copied every
//    value into strings and back, which cost more than the query itself on
//    a point read.
//
// Nothing here throws into the caller: every function catches and turns
// failures into codes; the message is kept in the CallDb for db_error.
#include "db/statements.hpp"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <list>
#include <string_view>
#include <unordered_map>

#include <soci/soci.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include "base/text.hpp"
#include "db/sql_text.hpp"

namespace trellis::db::detail {

struct Param {
    std::string name;
    enum class Kind { Unset, Int, Real, Text, Null } kind = Kind::Unset;
    long long integer = 0;
    double real = 0;
    std::string text;
    soci::indicator indicator = soci::i_ok;
    int sqlite_index = 0;  // SQLite: the parameter's position (1-based)
};

// A statement prepared on the backend, with the storage SOCI binds to by
// address (the parameter values, the row). It belongs to one session: a
// trellis_stmt uses it while open, the session's cache keeps it in between
// so that the same SQL is not parsed (SQLite) or prepared on the server
// (PostgreSQL: a named statement, two round trips saved) on every request.
struct Prepared {
    Prepared() = default;
    Prepared(const Prepared&) = delete;
    Prepared& operator=(const Prepared&) = delete;
    ~Prepared() { sqlite_api::sqlite3_finalize(native); }

    std::string sql;
    soci::session* session = nullptr;
    sqlite_api::sqlite3_stmt* native = nullptr;   // SQLite
    std::unique_ptr<soci::statement> statement;  // PostgreSQL
    // One entry per distinct parameter name, sized at prepare time and
    // never resized: SOCI keeps pointers to these values.
    std::vector<Param> params;
    // PostgreSQL: the kinds given to soci::use by the first execution
    // (empty before): a later execution may re-bind values of these kinds,
    // or nulls (indicator), but another kind needs a statement of its own.
    std::vector<Param::Kind> bound;
    soci::row row;  // PostgreSQL: described once, by the first execution
    std::vector<std::string> names;                 // lower case, per column
    std::vector<std::optional<std::string>> texts;  // views handed out for the current row
};

// The session's idle prepared statements by SQL text, least recently used
// evicted first. A statement in use by a trellis_stmt is not in here, so it
// is never handed out twice.
struct StatementCache final : SessionCache {
    std::list<std::unique_ptr<Prepared>> lru;  // most recently used first
    std::unordered_map<std::string_view, std::list<std::unique_ptr<Prepared>>::iterator> by_sql;  // views Prepared::sql
    // SQLite statements retired while on a row, not reset yet (see retire()).
    std::vector<sqlite_api::sqlite3_stmt*> parked;

    void settle() noexcept override {
        for (auto* native : parked) sqlite_api::sqlite3_reset(native);
        parked.clear();
    }

    std::unique_ptr<Prepared> take(std::string_view sql) {
        auto it = by_sql.find(sql);
        if (it == by_sql.end()) return nullptr;
        auto prepared = std::move(*it->second);
        std::erase(parked, prepared->native);
        lru.erase(it->second);
        by_sql.erase(it);
        return prepared;
    }

    void put(std::unique_ptr<Prepared> prepared) {
        if (by_sql.contains(prepared->sql)) return;  // one idle copy per SQL is enough (retire() checks first)
        lru.push_front(std::move(prepared));
        by_sql.emplace(lru.front()->sql, lru.begin());
        if (lru.size() > kStatementCacheSize) {
            std::erase(parked, lru.back()->native);  // finalized next: never reset it after
            by_sql.erase(lru.back()->sql);
            lru.pop_back();
        }
    }
};

}  // namespace trellis::db::detail

struct trellis_stmt {
    trellis::db::CallDb* owner = nullptr;
    std::unique_ptr<trellis::db::detail::Prepared> prepared;
    enum class State { Prepared, Row, Done, Failed } state = State::Prepared;
    long long affected = 0;
};

namespace trellis::db {
namespace {

using detail::Param;
using detail::Prepared;
using detail::StatementCache;


std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

int record(CallDb& db, int code, std::string message) {
    db.last_code = code;
    db.last_message = std::move(message);
    return code;
}

// Whether the session's connection is gone (PostgreSQL only: an SQLite
// connection cannot break).
bool connection_lost(CallDb& db) noexcept {
    if (db.database.backend() != Backend::Postgresql || !db.lease) return false;
    auto* backend = static_cast<soci::postgresql_session_backend*>(db.lease->session().get_backend());
    return !backend || PQstatus(backend->conn_) != CONNECTION_OK;
}

// Maps the exception being handled to a code, stores it with its message,
// and discards the lease when the connection broke so that the next
// request reconnects.
int fail(CallDb& db) noexcept {
    try {
        throw;
    } catch (const Unavailable& e) {
        return record(db, TRELLIS_DB_UNAVAILABLE, e.what());
    } catch (const soci::postgresql_soci_error& e) {
        const std::string state = e.sqlstate();
        int code = TRELLIS_DB_ERROR;
        if (connection_lost(db) || state.starts_with("08") || state == "57P01" || state == "57P02" || state == "57P03") {
            code = TRELLIS_DB_UNAVAILABLE;
            if (db.lease) db.lease->discard();
        } else if (state.starts_with("23")) {
            code = TRELLIS_DB_CONSTRAINT;
        }
        return record(db, code, e.what());
    } catch (const soci::sqlite3_soci_error& e) {
        int code = TRELLIS_DB_ERROR;
        switch (e.result() & 0xff) {
            case 19:  // SQLITE_CONSTRAINT
                code = TRELLIS_DB_CONSTRAINT;
                break;
            case 5:   // SQLITE_BUSY: another connection held the write lock past the busy timeout
            case 6:   // SQLITE_LOCKED
            case 10:  // SQLITE_IOERR
            case 13:  // SQLITE_FULL
            case 14:  // SQLITE_CANTOPEN
                code = TRELLIS_DB_UNAVAILABLE;
                break;
            default:
                if (std::string_view(e.what()).find("constraint failed") != std::string_view::npos)
                    code = TRELLIS_DB_CONSTRAINT;
        }
        return record(db, code, e.what());
    } catch (const soci::soci_error& e) {
        int code = TRELLIS_DB_ERROR;
        if (e.get_error_category() == soci::soci_error::connection_error || connection_lost(db)) {
            code = TRELLIS_DB_UNAVAILABLE;
            if (db.lease) db.lease->discard();
        } else if (e.get_error_category() == soci::soci_error::constraint_violation ||
                   std::string_view(e.what()).find("constraint failed") != std::string_view::npos) {
            code = TRELLIS_DB_CONSTRAINT;
        }
        return record(db, code, e.what());
    } catch (const std::exception& e) {
        return record(db, TRELLIS_DB_ERROR, e.what());
    } catch (...) {
        return record(db, TRELLIS_DB_ERROR, "unknown error");
    }
}

int misuse(CallDb& db, std::string message) { return record(db, TRELLIS_DB_MISUSE, std::move(message)); }

int no_database() { return TRELLIS_DB_UNAVAILABLE; }

// The call's session, leased on first use.
soci::session& session(CallDb& db) {
    if (!db.lease) db.lease.emplace(db.database.acquire());
    return db.lease->session();
}

std::atomic<std::uint64_t> prepares{0};


// An SQLite failure as SOCI reports them, so that fail() maps it.
[[noreturn]] void throw_sqlite(sqlite_api::sqlite3* conn, int rc, std::string_view context) {
    throw soci::sqlite3_soci_error(std::string(context) + ": " + sqlite_api::sqlite3_errmsg(conn), rc);
}

// A new backend statement for `sql` on `session` (parsed there at once).
std::unique_ptr<Prepared> prepare_on(soci::session& session, Backend backend, std::string sql) {
    auto prepared = std::make_unique<Prepared>();
    prepared->sql = std::move(sql);
    prepared->session = &session;
    for (auto& name : parameter_names(prepared->sql)) {
        Param param;
        param.name = std::move(name);
        prepared->params.push_back(std::move(param));
    }
    if (backend == Backend::Sqlite) {
        auto* conn = static_cast<soci::sqlite3_session_backend*>(session.get_backend())->conn_;
        // PERSISTENT: the statement lives in the session's cache for long.
        const char* tail = nullptr;
        const int rc = sqlite_api::sqlite3_prepare_v3(conn, prepared->sql.data(), static_cast<int>(prepared->sql.size()),
                                                      SQLITE_PREPARE_PERSISTENT, &prepared->native, &tail);
        if (rc != SQLITE_OK) throw_sqlite(conn, rc, "preparing \"" + prepared->sql + "\"");
        if (!prepared->native) throw std::invalid_argument("the SQL holds no statement (only comments)");
        // SQLite would run the first statement and ignore the rest; PostgreSQL
        // refuses several commands in a prepared statement. Refuse on both.
        const std::string_view rest(tail, static_cast<std::size_t>(prepared->sql.data() + prepared->sql.size() - tail));
        if (!split_statements(rest).empty())
            throw std::invalid_argument("db_prepare takes one SQL statement; more follows: \"" + std::string(rest) + "\"");
        for (Param& param : prepared->params)
            param.sqlite_index = sqlite_api::sqlite3_bind_parameter_index(prepared->native, (":" + param.name).c_str());
    } else {
        prepared->statement = std::make_unique<soci::statement>(session);
        prepared->statement->alloc();
        prepared->statement->prepare(prepared->sql);
    }
    prepares.fetch_add(1, std::memory_order_relaxed);
    return prepared;
}

StatementCache* cache_of(CallDb& db) {
    auto& slot = db.lease->cache();
    if (!slot) slot = std::make_unique<StatementCache>();
    return static_cast<StatementCache*>(slot.get());
}

// The statement for `sql` on the call's session: an idle one from the
// session's cache, else a new one.
std::unique_ptr<Prepared> prepare(CallDb& db, std::string_view sql) {
    soci::session& current = session(db);
    if (auto prepared = cache_of(db)->take(sql)) {
        for (Param& param : prepared->params) param.kind = Param::Kind::Unset;
        return prepared;
    }
    return prepare_on(current, db.database.backend(), std::string(sql));
}

// Ends the statement's use: its backend statement goes back to the
// session's cache, reset, unless it failed or its session is gone or broken.
void retire(CallDb& db, trellis_stmt& stmt) noexcept {
    auto prepared = std::move(stmt.prepared);
    if (!prepared || stmt.state == trellis_stmt::State::Failed || !db.lease || db.lease->discarded() ||
        prepared->session != &db.lease->session())
        return;
    try {
        StatementCache* cache = cache_of(db);
        if (cache->by_sql.contains(prepared->sql)) return;  // one idle copy per SQL is enough: finalized here
        auto* native = prepared->native;
        // An SQLite statement that was not stepped to its end keeps a read
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
        const bool park = native && stmt.state == trellis_stmt::State::Row &&
                          sqlite_api::sqlite3_stmt_readonly(native) && !db.in_transaction;
        if (park) {
            cache->parked.reserve(cache->parked.size() + 1);  // so that parking below cannot throw
        } else if (native) {
            sqlite_api::sqlite3_reset(native);
        } else if (auto* backend = static_cast<soci::postgresql_statement_backend*>(prepared->statement->get_backend())) {
            // PostgreSQL: the rows of the last execution stay in client
            // memory until the next one: free them now.
            backend->result_.reset();
        }
        prepared->texts.clear();
        cache->put(std::move(prepared));  // if this throws, the statement is finalized and was never parked
        if (park) cache->parked.push_back(native);
    } catch (...) {
        // Not cached, then: destroyed here.
    }
}

// Whether the last failure was a lost connection that a fresh session may
// fix: only safe to retry when nothing of this call depends on the old
// session (no transaction, no other statement).
bool may_reconnect(const CallDb& db) {
    return db.last_code == TRELLIS_DB_UNAVAILABLE && db.lease && !db.in_transaction && db.statements.empty();
}

void renew_lease(CallDb& db) {
    db.lease->discard();
    db.lease.reset();
}

sqlite_api::sqlite3_stmt* native_sqlite(trellis_stmt* stmt) { return stmt->prepared->native; }

// Columns of the statement's rows.
std::size_t column_total(const Prepared& prepared) {
    return prepared.native ? static_cast<std::size_t>(sqlite_api::sqlite3_column_count(prepared.native))
                           : prepared.row.size();
}

bool is_null(trellis_stmt* stmt, int index) {
    if (auto* native = native_sqlite(stmt)) return sqlite_api::sqlite3_column_type(native, index) == SQLITE_NULL;
    return stmt->prepared->row.get_indicator(static_cast<std::size_t>(index)) == soci::i_null;
}

bool valid_column(trellis_stmt* stmt, int index) {
    if (!stmt) return false;
    if (stmt->state != trellis_stmt::State::Row) {
        misuse(*stmt->owner, "no current row: db_step did not return TRELLIS_DB_ROW");
        return false;
    }
    if (index < 0 || static_cast<std::size_t>(index) >= column_total(*stmt->prepared)) {
        misuse(*stmt->owner, "column index " + std::to_string(index) + " out of range (the row has " +
                                 std::to_string(column_total(*stmt->prepared)) + " columns)");
        return false;
    }
    return true;
}

int column_type(trellis_stmt* stmt, int index) {
    const auto i = static_cast<std::size_t>(index);
    if (auto* native = native_sqlite(stmt)) {
        // SQLite is dynamically typed: the value's own type is the truth.
        switch (sqlite_api::sqlite3_column_type(native, index)) {
            case SQLITE_INTEGER: return TRELLIS_DB_INTEGER;
            case SQLITE_FLOAT: return TRELLIS_DB_REAL;
            case SQLITE_NULL: return TRELLIS_DB_NULL;
            default: return TRELLIS_DB_TEXT;
        }
    }
    if (stmt->prepared->row.get_indicator(i) == soci::i_null) return TRELLIS_DB_NULL;
    switch (stmt->prepared->row.get_properties(i).get_data_type()) {
        case soci::dt_integer:
        case soci::dt_long_long:
        case soci::dt_unsigned_long_long: return TRELLIS_DB_INTEGER;
        case soci::dt_double: return TRELLIS_DB_REAL;
        default: return TRELLIS_DB_TEXT;
    }
}

std::string format_real(double value) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.17g", value);
    // Shortest text that reads back the same value.
    for (int precision = 1; precision < 17; ++precision) {
        char shorter[32];
        std::snprintf(shorter, sizeof shorter, "%.*g", precision, value);
        if (std::strtod(shorter, nullptr) == value) return shorter;
    }
    return buffer;
}

std::string column_as_text(trellis_stmt* stmt, int index) {
    const auto i = static_cast<std::size_t>(index);
    if (auto* native = native_sqlite(stmt)) {
        if (sqlite_api::sqlite3_column_type(native, index) == SQLITE_FLOAT)
            return format_real(sqlite_api::sqlite3_column_double(native, index));
        const auto* text = reinterpret_cast<const char*>(sqlite_api::sqlite3_column_text(native, index));
        return text ? std::string(text, static_cast<std::size_t>(sqlite_api::sqlite3_column_bytes(native, index))) : std::string();
    }
    switch (stmt->prepared->row.get_properties(i).get_data_type()) {
        case soci::dt_string:
        case soci::dt_xml:
        case soci::dt_blob: return stmt->prepared->row.get<std::string>(i);
        case soci::dt_integer: return std::to_string(stmt->prepared->row.get<int>(i));
        case soci::dt_long_long: return std::to_string(stmt->prepared->row.get<long long>(i));
        case soci::dt_unsigned_long_long: return std::to_string(stmt->prepared->row.get<unsigned long long>(i));
        case soci::dt_double: return format_real(stmt->prepared->row.get<double>(i));
        case soci::dt_date: {
            const std::tm tm = stmt->prepared->row.get<std::tm>(i);
            char buffer[32];
            std::strftime(buffer, sizeof buffer, "%Y-%m-%d %H:%M:%S", &tm);
            return buffer;
        }
    }
    return {};
}

// Readies the statement for the next row: views of the previous one die.
void new_row(trellis_stmt* stmt, bool got) {
    Prepared& prepared = *stmt->prepared;
    stmt->state = got ? trellis_stmt::State::Row : trellis_stmt::State::Done;
    const std::size_t columns = column_total(prepared);
    prepared.texts.assign(columns, std::nullopt);
    if (prepared.names.size() != columns) {
        prepared.names.clear();
        for (std::size_t i = 0; i < columns; ++i) {
            if (prepared.native) {
                const char* name = sqlite_api::sqlite3_column_name(prepared.native, static_cast<int>(i));
                prepared.names.push_back(lower(name ? name : ""));
            } else {
                prepared.names.push_back(lower(prepared.row.get_properties(i).get_name()));
            }
        }
    }
}

// SQLite: binds the values and runs the statement to its first row.
bool execute_sqlite(trellis_stmt* stmt) {
    Prepared& prepared = *stmt->prepared;
    auto* native = prepared.native;
    auto* conn = sqlite_api::sqlite3_db_handle(native);
    sqlite_api::sqlite3_reset(native);
    for (const Param& param : prepared.params) {
        if (param.sqlite_index == 0) continue;  // not a parameter to SQLite (say, inside a string it parses otherwise)
        int rc = SQLITE_OK;
        switch (param.kind) {
            case Param::Kind::Int: rc = sqlite_api::sqlite3_bind_int64(native, param.sqlite_index, param.integer); break;
            case Param::Kind::Real: rc = sqlite_api::sqlite3_bind_double(native, param.sqlite_index, param.real); break;
            case Param::Kind::Text:
                // The text lives in the Param, unchanged until the statement is reset.
                rc = sqlite_api::sqlite3_bind_text64(native, param.sqlite_index, param.text.data(), param.text.size(),
                                                     SQLITE_STATIC, SQLITE_UTF8);
                break;
            case Param::Kind::Null:
            case Param::Kind::Unset: rc = sqlite_api::sqlite3_bind_null(native, param.sqlite_index); break;
        }
        if (rc != SQLITE_OK) throw_sqlite(conn, rc, "binding :" + param.name);
    }
    const int rc = sqlite_api::sqlite3_step(native);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) throw_sqlite(conn, rc, "executing \"" + prepared.sql + "\"");
    // Right away: SQLite counts changes per connection, and only for
    // statements that write.
    stmt->affected = sqlite_api::sqlite3_stmt_readonly(native) ? 0 : sqlite_api::sqlite3_changes64(conn);
    return rc == SQLITE_ROW;
}

bool fetch_sqlite(trellis_stmt* stmt) {
    auto* native = stmt->prepared->native;
    const int rc = sqlite_api::sqlite3_step(native);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        throw_sqlite(sqlite_api::sqlite3_db_handle(native), rc, "executing \"" + stmt->prepared->sql + "\"");
    return rc == SQLITE_ROW;
}

// Whether the statement, bound before, takes the current values as they
// are: each of the same kind as at its first execution, or null (any kind
// takes a null through its indicator).
bool rebinds(const Prepared& prepared) {
    for (std::size_t i = 0; i < prepared.params.size(); ++i) {
        const auto kind = prepared.params[i].kind;
        if (kind != Param::Kind::Null && kind != prepared.bound[i]) return false;
    }
    return true;
}

int bind(trellis_stmt* stmt, trellis_str name, auto&& assign) {
    if (!stmt) return TRELLIS_DB_MISUSE;
    CallDb& db = *stmt->owner;
    try {
        if (stmt->state != trellis_stmt::State::Prepared)
            return misuse(db, "bind parameters before the first db_step");
        std::string_view wanted = view(name);
        if (!wanted.empty() && wanted.front() == ':') wanted.remove_prefix(1);
        for (Param& param : stmt->prepared->params) {
            if (param.name == wanted) {
                assign(param);
                return TRELLIS_DB_OK;
            }
        }
        return misuse(db, "the statement has no parameter :" + std::string(wanted));
    } catch (...) {
        return fail(db);
    }
}

}  // namespace

CallDb::CallDb(Database& db) : database(db) {}

CallDb::~CallDb() {
    // Finalizes, before the session they use goes back.
    for (auto& stmt : statements) retire(*this, *stmt);
    statements.clear();
    if (in_transaction && lease) {
        try {
            lease->session().rollback();
        } catch (...) {
            // The session's state is unknown: reconnect it before next use.
            lease->discard();
        }
    }
    in_transaction = false;
    lease.reset();
}

int db_prepare(CallDb* db, trellis_str sql, trellis_stmt** out) {
    if (out) *out = nullptr;
    if (!out) return TRELLIS_DB_MISUSE;
    if (!db) return no_database();
    try {
        const std::string_view text = view(sql);
        if (text.find_first_not_of(" \t\r\n;") == std::string_view::npos) return misuse(*db, "empty SQL statement");
        auto stmt = std::make_unique<trellis_stmt>();
        stmt->owner = db;
        try {
            stmt->prepared = prepare(*db, text);
        } catch (...) {
            fail(*db);
            // A pooled connection that died while idle (say, the server
            // restarted): preparing has no side effects, so try once more on
            // a fresh connection instead of failing this request.
            if (!may_reconnect(*db)) return db->last_code;
            renew_lease(*db);
            stmt->prepared = prepare(*db, text);
        }
        *out = db->statements.emplace_back(std::move(stmt)).get();
        return TRELLIS_DB_OK;
    } catch (...) {
        return fail(*db);
    }
}

int db_bind_int(trellis_stmt* stmt, trellis_str name, int64_t value) {
    return bind(stmt, name, [&](Param& p) {
        p.kind = Param::Kind::Int;
        p.integer = value;
        p.indicator = soci::i_ok;
    });
}

int db_bind_real(trellis_stmt* stmt, trellis_str name, double value) {
    if (stmt && !std::isfinite(value)) return misuse(*stmt->owner, "cannot bind a NaN or infinite value");
    return bind(stmt, name, [&](Param& p) {
        p.kind = Param::Kind::Real;
        p.real = value;
        p.indicator = soci::i_ok;
    });
}

int db_bind_text(trellis_stmt* stmt, trellis_str name, trellis_str value) {
    return bind(stmt, name, [&](Param& p) {
        p.kind = Param::Kind::Text;
        p.text.assign(view(value));
        p.indicator = soci::i_ok;
    });
}

int db_bind_null(trellis_stmt* stmt, trellis_str name) {
    return bind(stmt, name, [&](Param& p) {
        p.kind = Param::Kind::Null;
        p.text.clear();
        p.indicator = soci::i_null;
    });
}

int db_step(trellis_stmt* stmt) {
    if (!stmt) return TRELLIS_DB_MISUSE;
    CallDb& db = *stmt->owner;
    try {
        switch (stmt->state) {
            case trellis_stmt::State::Done: return TRELLIS_DB_DONE;
            case trellis_stmt::State::Failed: return misuse(db, "the statement failed before: prepare it again");
            case trellis_stmt::State::Row: {
                stmt->prepared->texts.clear();
                const bool got = stmt->prepared->native ? fetch_sqlite(stmt) : stmt->prepared->statement->fetch();
                new_row(stmt, got);
                return got ? TRELLIS_DB_ROW : TRELLIS_DB_DONE;
            }
            case trellis_stmt::State::Prepared: break;
        }
        for (const Param& param : stmt->prepared->params) {
            if (param.kind == Param::Kind::Unset) {
                stmt->state = trellis_stmt::State::Failed;
                return misuse(db, "parameter :" + param.name + " is not bound");
            }
        }
        if (stmt->prepared->native) {
            const bool got = execute_sqlite(stmt);
            new_row(stmt, got);
            return got ? TRELLIS_DB_ROW : TRELLIS_DB_DONE;
        }
        if (!stmt->prepared->bound.empty() && !rebinds(*stmt->prepared)) {
            // Same SQL, other kinds of values than the cached statement was
            // bound with: a statement of its own (it replaces the cached one).
            auto fresh = prepare_on(*stmt->prepared->session, Backend::Postgresql, std::move(stmt->prepared->sql));
            for (std::size_t i = 0; i < fresh->params.size(); ++i) fresh->params[i] = std::move(stmt->prepared->params[i]);
            stmt->prepared = std::move(fresh);
        }
        Prepared& prepared = *stmt->prepared;
        if (prepared.bound.empty()) {
            for (Param& param : prepared.params) {
                switch (param.kind) {
                    case Param::Kind::Int: prepared.statement->exchange(soci::use(param.integer, param.indicator, param.name)); break;
                    case Param::Kind::Real: prepared.statement->exchange(soci::use(param.real, param.indicator, param.name)); break;
                    case Param::Kind::Text:
                    case Param::Kind::Null:
                    case Param::Kind::Unset: prepared.statement->exchange(soci::use(param.text, param.indicator, param.name)); break;
                }
                prepared.bound.push_back(param.kind);
            }
            prepared.statement->exchange(soci::into(prepared.row));
            prepared.statement->define_and_bind();
            // No parameters at all: still marks the statement as bound.
            if (prepared.bound.empty()) prepared.bound.push_back(Param::Kind::Unset);
        }
        const bool got = prepared.statement->execute(true);
        // Right away: SQLite counts changes per connection, not per statement.
        stmt->affected = std::max(0LL, stmt->prepared->statement->get_affected_rows());
        new_row(stmt, got);
        return got ? TRELLIS_DB_ROW : TRELLIS_DB_DONE;
    } catch (...) {
        stmt->state = trellis_stmt::State::Failed;
        stmt->prepared->texts.clear();
        return fail(db);
    }
}

int db_column_count(trellis_stmt* stmt) {
    if (!stmt || stmt->state == trellis_stmt::State::Prepared || stmt->state == trellis_stmt::State::Failed) return 0;
    return static_cast<int>(column_total(*stmt->prepared));
}

trellis_str db_column_name(trellis_stmt* stmt, int index) {
    if (!stmt || stmt->state == trellis_stmt::State::Prepared || stmt->state == trellis_stmt::State::Failed) return {"", 0};
    if (index < 0 || static_cast<std::size_t>(index) >= stmt->prepared->names.size()) {
        misuse(*stmt->owner, "column index " + std::to_string(index) + " out of range");
        return {"", 0};
    }
    return str(stmt->prepared->names[static_cast<std::size_t>(index)]);
}

int db_column_index(trellis_stmt* stmt, trellis_str name) {
    if (!stmt) return -1;
    for (std::size_t i = 0; i < stmt->prepared->names.size(); ++i) {
        if (iequals(stmt->prepared->names[i], view(name))) return static_cast<int>(i);
    }
    return -1;
}

int db_column_type(trellis_stmt* stmt, int index) {
    if (!valid_column(stmt, index)) return TRELLIS_DB_NULL;
    try {
        return column_type(stmt, index);
    } catch (...) {
        fail(*stmt->owner);
        return TRELLIS_DB_NULL;
    }
}

int64_t db_column_int(trellis_stmt* stmt, int index) {
    if (!valid_column(stmt, index)) return 0;
    try {
        const auto i = static_cast<std::size_t>(index);
        if (is_null(stmt, index)) return 0;
        if (auto* native = native_sqlite(stmt)) return sqlite_api::sqlite3_column_int64(native, index);
        switch (stmt->prepared->row.get_properties(i).get_data_type()) {
            case soci::dt_integer: return stmt->prepared->row.get<int>(i);
            case soci::dt_long_long: return stmt->prepared->row.get<long long>(i);
            case soci::dt_unsigned_long_long: return static_cast<int64_t>(stmt->prepared->row.get<unsigned long long>(i));
            case soci::dt_double: {
                const double d = stmt->prepared->row.get<double>(i);
                return std::isfinite(d) ? static_cast<int64_t>(d) : 0;
            }
            default: {
                const std::string text = column_as_text(stmt, index);
                return std::strtoll(text.c_str(), nullptr, 10);
            }
        }
    } catch (...) {
        fail(*stmt->owner);
        return 0;
    }
}

double db_column_real(trellis_stmt* stmt, int index) {
    if (!valid_column(stmt, index)) return 0;
    try {
        const auto i = static_cast<std::size_t>(index);
        if (is_null(stmt, index)) return 0;
        if (auto* native = native_sqlite(stmt)) return sqlite_api::sqlite3_column_double(native, index);
        switch (stmt->prepared->row.get_properties(i).get_data_type()) {
            case soci::dt_integer: return stmt->prepared->row.get<int>(i);
            case soci::dt_long_long: return static_cast<double>(stmt->prepared->row.get<long long>(i));
            case soci::dt_unsigned_long_long: return static_cast<double>(stmt->prepared->row.get<unsigned long long>(i));
            case soci::dt_double: return stmt->prepared->row.get<double>(i);
            default: {
                const std::string text = column_as_text(stmt, index);
                return std::strtod(text.c_str(), nullptr);
            }
        }
    } catch (...) {
        fail(*stmt->owner);
        return 0;
    }
}

trellis_str db_column_text(trellis_stmt* stmt, int index) {
    if (!valid_column(stmt, index)) return {"", 0};
    try {
        const auto i = static_cast<std::size_t>(index);
        if (is_null(stmt, index)) return {"", 0};
        if (auto* native = native_sqlite(stmt); native && sqlite_api::sqlite3_column_type(native, index) != SQLITE_FLOAT) {
            // SQLite's own text of the value: valid until the next step,
            // reset or finalize, which is the view's lifetime in abi.h.
            const auto* text = reinterpret_cast<const char*>(sqlite_api::sqlite3_column_text(native, index));
            return text ? trellis_str{text, static_cast<std::size_t>(sqlite_api::sqlite3_column_bytes(native, index))}
                        : trellis_str{"", 0};
        }
        auto& cached = stmt->prepared->texts[i];
        if (!cached) cached = column_as_text(stmt, index);
        return str(*cached);
    } catch (...) {
        fail(*stmt->owner);
        return {"", 0};
    }
}

int64_t db_rows_affected(trellis_stmt* stmt) { return stmt ? stmt->affected : 0; }

void db_finalize(trellis_stmt* stmt) {
    if (!stmt) return;
    auto& owned = stmt->owner->statements;
    auto it = std::find_if(owned.begin(), owned.end(), [&](const auto& p) { return p.get() == stmt; });
    if (it == owned.end()) return;
    retire(*stmt->owner, *stmt);
    owned.erase(it);
}

std::uint64_t backend_prepares() noexcept { return prepares.load(std::memory_order_relaxed); }

int db_begin(CallDb* db) {
    if (!db) return no_database();
    if (db->in_transaction) return misuse(*db, "a transaction is already open (transactions do not nest)");
    auto begin = [&] {
        // SQLite: take the write lock now (IMMEDIATE), so that a transaction
        // that reads then writes cannot fail half-way with SQLITE_BUSY; the
        // busy timeout makes concurrent writers queue instead.
        if (db->database.backend() == Backend::Sqlite)
            session(*db) << "BEGIN IMMEDIATE";
        else
            session(*db).begin();
    };
    try {
        try {
            begin();
        } catch (...) {
            fail(*db);
            if (!may_reconnect(*db)) return db->last_code;
            renew_lease(*db);
            begin();
        }
        db->in_transaction = true;
        return TRELLIS_DB_OK;
    } catch (...) {
        return fail(*db);
    }
}

int db_commit(CallDb* db) {
    if (!db) return no_database();
    if (!db->in_transaction || !db->lease) return misuse(*db, "db_commit without db_begin");
    try {
        db->lease->session().commit();
        db->in_transaction = false;
        return TRELLIS_DB_OK;
    } catch (...) {
        // A failed COMMIT (a deferred constraint, say) ends the transaction:
        // make sure nothing of it stays open on a pooled session.
        const int code = fail(*db);
        try {
            db->lease->session().rollback();
        } catch (...) {
            if (db->database.backend() == Backend::Sqlite) db->lease->discard();
        }
        db->in_transaction = false;
        return code;
    }
}

int db_rollback(CallDb* db) {
    if (!db) return no_database();
    if (!db->in_transaction || !db->lease) return misuse(*db, "db_rollback without db_begin");
    db->in_transaction = false;
    try {
        db->lease->session().rollback();
        return TRELLIS_DB_OK;
    } catch (...) {
        const int code = fail(*db);
        db->lease->discard();
        return code;
    }
}

int db_error(const CallDb* db, trellis_str* message) {
    static constexpr std::string_view none = "no database configured";
    if (!db) {
        if (message) *message = str(none);
        return TRELLIS_DB_UNAVAILABLE;
    }
    if (message) *message = str(db->last_message);
    return db->last_code;
}

}  // namespace trellis::db
