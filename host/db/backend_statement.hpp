// What one prepared statement of a backend does, as statements.cpp (the
// ABI's db_* functions) drives it; one implementation per way to the backend.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <trellis/abi.h>

namespace soci {
class session;
}

namespace trellis::db::detail {

// Two ways to the backend, one contract:
//  - PostgreSQL: SOCI statements (soci::use by name, a dynamic soci::row),
//    in soci_statement.cpp.
//  - SQLite: the SQLite C API on the connection SOCI opened, in
//    sqlite_statement.cpp.
//
// Each ABI call makes at most one virtual call on its statement: what every
// backend has (the parameters, the column count and names, the texts handed
// out) is plain data here, filled by the backend as it runs.

struct Param {
    std::string name;
    enum class Kind { Unset, Int, Real, Text, Null } kind = Kind::Unset;
    long long integer = 0;
    double real = 0;
    std::string text;
    int position = 0;  // SQLite: the parameter's position (1-based)
};

// A statement prepared on the backend, with the storage the backend binds
// to by address (the parameter values, the row). It belongs to one session:
// a trellis_stmt uses it while open, the session's cache keeps it in between
// so that the same SQL is not parsed (SQLite) or prepared on the server
// (PostgreSQL: a named statement, two round trips saved) on every request.
class BackendStatement {
public:
    BackendStatement(soci::session& on, std::string text);
    BackendStatement(const BackendStatement&) = delete;
    BackendStatement& operator=(const BackendStatement&) = delete;
    virtual ~BackendStatement() = default;

    // Hands the bound values (none Unset) to the backend and executes: true
    // when on the first row, false when there is none. `affected` gets the
    // rows the statement changed. Describes the result (describe()).
    virtual bool execute(long long& affected) = 0;
    // The next row: true when on it, false at the end. Describes the result.
    virtual bool fetch() = 0;

    // The current row's value in column `index` (0 <= index < columns, on a
    // row). A null is TRELLIS_DB_NULL, 0, 0 and the empty text.
    virtual int column_type(int index) = 0;
    virtual std::int64_t column_int(int index) = 0;
    virtual double column_real(int index) = 0;
    // Valid until the next step, reset or finalize (the view's lifetime in
    // abi.h): the backend's own text, or one kept in `texts`.
    virtual trellis_str column_text(int index) = 0;

    // Readies the statement to wait in the session's cache. Resets it, or
    // answers true when the reset may wait (the statement is parked: settle()
    // resets it later); `on_row` when the statement stopped on a row.
    virtual bool retire(bool on_row, bool in_transaction) noexcept = 0;
    // The reset a parked statement still waits for.
    virtual void settle() noexcept = 0;

    std::string sql;
    soci::session* session;  // not owned: the pooled session it was prepared on, which outlives it
    // One entry per distinct parameter name, sized at prepare time and
    // never resized: the backend keeps pointers to these values.
    std::vector<Param> params;
    std::size_t columns = 0;                        // of the result, as last described
    std::vector<std::string> names;                 // lower case, per column
    std::vector<std::optional<std::string>> texts;  // views handed out for the current row

protected:
    // Readies the statement for the next row: views of the previous one die.
    // `name_of(i)` is the backend's name of column i (asked only when the
    // names are not known yet).
    template <class NameOf>
    void describe(std::size_t count, NameOf&& name_of) {
        columns = count;
        texts.assign(count, std::nullopt);
        if (names.size() != count) {
            names.clear();
            for (std::size_t i = 0; i < count; ++i) names.push_back(lower(name_of(i)));
        }
    }

private:
    static std::string lower(std::string_view s);
};

// The shortest text that reads back as `value`.
std::string format_real(double value);

// Counts one statement prepared on the backend (backend_prepares()).
void count_backend_prepare() noexcept;

// A new backend statement for `sql` on `session` (parsed there at once).
std::unique_ptr<BackendStatement> prepare_sqlite(soci::session& session, std::string sql);  // sqlite_statement.cpp
std::unique_ptr<BackendStatement> prepare_soci(soci::session& session, std::string sql);    // soci_statement.cpp

// Whether the PostgreSQL session's connection is gone (soci_statement.cpp).
bool postgresql_connection_lost(soci::session& session) noexcept;

}  // namespace trellis::db::detail
