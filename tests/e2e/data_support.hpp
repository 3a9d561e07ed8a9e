// Support for the database end-to-end tests (data_test.cpp,
// data_lifecycle_test.cpp): fresh databases on SQLite and PostgreSQL, the
// harness's Host started with a `database:` section (HostSpec), psql, the
// throwaway PostgreSQL script, and small HTTP/JSON helpers.
//
// PostgreSQL comes from TRELLIS_TEST_PG_URL (scripts/test.sh starts a server
// with scripts/pg-test-server.sh and exports it). Every suite or test makes
// its own database on that server and drops it afterwards, so tests running
// in parallel never see each other's rows.
#pragma once

#include <signal.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "fixture.hpp"
#include "harness.hpp"
#include "http_client.hpp"

namespace e2e::data {

using nlohmann::json;

enum class Backend { Sqlite, Postgresql };

// Type parameters for typed tests: TYPED_TEST_SUITE(X, Backends, BackendNames).
struct OnSqlite {
    static constexpr Backend value = Backend::Sqlite;
};
struct OnPostgresql {
    static constexpr Backend value = Backend::Postgresql;
};
using Backends = ::testing::Types<OnSqlite, OnPostgresql>;
struct BackendNames {
    template <class T>
    static std::string GetName(int) {
        return T::value == Backend::Sqlite ? "Sqlite" : "Postgresql";
    }
};

// The message of a PostgreSQL test skipped for want of a server.
inline constexpr std::string_view kNoPostgres =
    "TRELLIS_TEST_PG_URL is not set, so the PostgreSQL variant is skipped. scripts/test.sh starts a throwaway "
    "PostgreSQL 15 and sets it; by hand: scripts/pg-test-server.sh start DIR, then "
    "export TRELLIS_TEST_PG_URL=$(scripts/pg-test-server.sh url DIR)";

// TRELLIS_TEST_PG_URL, when set and not empty.
std::optional<std::string> pg_test_url();

// The source tree (for scripts/).
fs::path source_dir();

// `psql` on `url` (one command, unaligned, tuples only); returns stdout
// without the trailing newline. Throws std::runtime_error with psql's output
// when it fails.
std::string psql(const std::string& url, const std::string& sql);

// `url` (postgresql://user@host:port/db) with another database name.
std::string pg_url_with_database(const std::string& url, const std::string& database);

// A fresh, empty database: a file in a scratch folder (SQLite) or a new
// database on the test server (PostgreSQL), removed or dropped on destruction.
class TestDatabase {
public:
    // Throws std::runtime_error (PostgreSQL without TRELLIS_TEST_PG_URL, or
    // CREATE DATABASE failing).
    static std::unique_ptr<TestDatabase> create(Backend backend);
    ~TestDatabase();
    TestDatabase(const TestDatabase&) = delete;
    TestDatabase& operator=(const TestDatabase&) = delete;

    Backend backend() const noexcept { return backend_; }
    const std::string& url() const noexcept { return url_; }  // for the operator's `database.url`
    // Runs SQL directly (psql on PostgreSQL, the sqlite3 shell on SQLite);
    // nullopt when no client is installed for the backend.
    std::optional<std::string> query(const std::string& sql) const;

private:
    TestDatabase() = default;
    Backend backend_ = Backend::Sqlite;
    std::string url_;
    std::string pg_admin_url_, pg_name_;  // PostgreSQL
    std::unique_ptr<TempDir> dir_;        // SQLite
    fs::path file_;
};

// What a host with a database is started with.
struct HostSpec {
    HostSpec(std::string url, std::string plugins_block, std::vector<std::string> args = default_plugin_args())
        : database_url(std::move(url)), plugins(std::move(plugins_block)), plugin_args(std::move(args)) {}

    std::string database_url;
    std::string plugins;                                       // body of `plugins:` (indented by two spaces)
    std::vector<std::string> plugin_args = default_plugin_args();
    std::string database_extra;                                // more `database:` lines, e.g. "  pool: 2\n"
    std::string server_extra;                                  // more `server:` lines

    // The harness options: a `database:` section, and more time to listen
    // (20 s: migrations run first) and to stop (15 s).
    HostOptions options() const;
};

// Host::launch / Host::start with `spec`'s plugins and options.
std::unique_ptr<Host> launch_host(const HostSpec& spec);
std::unique_ptr<Host> start_host(const HostSpec& spec);

// Runs `trellis <command> --config <file> <plugin args>` (check, migrate, or
// a serve expected to fail) with `spec` written to a scratch config file.
RunResult trellis_command(const std::string& command, const HostSpec& spec,
                          std::chrono::milliseconds timeout = std::chrono::seconds(20));

// The counts of the host's "N migration steps applied, M already applied"
// log line; nullopt when it has not logged one.
struct MigrationCounts {
    int applied = 0, already = 0;
};
std::optional<MigrationCounts> migration_counts(const std::string& log);

// A private PostgreSQL server (scripts/pg-test-server.sh) that a test may
// stop and start again; removed on destruction.
class PgServer {
public:
    static std::unique_ptr<PgServer> start();  // throws with the script's output
    ~PgServer();
    PgServer(const PgServer&) = delete;
    PgServer& operator=(const PgServer&) = delete;

    const std::string& url() const noexcept { return url_; }
    RunResult halt();    // stops it, keeping data and port
    RunResult resume();  // `start` on the same folder: same port, same data

private:
    PgServer() = default;
    RunResult script(const std::string& command);
    fs::path dir_;
    std::string url_;
};

// ---- HTTP ----

// Percent-encodes everything but unreserved characters (for query values).
std::string url_encode(std::string_view text);

// `method target` with a JSON body (Content-Type: application/json).
Response send_json(int port, std::string_view method, std::string_view target, const json& body);
// With a raw body, sent as is.
Response send_raw_body(int port, std::string_view method, std::string_view target, const std::string& body);

// Whether `r` has this status, Content-Type application/json and a JSON body.
::testing::AssertionResult IsJson(const Response& r, int status);

// The `errors` field names of a 422 answer, sorted; an empty list when the
// answer is not one.
std::vector<std::string> error_fields(const Response& r);

// A short name unique within this run of the test binary (pid + counter):
// letters, digits and '-', at most 24 characters.
std::string unique_name(std::string_view prefix);

// One host per suite on a fresh database of backend `B` (skipped without
// PostgreSQL), serving `Derived::kPluginsBlock`; the HTTP helpers the
// database suites share.
template <class Derived, class B>
class DataHostTest : public SharedHostTest<Derived> {
protected:
    using Base = SharedHostTest<Derived>;

    static void SetUpTestSuite() {
        if (B::value == Backend::Postgresql && !pg_test_url()) {
            Base::skip_suite(kNoPostgres);
            return;
        }
        try {
            db_ = TestDatabase::create(B::value);
        } catch (const std::exception& e) {
            Base::error_ = e.what();
            return;
        }
        const HostSpec spec(db_->url(), Derived::kPluginsBlock);
        Base::start(spec.plugins, spec.options());
    }

    static void TearDownTestSuite() {
        Base::TearDownTestSuite();
        db_.reset();
    }

    using Base::port;
    TestDatabase& db() const { return *db_; }
    Response get(std::string_view target) const { return e2e::get(port(), target); }
    Response send(std::string_view method, std::string_view target, const json& body) const {
        return send_json(port(), method, target, body);
    }
    Response del(std::string_view target) const { return http(port(), "DELETE", target); }

    static inline std::unique_ptr<TestDatabase> db_;
};

}  // namespace e2e::data
