// PLACEHOLDER until the database layer lands: every call reports that no
// database is available. Replaced by the real implementation.
#include "db/statements.hpp"

struct trellis_stmt {};

namespace trellis::db {

// PLACEHOLDER Lease members until database.cpp lands.
struct Database::Lease::State {};
Database::Lease::~Lease() = default;

CallDb::CallDb(Database& db) : database(db) {}
CallDb::~CallDb() = default;

int db_prepare(trellis_call*, trellis_str, trellis_stmt** out) {
    if (out) *out = nullptr;
    return TRELLIS_DB_UNAVAILABLE;
}
int db_bind_int(trellis_stmt*, trellis_str, int64_t) { return TRELLIS_DB_MISUSE; }
int db_bind_real(trellis_stmt*, trellis_str, double) { return TRELLIS_DB_MISUSE; }
int db_bind_text(trellis_stmt*, trellis_str, trellis_str) { return TRELLIS_DB_MISUSE; }
int db_bind_null(trellis_stmt*, trellis_str) { return TRELLIS_DB_MISUSE; }
int db_step(trellis_stmt*) { return TRELLIS_DB_MISUSE; }
int db_column_count(trellis_stmt*) { return 0; }
trellis_str db_column_name(trellis_stmt*, int) { return {nullptr, 0}; }
int db_column_index(trellis_stmt*, trellis_str) { return -1; }
int db_column_type(trellis_stmt*, int) { return TRELLIS_DB_NULL; }
int64_t db_column_int(trellis_stmt*, int) { return 0; }
double db_column_real(trellis_stmt*, int) { return 0; }
trellis_str db_column_text(trellis_stmt*, int) { return {nullptr, 0}; }
int64_t db_rows_affected(trellis_stmt*) { return 0; }
void db_finalize(trellis_stmt*) {}
int db_begin(trellis_call*) { return TRELLIS_DB_UNAVAILABLE; }
int db_commit(trellis_call*) { return TRELLIS_DB_UNAVAILABLE; }
int db_rollback(trellis_call*) { return TRELLIS_DB_UNAVAILABLE; }
int db_error(trellis_call*, trellis_str* message) {
    static constexpr char text[] = "no database layer yet";
    if (message) *message = {text, sizeof text - 1};
    return TRELLIS_DB_UNAVAILABLE;
}

}  // namespace trellis::db
