#include "db/database.hpp"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <condition_variable>
#include <stop_token>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include <soci/soci.h>
#include <soci/postgresql/soci-postgresql.h>
#include <spdlog/spdlog.h>
#include <soci/sqlite3/soci-sqlite3.h>

namespace trellis::db {

std::string_view backend_name(Backend backend) noexcept {
    return backend == Backend::Postgresql ? "postgresql" : "sqlite";
}

namespace {

constexpr std::string_view sqlite_forms =
    "expected sqlite:///absolute/path.db, sqlite://relative/path.db, sqlite::memory: or "
    "postgresql://user[:password]@host[:port]/dbname";

[[noreturn]] void bad_url(std::string_view url, std::string_view why) {
    std::string shown(url);
    // Never echo a password back into logs.
    if (auto at = shown.rfind('@'); at != std::string::npos) {
        if (auto scheme = shown.find("://"); scheme != std::string::npos && scheme < at) {
            if (auto colon = shown.find(':', scheme + 3); colon != std::string::npos && colon < at)
                shown.replace(colon + 1, at - colon - 1, "***");
        }
    }
    throw std::invalid_argument("database url '" + shown + "': " + std::string(why));
}

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// %XX-decodes one URL component.
std::string decode(std::string_view url, std::string_view part, std::string_view what) {
    std::string out;
    for (std::size_t i = 0; i < part.size(); ++i) {
        if (part[i] != '%') {
            out += part[i];
            continue;
        }
        if (i + 2 >= part.size() || hex_value(part[i + 1]) < 0 || hex_value(part[i + 2]) < 0)
            bad_url(url, "bad percent-encoding in the " + std::string(what));
        out += static_cast<char>(hex_value(part[i + 1]) * 16 + hex_value(part[i + 2]));
        i += 2;
    }
    if (out.find('\0') != std::string::npos) bad_url(url, "NUL character in the " + std::string(what));
    return out;
}

// A libpq conninfo value: quoted, with \ and ' escaped.
std::string conninfo_value(const std::string& value) {
    std::string out = "'";
    for (char c : value) {
        if (c == '\\' || c == '\'') out += '\\';
        out += c;
    }
    return out + "'";
}

Url parse_sqlite(std::string_view url, const std::filesystem::path& base_dir) {
    Url result;
    result.backend = Backend::Sqlite;
    if (url == "sqlite::memory:") {
        result.connect = ":memory:";
        result.display = "sqlite::memory:";
        return result;
    }
    if (!starts_with(url, "sqlite://")) bad_url(url, sqlite_forms);
    std::string_view rest = url.substr(9);
    if (rest.empty() || rest == "/") bad_url(url, "no database file given; " + std::string(sqlite_forms));
    if (rest.find('?') != std::string_view::npos || rest.find('#') != std::string_view::npos)
        bad_url(url, "query parameters are not supported in sqlite urls");
    std::filesystem::path path(decode(url, rest, "path"));
    if (path.is_relative()) path = base_dir / path;
    path = path.lexically_normal();
    if (!path.has_filename()) bad_url(url, "the path names a folder, not a database file");
    const std::string file = path.string();
    // SOCI's sqlite3 backend takes the whole string as the file name unless
    // it holds '=' (then it parses key=value pairs, values quoted with ").
    if (file.find('=') == std::string::npos) {
        result.connect = file;
    } else {
        if (file.find('"') != std::string::npos) bad_url(url, "a path may not hold both '=' and '\"'");
        result.connect = "db=\"" + file + "\"";
    }
    result.display = "sqlite://" + file;  // absolute: three slashes
    return result;
}

void log_notice(void*, const char* message) {
    std::string_view text(message ? message : "");
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
    spdlog::debug("postgresql: {}", text);
}

Url parse_postgresql(std::string_view url) {
    std::string_view rest = url.substr(url.find("://") + 3);
    if (rest.find('?') != std::string_view::npos || rest.find('#') != std::string_view::npos)
        bad_url(url, "query parameters are not supported; expected postgresql://user[:password]@host[:port]/dbname");
    auto slash = rest.find('/');
    if (slash == std::string_view::npos || slash + 1 >= rest.size())
        bad_url(url, "no database name; expected postgresql://user[:password]@host[:port]/dbname");
    std::string_view authority = rest.substr(0, slash);
    std::string_view dbname_part = rest.substr(slash + 1);
    if (dbname_part.find('/') != std::string_view::npos) bad_url(url, "the database name may not contain '/'");

    std::string_view userinfo;
    std::string_view hostport = authority;
    if (auto at = authority.rfind('@'); at != std::string_view::npos) {
        userinfo = authority.substr(0, at);
        hostport = authority.substr(at + 1);
        if (userinfo.empty()) bad_url(url, "empty user name before '@'");
    }
    std::string user, password;
    bool has_password = false;
    if (!userinfo.empty()) {
        auto colon = userinfo.find(':');
        user = decode(url, userinfo.substr(0, colon), "user name");
        if (user.empty()) bad_url(url, "empty user name");
        if (colon != std::string_view::npos) {
            has_password = true;
            password = decode(url, userinfo.substr(colon + 1), "password");
        }
    }

    std::string host;
    std::string_view port_part;
    if (starts_with(hostport, "[")) {  // [IPv6]
        auto close = hostport.find(']');
        if (close == std::string_view::npos) bad_url(url, "unterminated '[' in the host");
        host = std::string(hostport.substr(1, close - 1));
        std::string_view after = hostport.substr(close + 1);
        if (!after.empty()) {
            if (after[0] != ':') bad_url(url, "unexpected text after the host");
            port_part = after.substr(1);
            if (port_part.empty()) bad_url(url, "empty port after ':'");
        }
    } else {
        auto colon = hostport.rfind(':');
        host = decode(url, hostport.substr(0, colon), "host");
        if (colon != std::string_view::npos) {
            port_part = hostport.substr(colon + 1);
            if (port_part.empty()) bad_url(url, "empty port after ':'");
        }
    }
    if (host.empty()) bad_url(url, "no host; expected postgresql://user[:password]@host[:port]/dbname");
    int port = 5432;
    if (!port_part.empty()) {
        if (port_part.size() > 5 || !std::all_of(port_part.begin(), port_part.end(), [](char c) { return c >= '0' && c <= '9'; }))
            bad_url(url, "the port must be a number from 1 to 65535");
        port = std::stoi(std::string(port_part));
        if (port < 1 || port > 65535) bad_url(url, "the port must be a number from 1 to 65535");
    }
    std::string dbname = decode(url, dbname_part, "database name");

    Url result;
    result.backend = Backend::Postgresql;
    result.connect = "host=" + conninfo_value(host) + " port=" + std::to_string(port) + " dbname=" + conninfo_value(dbname);
    if (!user.empty()) result.connect += " user=" + conninfo_value(user);
    if (has_password) result.connect += " password=" + conninfo_value(password);
    const std::string shown_user = user.empty() ? std::string() : std::string(userinfo.substr(0, userinfo.find(':'))) + "@";
    const std::string shown_host = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    result.display = "postgresql://" + shown_user + shown_host + ":" + std::to_string(port) + "/" + std::string(dbname_part);
    return result;
}

}  // namespace

Url parse_url(std::string_view url, const std::filesystem::path& base_dir) {
    if (url.empty()) bad_url(url, "empty; " + std::string(sqlite_forms));
    if (starts_with(url, "sqlite:")) return parse_sqlite(url, base_dir);
    if (starts_with(url, "postgresql://") || starts_with(url, "postgres://")) return parse_postgresql(url);
    auto scheme_end = url.find(':');
    if (scheme_end != std::string_view::npos && scheme_end > 0)
        bad_url(url, "unsupported database '" + std::string(url.substr(0, scheme_end)) + "'; " + std::string(sqlite_forms));
    bad_url(url, sqlite_forms);
}

namespace {

// SQLite's process-wide settings, before its first connection opens (it
// refuses them afterwards). Every pooled connection is used by one thread at
// a time (a lease is exclusive), so SQLite's per-connection mutex only costs
// time: multi-thread mode drops it. Memory statistics take a global mutex on
// every allocation, which the worker threads then contend for: off, nothing
// reads them.
void configure_sqlite() {
    static std::once_flag once;
    std::call_once(once, [] {
        const bool configured = sqlite_api::sqlite3_config(SQLITE_CONFIG_MULTITHREAD) == SQLITE_OK &&
                                sqlite_api::sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) == SQLITE_OK;
        if (!configured) spdlog::debug("SQLite was initialized before the host configured it; using its defaults");
    });
}

}  // namespace

// ---------------------------------------------------------------------------
// The pool: a fixed number of slots, each holding one soci::session that is
// opened on first use and reopened after it broke. A slot is taken by
// flipping its own flag, so requests on different threads touch no shared
// memory on the way to a connection (each worker thread first tries the slot
// it had last, which also keeps that connection's caches warm); a mutex and
// a condition variable only serve callers that must wait for a slot.
// Connecting happens on the slot the caller now owns, so a slow or dead
// server never blocks other leases.

struct Database::Impl {
    struct alignas(64) Slot {  // one cache line each: taking one slot does not disturb the others
        std::atomic<bool> taken{false};
        // Touched by the slot's owner only (taking the flag orders them).
        bool broken = false;
        std::unique_ptr<soci::session> session;
        // After the session: destroyed first (its statements need the
        // connection to finalize).
        std::unique_ptr<SessionCache> cache;
    };

    Url url;
    std::chrono::milliseconds wait;
    std::unique_ptr<Slot[]> slots;
    std::size_t slot_count = 0;
    std::mutex mutex;
    std::condition_variable freed;
    std::atomic<int> waiters{0};
    std::jthread settler;  // last: stopped and joined before the slots go

    bool try_take(std::size_t index) noexcept {
        return !slots[index].taken.load() && !slots[index].taken.exchange(true);
    }

    std::optional<std::size_t> take_any() noexcept {
        for (std::size_t i = 0; i < slot_count; ++i)
            if (try_take(i)) return i;
        return std::nullopt;
    }

    // Sequentially consistent flag and counter: either a waiter's scan sees
    // this slot free, or this sees the waiter and wakes it (under the mutex,
    // which the waiter holds until it sleeps).
    void release(std::size_t index, bool discard) noexcept {
        if (discard) slots[index].broken = true;
        slots[index].taken.store(false);
        if (waiters.load() > 0) {
            std::lock_guard lock(mutex);
            freed.notify_one();
        }
    }

    // SQLite: settles idle sessions every kSettleInterval, so that no
    // session keeps a read transaction (an old snapshot that stops WAL
    // checkpoints) for longer while it sits unused. A slot in use is
    // skipped: its request settles it when it ends or starts.
    void settle_idle(std::stop_token stop) {
        std::mutex sleep_mutex;
        std::condition_variable_any sleep;
        std::unique_lock lock(sleep_mutex);
        while (!sleep.wait_for(lock, stop, kSettleInterval, [] { return false; }) && !stop.stop_requested()) {
            for (std::size_t i = 0; i < slot_count; ++i) {
                if (!try_take(i)) continue;
                if (slots[i].cache) slots[i].cache->settle();
                release(i, false);
            }
        }
    }

    // Opens (or reopens) the slot's session if it is not usable. Called by
    // the slot's owner only.
    void ensure_connected(Slot& slot) {
        if (slot.session && !slot.broken) {
            if (url.backend == Backend::Sqlite) return;
            // libpq knows a connection is dead once a call on it failed;
            // this check is local (no round trip).
            auto* backend = static_cast<soci::postgresql_session_backend*>(slot.session->get_backend());
            if (backend && alive(backend->conn_)) return;
        }
        slot.cache.reset();
        slot.session.reset();
        slot.broken = false;
        auto session = std::make_unique<soci::session>();
        try {
            if (url.backend == Backend::Sqlite) {
                session->open(*soci::factory_sqlite3(), url.connect);
                // WAL with synchronous=NORMAL: a committed transaction is in
                // the WAL file before COMMIT returns, so it survives a crash
                // or kill -9 of this process. Only an operating system crash
                // or power loss may lose the last transactions (they were not
                // fsync'ed yet); the database stays consistent either way.
                // An in-memory database has no WAL (it answers "memory").
                // The busy timeout first: switching a new file to WAL needs
                // a lock that another host opening it too may hold.
                *session << ("PRAGMA busy_timeout=" + std::to_string(sqlite_busy_timeout().count()));
                use_wal(*session);
                *session << "PRAGMA synchronous=NORMAL";
                *session << "PRAGMA foreign_keys=ON";
            } else {
                session->open(*soci::factory_postgresql(), url.connect);
                // libpq prints server notices ("relation ... already exists,
                // skipping") to stderr: route them to the log instead.
                auto* backend = static_cast<soci::postgresql_session_backend*>(session->get_backend());
                PQsetNoticeProcessor(backend->conn_, &log_notice, nullptr);
            }
        } catch (const std::exception& e) {
            throw Unavailable("cannot connect to database " + url.display + ": " + trim(e.what()));
        }
        slot.session = std::move(session);
    }

    // Whether an idle PostgreSQL connection still works, without a round
    // trip: libpq marks a connection bad once a call on it failed, and a
    // server that closed it (a restart terminates its backends) left a
    // FATAL message and an end of file in the socket, which reading what is
    // there without blocking finds. A statement prepared earlier and reused
    // from the cache never talks to the server before it executes, so
    // without this check a request after a server restart would fail
    // instead of getting a fresh connection.
    static bool alive(PGconn* conn) noexcept {
        for (int i = 0; i < 2 && PQstatus(conn) == CONNECTION_OK; ++i) {
            if (PQconsumeInput(conn) == 0) return false;
        }
        return PQstatus(conn) == CONNECTION_OK;
    }

    // Switches the file to WAL (a persistent property of the file: only the
    // first connection ever does the work). SQLite answers SQLITE_BUSY at
    // once, without calling the busy handler, when another connection
    // converts or recovers the file at the same moment: retry until the
    // busy timeout is spent.
    void use_wal(soci::session& session) {
        const auto deadline = std::chrono::steady_clock::now() + sqlite_busy_timeout();
        for (auto pause = std::chrono::milliseconds(5);; pause = std::min(pause * 2, std::chrono::milliseconds(100))) {
            try {
                std::string mode;
                session << "PRAGMA journal_mode", soci::into(mode);
                if (mode == "wal" || mode == "memory") return;
                session << "PRAGMA journal_mode=WAL", soci::into(mode);
                if (mode == "wal") return;
                throw std::runtime_error("could not switch to WAL journal mode (still '" + mode + "')");
            } catch (const soci::sqlite3_soci_error& e) {
                const int rc = e.result() & 0xff;
                if ((rc != SQLITE_BUSY && rc != SQLITE_LOCKED) || std::chrono::steady_clock::now() >= deadline) throw;
            }
            std::this_thread::sleep_for(pause);
        }
    }

    // How long SQLite waits for another connection's write lock.
    std::chrono::milliseconds sqlite_busy_timeout() const { return std::max(wait, std::chrono::milliseconds(5000)); }

    static std::string trim(std::string text) {
        while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
        return text;
    }
};

Database::Lease::Lease(Lease&& other) noexcept
    : pool_(std::exchange(other.pool_, nullptr)), slot_(other.slot_), discard_(other.discard_) {}
Database::Lease& Database::Lease::operator=(Lease&& other) noexcept {
    if (this != &other) {
        if (pool_) pool_->release(slot_, discard_);
        pool_ = std::exchange(other.pool_, nullptr);
        slot_ = other.slot_;
        discard_ = other.discard_;
    }
    return *this;
}
Database::Lease::~Lease() {
    if (pool_) pool_->release(slot_, discard_);
}
soci::session& Database::Lease::session() const noexcept { return *pool_->slots[slot_].session; }
void Database::Lease::discard() noexcept { discard_ = true; }
bool Database::Lease::discarded() const noexcept { return pool_ && discard_; }
std::unique_ptr<SessionCache>& Database::Lease::cache() const noexcept { return pool_->slots[slot_].cache; }

SessionCache::~SessionCache() = default;

Database::Database(Url url, std::size_t pool_size, std::chrono::milliseconds wait) : impl_(std::make_unique<Impl>()) {
    impl_->url = std::move(url);
    impl_->wait = wait;
    if (impl_->url.backend == Backend::Sqlite) configure_sqlite();
    // One in-memory SQLite database per connection would give every pooled
    // session its own empty database: sqlite::memory: uses a single session
    // (requests queue for it), which is what a test or demo database needs.
    if (impl_->url.backend == Backend::Sqlite && impl_->url.connect == ":memory:") pool_size = 1;
    if (pool_size == 0) pool_size = 1;
    // Never let a connection attempt hang forever on an unreachable host.
    if (impl_->url.backend == Backend::Postgresql && impl_->url.connect.find("connect_timeout=") == std::string::npos) {
        const auto seconds = std::max<long long>(2, (wait.count() + 999) / 1000);
        impl_->url.connect += " connect_timeout=" + std::to_string(seconds);
    }
    impl_->slots = std::make_unique<Impl::Slot[]>(pool_size);
    impl_->slot_count = pool_size;
    if (impl_->url.backend == Backend::Sqlite)
        impl_->settler = std::jthread([impl = impl_.get()](std::stop_token stop) { impl->settle_idle(stop); });
}

Database::~Database() = default;

Backend Database::backend() const noexcept { return impl_->url.backend; }
const Url& Database::url() const noexcept { return impl_->url; }

Database::Lease Database::acquire() {
    thread_local struct {
        const Impl* pool = nullptr;
        std::size_t slot = 0;
    } last;  // the slot this thread had last, in which pool
    Impl& pool = *impl_;
    std::optional<std::size_t> taken;
    if (last.pool == &pool && last.slot < pool.slot_count && pool.try_take(last.slot))
        taken = last.slot;
    else
        taken = pool.take_any();
    if (!taken) {
        std::unique_lock lock(pool.mutex);
        pool.waiters.fetch_add(1);
        const bool got = pool.freed.wait_for(lock, pool.wait, [&] { return (taken = pool.take_any()).has_value(); });
        pool.waiters.fetch_sub(1);
        if (!got) {
            throw Unavailable("database " + pool.url.display + ": all " + std::to_string(pool.slot_count) +
                              " connections stayed busy for " + std::to_string(pool.wait.count()) + " ms");
        }
    }
    const std::size_t index = *taken;
    last = {&pool, index};
    try {
        Impl::Slot& slot = impl_->slots[index];
        impl_->ensure_connected(slot);
        if (slot.cache) slot.cache->settle();  // a fresh snapshot for every lease
    } catch (...) {
        impl_->release(index, true);
        throw;
    }
    return Lease(impl_.get(), index);
}

}  // namespace trellis::db
