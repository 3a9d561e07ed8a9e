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
// This file keeps the contract: the statement's states, the checks, the
// session's cache of prepared statements, reconnecting, transactions and
// the mapping of failures to codes. The backends run the statements
// (backend_statement.hpp: sqlite_statement.cpp, soci_statement.cpp).
//
// Nothing here throws into the caller: every function catches and turns
// failures into codes; the message is kept in the CallDb for db_error.
#include "db/statements.hpp"

#include <algorithm>
#include <cmath>
#include <list>
#include <string_view>
#include <unordered_map>

#include <soci/soci.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include "base/text.hpp"
#include "db/backend_statement.hpp"

namespace trellis::db::detail {

// The session's idle prepared statements by SQL text, least recently used
// evicted first. A statement in use by a trellis_stmt is not in here, so it
// is never handed out twice.
struct StatementCache final : SessionCache {
    std::list<std::unique_ptr<BackendStatement>> lru;  // most recently used first
    std::unordered_map<std::string_view, std::list<std::unique_ptr<BackendStatement>>::iterator> by_sql;  // views ::sql
    // Statements retired while on a row, not reset yet (see
    // BackendStatement::retire()); not owned: each is in `lru`.
    std::vector<BackendStatement*> parked;

    void settle() noexcept override {
        for (auto* statement : parked) statement->settle();
        parked.clear();
    }

    std::unique_ptr<BackendStatement> take(std::string_view sql) {
        auto it = by_sql.find(sql);
        if (it == by_sql.end()) return nullptr;
        auto statement = std::move(*it->second);
        std::erase(parked, statement.get());  // executing resets it
        lru.erase(it->second);
        by_sql.erase(it);
        return statement;
    }

    void put(std::unique_ptr<BackendStatement> statement) {
        if (by_sql.contains(statement->sql)) return;  // one idle copy per SQL is enough (retire() checks first)
        lru.push_front(std::move(statement));
        by_sql.emplace(lru.front()->sql, lru.begin());
        if (lru.size() > kStatementCacheSize) {
            std::erase(parked, lru.back().get());  // finalized next: never reset it after
            by_sql.erase(lru.back()->sql);
            lru.pop_back();
        }
    }
};

}  // namespace trellis::db::detail

struct trellis_stmt {
    trellis::db::CallDb* owner = nullptr;
    std::unique_ptr<trellis::db::detail::BackendStatement> prepared;
    enum class State { Prepared, Row, Done, Failed } state = State::Prepared;
    long long affected = 0;
};

namespace trellis::db {
namespace {

using detail::BackendStatement;
using detail::Param;
using detail::StatementCache;

int record(CallDb& db, int code, std::string message) {
    db.last_code = code;
    db.last_message = std::move(message);
    return code;
}

// Whether the session's connection is gone (PostgreSQL only: an SQLite
// connection cannot break).
bool connection_lost(CallDb& db) noexcept {
    return db.database.backend() == Backend::Postgresql && db.lease &&
           detail::postgresql_connection_lost(db.lease->session());
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

StatementCache* cache_of(CallDb& db) {
    auto& slot = db.lease->cache();
    if (!slot) slot = std::make_unique<StatementCache>();
    return static_cast<StatementCache*>(slot.get());
}

// The statement for `sql` on the call's session: an idle one from the
// session's cache, else a new one.
std::unique_ptr<BackendStatement> prepare(CallDb& db, std::string_view sql) {
    soci::session& current = session(db);
    if (auto prepared = cache_of(db)->take(sql)) {
        for (Param& param : prepared->params) param.kind = Param::Kind::Unset;
        return prepared;
    }
    return db.database.backend() == Backend::Sqlite ? detail::prepare_sqlite(current, std::string(sql))
                                                    : detail::prepare_soci(current, std::string(sql));
}

// Ends the statement's use: its backend statement goes back to the
// session's cache, reset (or parked), unless it failed or its session is
// gone or broken.
void retire(CallDb& db, trellis_stmt& stmt) noexcept {
    auto prepared = std::move(stmt.prepared);
    if (!prepared || stmt.state == trellis_stmt::State::Failed || !db.lease || db.lease->discarded() ||
        prepared->session != &db.lease->session())
        return;
    try {
        StatementCache* cache = cache_of(db);
        if (cache->by_sql.contains(prepared->sql)) return;  // one idle copy per SQL is enough: finalized here
        cache->parked.reserve(cache->parked.size() + 1);    // so that parking below cannot throw
        BackendStatement* statement = prepared.get();
        const bool park = statement->retire(stmt.state == trellis_stmt::State::Row, db.in_transaction);
        prepared->texts.clear();
        cache->put(std::move(prepared));  // if this throws, the statement is finalized and was never parked
        if (park) cache->parked.push_back(statement);
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

bool valid_column(trellis_stmt* stmt, int index) {
    if (!stmt) return false;
    if (stmt->state != trellis_stmt::State::Row) {
        misuse(*stmt->owner, "no current row: db_step did not return TRELLIS_DB_ROW");
        return false;
    }
    if (index < 0 || static_cast<std::size_t>(index) >= stmt->prepared->columns) {
        misuse(*stmt->owner, "column index " + std::to_string(index) + " out of range (the row has " +
                                 std::to_string(stmt->prepared->columns) + " columns)");
        return false;
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
    });
}

int db_bind_real(trellis_stmt* stmt, trellis_str name, double value) {
    if (stmt && !std::isfinite(value)) return misuse(*stmt->owner, "cannot bind a NaN or infinite value");
    return bind(stmt, name, [&](Param& p) {
        p.kind = Param::Kind::Real;
        p.real = value;
    });
}

int db_bind_text(trellis_stmt* stmt, trellis_str name, trellis_str value) {
    return bind(stmt, name, [&](Param& p) {
        p.kind = Param::Kind::Text;
        p.text.assign(view(value));
    });
}

int db_bind_null(trellis_stmt* stmt, trellis_str name) {
    return bind(stmt, name, [&](Param& p) {
        p.kind = Param::Kind::Null;
        p.text.clear();
    });
}

int db_step(trellis_stmt* stmt) {
    if (!stmt) return TRELLIS_DB_MISUSE;
    CallDb& db = *stmt->owner;
    try {
        bool got = false;
        switch (stmt->state) {
            case trellis_stmt::State::Done: return TRELLIS_DB_DONE;
            case trellis_stmt::State::Failed: return misuse(db, "the statement failed before: prepare it again");
            case trellis_stmt::State::Row:
                got = stmt->prepared->fetch();
                break;
            case trellis_stmt::State::Prepared:
                for (const Param& param : stmt->prepared->params) {
                    if (param.kind == Param::Kind::Unset) {
                        stmt->state = trellis_stmt::State::Failed;
                        return misuse(db, "parameter :" + param.name + " is not bound");
                    }
                }
                got = stmt->prepared->execute(stmt->affected);
                break;
        }
        stmt->state = got ? trellis_stmt::State::Row : trellis_stmt::State::Done;
        return got ? TRELLIS_DB_ROW : TRELLIS_DB_DONE;
    } catch (...) {
        stmt->state = trellis_stmt::State::Failed;
        stmt->prepared->texts.clear();
        return fail(db);
    }
}

int db_column_count(trellis_stmt* stmt) {
    if (!stmt || stmt->state == trellis_stmt::State::Prepared || stmt->state == trellis_stmt::State::Failed) return 0;
    return static_cast<int>(stmt->prepared->columns);
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
        return stmt->prepared->column_type(index);
    } catch (...) {
        fail(*stmt->owner);
        return TRELLIS_DB_NULL;
    }
}

int64_t db_column_int(trellis_stmt* stmt, int index) {
    if (!valid_column(stmt, index)) return 0;
    try {
        return stmt->prepared->column_int(index);
    } catch (...) {
        fail(*stmt->owner);
        return 0;
    }
}

double db_column_real(trellis_stmt* stmt, int index) {
    if (!valid_column(stmt, index)) return 0;
    try {
        return stmt->prepared->column_real(index);
    } catch (...) {
        fail(*stmt->owner);
        return 0;
    }
}

trellis_str db_column_text(trellis_stmt* stmt, int index) {
    if (!valid_column(stmt, index)) return {"", 0};
    try {
        return stmt->prepared->column_text(index);
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
