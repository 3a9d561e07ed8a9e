// The ABI's db_* functions on top of SOCI.
//
// A statement's life: db_prepare parses the SQL on the backend at once (so
// syntax errors and unknown tables are reported there) and records the
// :name parameters it holds; db_bind_* store values inside the statement
// object, at addresses that stay put; the first db_step hands those values
// to SOCI (soci::use by name), always with a dynamic soci::row as the target
// and executes. Whether a statement returns rows is the backend's answer,
// not a guess from the SQL text: SOCI describes the prepared statement
// (SQLite: sqlite3_column_count; PostgreSQL: the result's field count), so a
// SELECT, an INSERT ... RETURNING or a PRAGMA yield rows and an UPDATE yields
// none (db_step answers TRELLIS_DB_DONE at once).
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

#include "plugins/host_api.hpp"

namespace trellis::db::detail {

struct Param {
    std::string name;
    enum class Kind { Unset, Int, Real, Text, Null } kind = Kind::Unset;
    long long integer = 0;
    double real = 0;
    std::string text;
    soci::indicator indicator = soci::i_ok;
};

// A statement prepared on the backend, with the storage SOCI binds to by
// address (the parameter values, the row). It belongs to one session: a
// trellis_stmt uses it while open, the session's cache keeps it in between
// so that the same SQL is not parsed (SQLite) or prepared on the server
// (PostgreSQL: a named statement, two round trips saved) on every request.
struct Prepared {
    std::string sql;
    soci::session* session = nullptr;
    std::unique_ptr<soci::statement> statement;
    // One entry per distinct parameter name, sized at prepare time and
    // never resized: SOCI keeps pointers to these values.
    std::vector<Param> params;
    // The kinds given to soci::use by the first execution (empty before):
    // a later execution may re-bind values of these kinds, or nulls
    // (indicator), but another kind needs a statement of its own.
    std::vector<Param::Kind> bound;
    soci::row row;  // described once, by the first execution
    std::vector<std::string> names;                 // lower case, per column
    std::vector<std::optional<std::string>> texts;  // views handed out for the current row
};

// The session's idle prepared statements by SQL text, least recently used
// evicted first. A statement in use by a trellis_stmt is not in here, so it
// is never handed out twice.
struct StatementCache final : SessionCache {
    std::list<std::unique_ptr<Prepared>> lru;  // most recently used first
    std::unordered_map<std::string_view, std::list<std::unique_ptr<Prepared>>::iterator> by_sql;  // views Prepared::sql

    std::unique_ptr<Prepared> take(std::string_view sql) {
        auto it = by_sql.find(sql);
        if (it == by_sql.end()) return nullptr;
        auto prepared = std::move(*it->second);
        lru.erase(it->second);
        by_sql.erase(it);
        return prepared;
    }

    void put(std::unique_ptr<Prepared> prepared) {
        if (by_sql.contains(prepared->sql)) return;  // one idle copy per SQL is enough
        lru.push_front(std::move(prepared));
        by_sql.emplace(lru.front()->sql, lru.begin());
        if (lru.size() > kStatementCacheSize) {
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

std::string_view view(trellis_str s) noexcept { return {s.ptr ? s.ptr : "", s.len}; }
trellis_str str(std::string_view s) noexcept { return {s.data(), s.size()}; }

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

bool ident_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// The distinct :name parameters of `sql`, in order of first appearance.
// Skips quoted strings and identifiers, comments and PostgreSQL's ::casts
// the way SOCI does when it rewrites the names into placeholders.
std::vector<std::string> parameter_names(std::string_view sql) {
    std::vector<std::string> names;
    std::size_t i = 0;
    const std::size_t n = sql.size();
    while (i < n) {
        const char c = sql[i];
        if (c == '\'' || c == '"') {
            for (++i; i < n && sql[i] != c; ++i) {
            }
            ++i;
        } else if (c == '-' && i + 1 < n && sql[i + 1] == '-') {
            while (i < n && sql[i] != '\n') ++i;
        } else if (c == '/' && i + 1 < n && sql[i + 1] == '*') {
            auto end = sql.find("*/", i + 2);
            i = end == std::string_view::npos ? n : end + 2;
        } else if (c == ':' && i + 1 < n && sql[i + 1] == ':') {
            i += 2;
        } else if (c == ':' && i + 1 < n && ident_start(sql[i + 1])) {
            std::size_t j = i + 1;
            while (j < n && ident_char(sql[j])) ++j;
            std::string name(sql.substr(i + 1, j - i - 1));
            if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(std::move(name));
            i = j;
        } else {
            ++i;
        }
    }
    return names;
}

CallDb* call_db(trellis_call* call) {
    if (!call->db) {
        if (!call->database) return nullptr;
        call->db.reset(new CallDb(*call->database));
    }
    return call->db.get();
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

sqlite_api::sqlite3_stmt* native_sqlite(const CallDb& db, const Prepared& prepared);

std::atomic<std::uint64_t> prepares{0};

// A new backend statement for `sql` on `session` (parsed there at once).
std::unique_ptr<Prepared> prepare_on(soci::session& session, std::string sql) {
    auto prepared = std::make_unique<Prepared>();
    prepared->sql = std::move(sql);
    prepared->session = &session;
    for (auto& name : parameter_names(prepared->sql)) {
        Param param;
        param.name = std::move(name);
        prepared->params.push_back(std::move(param));
    }
    prepared->statement = std::make_unique<soci::statement>(session);
    prepared->statement->alloc();
    prepared->statement->prepare(prepared->sql);
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
    return prepare_on(current, std::string(sql));
}

// Ends the statement's use: its backend statement goes back to the
// session's cache, reset, unless it failed or its session is gone or broken.
void retire(CallDb& db, trellis_stmt& stmt) noexcept {
    auto prepared = std::move(stmt.prepared);
    if (!prepared || stmt.state == trellis_stmt::State::Failed || !db.lease || db.lease->discarded() ||
        prepared->session != &db.lease->session())
        return;
    try {
        if (auto* native = native_sqlite(db, *prepared)) {
            // Ends the statement's read of the database: an SQLite statement
            // that was not stepped to its end keeps a read transaction open
            // (an old snapshot, a WAL that cannot be checkpointed).
            sqlite_api::sqlite3_reset(native);
            sqlite_api::sqlite3_clear_bindings(native);
        } else if (db.database.backend() == Backend::Postgresql) {
            // The rows of the last execution stay in client memory until the
            // next one: free them now.
            if (auto* backend = static_cast<soci::postgresql_statement_backend*>(prepared->statement->get_backend()))
                backend->result_.reset();
        }
        prepared->texts.clear();
        cache_of(db)->put(std::move(prepared));
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

sqlite_api::sqlite3_stmt* native_sqlite(const CallDb& db, const Prepared& prepared) {
    if (db.database.backend() != Backend::Sqlite) return nullptr;
    auto* backend = static_cast<soci::sqlite3_statement_backend*>(prepared.statement->get_backend());
    return backend ? backend->stmt_ : nullptr;
}

sqlite_api::sqlite3_stmt* native_sqlite(trellis_stmt* stmt) { return native_sqlite(*stmt->owner, *stmt->prepared); }

bool valid_column(trellis_stmt* stmt, int index) {
    if (!stmt) return false;
    if (stmt->state != trellis_stmt::State::Row) {
        misuse(*stmt->owner, "no current row: db_step did not return TRELLIS_DB_ROW");
        return false;
    }
    if (index < 0 || static_cast<std::size_t>(index) >= stmt->prepared->row.size()) {
        misuse(*stmt->owner, "column index " + std::to_string(index) + " out of range (the row has " +
                                 std::to_string(stmt->prepared->row.size()) + " columns)");
        return false;
    }
    return true;
}

int column_type(trellis_stmt* stmt, int index) {
    const auto i = static_cast<std::size_t>(index);
    if (stmt->prepared->row.get_indicator(i) == soci::i_null) return TRELLIS_DB_NULL;
    if (auto* native = native_sqlite(stmt)) {
        // SQLite is dynamically typed and SOCI 4.0.3 types every expression
        // column (count(*), 1+1) as text: the value's own type is the truth.
        switch (sqlite_api::sqlite3_column_type(native, index)) {
            case SQLITE_INTEGER: return TRELLIS_DB_INTEGER;
            case SQLITE_FLOAT: return TRELLIS_DB_REAL;
            case SQLITE_NULL: return TRELLIS_DB_NULL;
            default: return TRELLIS_DB_TEXT;
        }
    }
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
    stmt->state = got ? trellis_stmt::State::Row : trellis_stmt::State::Done;
    stmt->prepared->texts.assign(stmt->prepared->row.size(), std::nullopt);
    if (stmt->prepared->names.size() != stmt->prepared->row.size()) {
        stmt->prepared->names.clear();
        for (std::size_t i = 0; i < stmt->prepared->row.size(); ++i) stmt->prepared->names.push_back(lower(stmt->prepared->row.get_properties(i).get_name()));
    }
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

int db_prepare(trellis_call* call, trellis_str sql, trellis_stmt** out) {
    if (out) *out = nullptr;
    if (!call || !out) return TRELLIS_DB_MISUSE;
    CallDb* db = call_db(call);
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
                const bool got = stmt->prepared->statement->fetch();
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
        if (!stmt->prepared->bound.empty() && !rebinds(*stmt->prepared)) {
            // Same SQL, other kinds of values than the cached statement was
            // bound with: a statement of its own (it replaces the cached one).
            auto fresh = prepare_on(*stmt->prepared->session, std::move(stmt->prepared->sql));
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
    return static_cast<int>(stmt->prepared->row.size());
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
        if (stmt->prepared->row.get_indicator(i) == soci::i_null) return 0;
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
        if (stmt->prepared->row.get_indicator(i) == soci::i_null) return 0;
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
        if (stmt->prepared->row.get_indicator(i) == soci::i_null) return {"", 0};
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

int db_begin(trellis_call* call) {
    if (!call) return TRELLIS_DB_MISUSE;
    CallDb* db = call_db(call);
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

int db_commit(trellis_call* call) {
    if (!call) return TRELLIS_DB_MISUSE;
    CallDb* db = call_db(call);
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

int db_rollback(trellis_call* call) {
    if (!call) return TRELLIS_DB_MISUSE;
    CallDb* db = call_db(call);
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

int db_error(trellis_call* call, trellis_str* message) {
    static constexpr std::string_view none = "no database configured";
    if (!call) return TRELLIS_DB_MISUSE;
    if (!call->db) {
        if (!call->database) {
            if (message) *message = str(none);
            return TRELLIS_DB_UNAVAILABLE;
        }
        if (message) *message = {"", 0};
        return TRELLIS_DB_OK;
    }
    if (message) *message = str(call->db->last_message);
    return call->db->last_code;
}

}  // namespace trellis::db
