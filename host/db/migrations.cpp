#include "db/migrations.hpp"

#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <map>
#include <optional>
#include <utility>

#include <soci/soci.h>

#include "db/sql_text.hpp"

namespace trellis::db {
namespace {

constexpr const char* create_table =
    "CREATE TABLE IF NOT EXISTS trellis_migrations ("
    "plugin TEXT NOT NULL, step TEXT NOT NULL, checksum TEXT NOT NULL, applied_at TEXT NOT NULL, "
    "PRIMARY KEY (plugin, step))";

std::uint64_t fnv1a(std::string_view text) {
    std::uint64_t hash = 0xcbf29ce484222325ULL;
    for (unsigned char c : text) {
        hash ^= c;
        hash *= 0x100000001b3ULL;
    }
    return hash;
}

// The pg_advisory_lock key every Trellis host uses for migrations.
long long advisory_key() { return static_cast<long long>(fnv1a("trellis-migrations")); }

std::string now_utc() {
    const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm tm{};
    gmtime_r(&now, &tm);
    char buffer[32];
    std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buffer;
}


[[noreturn]] void step_failed(const std::string& plugin, const std::string& step, const std::exception& e) {
    std::string message = e.what();
    while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
    throw MigrationError("plugin '" + plugin + "': migration '" + step + "' failed: " + message);
}

[[noreturn]] void changed(const std::string& plugin, const std::string& step, const std::string& recorded,
                          const std::string& now) {
    throw MigrationError("plugin '" + plugin + "': migration '" + step + "' was applied with checksum " + recorded +
                         " but the manifest now has " + now +
                         "; migrations are immutable once applied: add a new migration instead");
}

// Whether an error means the server went away (rather than bad SQL).
bool connection_error(const soci::soci_error& e, soci::session& session) {
    if (e.get_error_category() == soci::soci_error::connection_error) return true;
    try {
        return !session.is_connected();
    } catch (...) {
        return true;
    }
}

bool table_exists(soci::session& session, Backend backend) {
    int found = 0;
    if (backend == Backend::Postgresql) {
        soci::indicator ind = soci::i_ok;
        std::string name;
        session << "SELECT CAST(to_regclass('trellis_migrations') AS TEXT)", soci::into(name, ind);
        return ind == soci::i_ok && !name.empty();
    }
    session << "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'trellis_migrations'", soci::into(found);
    return found > 0;
}

using Recorded = std::map<std::pair<std::string, std::string>, std::string>;  // (plugin, step) -> checksum

Recorded read_recorded(soci::session& session) {
    Recorded recorded;
    soci::rowset<soci::row> rows = (session.prepare << "SELECT plugin, step, checksum FROM trellis_migrations");
    for (const soci::row& row : rows)
        recorded[{row.get<std::string>(0), row.get<std::string>(1)}] = row.get<std::string>(2);
    return recorded;
}

// The checksum recorded for one step, read inside the step's transaction.
std::optional<std::string> recorded_checksum(soci::session& session, const std::string& plugin, const std::string& step) {
    std::string sum;
    soci::indicator ind = soci::i_null;
    std::string p = plugin, s = step;
    session << "SELECT checksum FROM trellis_migrations WHERE plugin = :plugin AND step = :step", soci::use(p, "plugin"),
        soci::use(s, "step"), soci::into(sum, ind);
    if (!session.got_data() || ind != soci::i_ok) return std::nullopt;
    return sum;
}

// Runs `body` with the PostgreSQL advisory lock held (released on every way
// out; a dropped connection releases it on the server's side).
template <class Body>
auto with_lock(soci::session& session, Backend backend, Body&& body) {
    if (backend != Backend::Postgresql) return body();
    // A constant, not request data: written into the SQL as a literal.
    const std::string key = "CAST(" + std::to_string(advisory_key()) + " AS BIGINT)";
    session << ("SELECT pg_advisory_lock(" + key + ")");
    struct Unlock {
        soci::session& session;
        const std::string& key;
        ~Unlock() {
            try {
                session << ("SELECT pg_advisory_unlock(" + key + ")");
            } catch (...) {
                // The connection is gone: so is the lock.
            }
        }
    } unlock{session, key};
    return body();
}

}  // namespace

std::string checksum(const std::string& sql) {
    char buffer[17];
    std::snprintf(buffer, sizeof buffer, "%016llx", static_cast<unsigned long long>(fnv1a(sql)));
    return buffer;
}

MigrationReport migrate(Database& database, const std::vector<PluginSchema>& schemas) {
    auto lease = database.acquire();
    soci::session& session = lease.session();
    const Backend backend = database.backend();
    MigrationReport report;
    try {
        with_lock(session, backend, [&] {
            session << create_table;
            const Recorded recorded = read_recorded(session);
            for (const PluginSchema& schema : schemas) {
                for (const MigrationStep& step : schema.steps) {
                    const std::string sum = checksum(step.sql);
                    if (auto it = recorded.find({schema.plugin, step.id}); it != recorded.end()) {
                        if (it->second != sum) changed(schema.plugin, step.id, it->second, sum);
                        ++report.already;
                        continue;
                    }
                    // Pending: apply it in its own transaction. SQLite takes
                    // the write lock up front (BEGIN IMMEDIATE; concurrent
                    // hosts on one file wait on the busy timeout), then
                    // re-checks: another host may have applied the step
                    // between our read and our lock.
                    if (backend == Backend::Sqlite)
                        session << "BEGIN IMMEDIATE";
                    else
                        session.begin();
                    bool open = true;
                    try {
                        if (auto again = recorded_checksum(session, schema.plugin, step.id)) {
                            session.rollback();
                            open = false;
                            if (*again != sum) changed(schema.plugin, step.id, *again, sum);
                            ++report.already;
                            continue;
                        }
                        for (const std::string& statement : split_statements(step.sql)) session << statement;
                        std::string plugin = schema.plugin, id = step.id, stamp = now_utc(), checksum_text = sum;
                        session << "INSERT INTO trellis_migrations (plugin, step, checksum, applied_at) "
                                   "VALUES (:plugin, :step, :checksum, :applied_at)",
                            soci::use(plugin, "plugin"), soci::use(id, "step"), soci::use(checksum_text, "checksum"),
                            soci::use(stamp, "applied_at");
                        session.commit();
                        open = false;
                        ++report.applied;
                    } catch (const MigrationError&) {
                        throw;
                    } catch (const soci::soci_error& e) {
                        if (open) {
                            try {
                                session.rollback();
                            } catch (...) {
                            }
                        }
                        if (connection_error(e, session)) throw;
                        step_failed(schema.plugin, step.id, e);
                    }
                }
            }
        });
    } catch (const MigrationError&) {
        throw;
    } catch (const soci::soci_error& e) {
        lease.discard();
        if (connection_error(e, session)) throw Unavailable("database " + database.url().display + ": " + e.what());
        throw MigrationError(std::string("migrations on ") + database.url().display + ": " + e.what());
    }
    return report;
}

std::vector<std::string> pending(Database& database, const std::vector<PluginSchema>& schemas) {
    auto lease = database.acquire();
    soci::session& session = lease.session();
    std::vector<std::string> out;
    try {
        Recorded recorded;
        if (table_exists(session, database.backend())) recorded = read_recorded(session);
        for (const PluginSchema& schema : schemas) {
            for (const MigrationStep& step : schema.steps) {
                auto it = recorded.find({schema.plugin, step.id});
                if (it == recorded.end()) {
                    out.push_back(schema.plugin + "/" + step.id);
                } else if (const std::string sum = checksum(step.sql); it->second != sum) {
                    changed(schema.plugin, step.id, it->second, sum);
                }
            }
        }
    } catch (const soci::soci_error& e) {
        lease.discard();
        if (connection_error(e, session)) throw Unavailable("database " + database.url().display + ": " + e.what());
        throw MigrationError(std::string("reading migrations on ") + database.url().display + ": " + e.what());
    }
    return out;
}

}  // namespace trellis::db
