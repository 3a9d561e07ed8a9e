// The host side of the ABI's db_* functions: per-call database state
// (a leased session, statements, a transaction, the last error).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <trellis/abi.h>

#include "db/database.hpp"

namespace trellis::db {

// Everything one request did with the database. Destroyed when the request
// ends: statements are finalized, an open transaction rolled back, the
// session returned to the pool.
struct CallDb {
    explicit CallDb(Database& database);
    ~CallDb();
    Database& database;
    std::optional<Database::Lease> lease;
    bool in_transaction = false;
    int last_code = TRELLIS_DB_OK;
    std::string last_message;
    std::vector<std::unique_ptr<trellis_stmt>> statements;
};

// How many idle prepared statements each pooled session keeps for reuse
// (by SQL text, least recently used evicted first).
inline constexpr std::size_t kStatementCacheSize = 64;

// Statements prepared on the backend so far, by the whole process (cache
// hits do not count). For tests.
std::uint64_t backend_prepares() noexcept;

// The ABI's db_* functions (see abi.h for their contracts), on one
// request's CallDb; null means no database is configured (every one then
// answers TRELLIS_DB_UNAVAILABLE). The host API (app/host_api.cpp) finds
// the request's CallDb and puts these in the table.
int db_prepare(CallDb* db, trellis_str sql, trellis_stmt** out);
int db_bind_int(trellis_stmt* stmt, trellis_str name, int64_t value);
int db_bind_real(trellis_stmt* stmt, trellis_str name, double value);
int db_bind_text(trellis_stmt* stmt, trellis_str name, trellis_str value);
int db_bind_null(trellis_stmt* stmt, trellis_str name);
int db_step(trellis_stmt* stmt);
int db_column_count(trellis_stmt* stmt);
trellis_str db_column_name(trellis_stmt* stmt, int index);
int db_column_index(trellis_stmt* stmt, trellis_str name);
int db_column_type(trellis_stmt* stmt, int index);
int64_t db_column_int(trellis_stmt* stmt, int index);
double db_column_real(trellis_stmt* stmt, int index);
trellis_str db_column_text(trellis_stmt* stmt, int index);
int64_t db_rows_affected(trellis_stmt* stmt);
void db_finalize(trellis_stmt* stmt);
int db_begin(CallDb* db);
int db_commit(CallDb* db);
int db_rollback(CallDb* db);
int db_error(const CallDb* db, trellis_str* message);

}  // namespace trellis::db
