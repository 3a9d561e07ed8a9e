// The host's database: one SOCI connection pool, SQLite (embedded default)
// or PostgreSQL, shared by every plugin. Plugins never see SOCI: they reach
// it through the ABI's db_* functions (host/db/statements.hpp).
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

namespace soci {
class session;
}

namespace trellis::db {

enum class Backend { Sqlite, Postgresql };
std::string_view backend_name(Backend backend) noexcept;  // "sqlite" / "postgresql"

struct Url {
    Backend backend = Backend::Sqlite;
    std::string connect;  // SOCI connection string
    std::string display;  // safe to log: no password
};

// Parses sqlite:///abs.db, sqlite://rel.db (relative to base_dir),
// sqlite::memory:, postgresql://user[:password]@host[:port]/dbname.
// sqlite::memory: is one database for the whole host: its pool holds a
// single session (requests queue for it).
// Throws std::invalid_argument with a message saying what is wrong.
Url parse_url(std::string_view url, const std::filesystem::path& base_dir);

// The database cannot be reached: the request answers 503, the host keeps
// serving and retries on the next request.
class Unavailable : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Per-session state that lives and dies with one pooled connection (the
// statement cache of host/db/statements.cpp). The pool destroys it before
// the session it belongs to, and when that session is reconnected.
class SessionCache {
public:
    virtual ~SessionCache();
    // Ends whatever the session still holds open from its last use (an
    // SQLite read transaction kept by a parked statement). Called when a
    // request leases the session, and by the pool on idle sessions.
    virtual void settle() noexcept = 0;
};

class Database {
public:
    // Opens nothing yet: sessions connect on first use. (`serve` runs the
    // migrations first, so it needs the database at start-up; a database
    // that goes down later only turns database requests into 503s.)
    Database(Url url, std::size_t pool_size, std::chrono::milliseconds wait);
    ~Database();
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;

    Backend backend() const noexcept;
    const Url& url() const noexcept;

private:
    struct Impl;  // the pool (database.cpp)

public:
    // One session, exclusively, until the Lease is destroyed. Connects (or
    // reconnects a broken session) as needed. Throws Unavailable when no
    // connection can be made or no session frees up within `wait`.
    class Lease {
    public:
        Lease(Lease&&) noexcept;
        Lease& operator=(Lease&&) noexcept;
        ~Lease();
        soci::session& session() const noexcept;
        // Marks the session broken (connection lost): it is reconnected
        // before its next use instead of being handed out as is.
        void discard() noexcept;
        bool discarded() const noexcept;
        // The session's cache slot: empty until someone puts a cache there;
        // reset when the session is reconnected.
        std::unique_ptr<SessionCache>& cache() const noexcept;

    private:
        friend class Database;
        Lease(Impl* pool, std::size_t slot) noexcept : pool_(pool), slot_(slot) {}
        Impl* pool_;  // null once moved from
        std::size_t slot_;
        bool discard_ = false;
    };
    Lease acquire();

    // How long an idle SQLite session may keep its last read transaction
    // open (see statements.cpp on parked statements): the pool settles idle
    // sessions this often.
    static constexpr std::chrono::milliseconds kSettleInterval{250};

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace trellis::db
