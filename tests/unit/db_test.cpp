// The database core: URLs, the session pool, the ABI's db_* functions and
// migrations. Every data test runs on SQLite (a temporary file) and on
// PostgreSQL 15 when TRELLIS_TEST_PG_URL names a server (scripts/test.sh
// starts one with scripts/pg-test-server.sh).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <soci/soci.h>

#include "config/manifest.hpp"
#include "db/database.hpp"
#include "db/migrations.hpp"
#include "db/schema.hpp"
#include "db/statements.hpp"

using namespace std::chrono_literals;
using trellis::db::Backend;
using trellis::db::Database;
using trellis::db::MigrationError;
using trellis::db::PluginSchema;
using trellis::db::Unavailable;
namespace db = trellis::db;
namespace fs = std::filesystem;

namespace {

constexpr const char* pg_hint =
    "PostgreSQL tests need a server: export TRELLIS_TEST_PG_URL=$(scripts/pg-test-server.sh start build/pg) "
    "(scripts/test.sh does this)";

trellis_str s(std::string_view text) { return {text.data(), text.size()}; }
std::string text(trellis_str value) { return {value.ptr ? value.ptr : "", value.len}; }

fs::path make_temp_dir() {
    std::random_device random;
    auto dir = fs::temp_directory_path() / ("trellis-db-test-" + std::to_string(random()) + std::to_string(random()));
    fs::create_directories(dir);
    return dir;
}

const char* pg_url() {
    const char* url = std::getenv("TRELLIS_TEST_PG_URL");
    return url && *url ? url : nullptr;
}

// One request's worth of database use, as the host sets it up (no request
// value needed: the db layer sees only the call's CallDb).
struct Call {
    explicit Call(Database* database) {
        if (database) db.emplace(*database);
    }
    std::optional<db::CallDb> db;
    db::CallDb* get() { return db ? &*db : nullptr; }

    int error(std::string* message = nullptr) {
        trellis_str m{};
        int code = db::db_error(get(), &m);
        if (message) *message = text(m);
        return code;
    }
    std::string message() {
        std::string m;
        error(&m);
        return m;
    }

    // Prepares and runs a statement without parameters; returns the last
    // step's code (or the prepare error).
    int exec(std::string_view sql) {
        trellis_stmt* stmt = nullptr;
        if (int rc = db::db_prepare(get(), s(sql), &stmt); rc != TRELLIS_DB_OK) return rc;
        int rc;
        while ((rc = db::db_step(stmt)) == TRELLIS_DB_ROW) {
        }
        db::db_finalize(stmt);
        return rc;
    }

    // The single integer a query returns (-1 when it returns no row).
    int64_t scalar(std::string_view sql) {
        trellis_stmt* stmt = nullptr;
        EXPECT_EQ(db::db_prepare(get(), s(sql), &stmt), TRELLIS_DB_OK) << message();
        if (!stmt) return -1;
        int64_t value = -1;
        if (db::db_step(stmt) == TRELLIS_DB_ROW) value = db::db_column_int(stmt, 0);
        db::db_finalize(stmt);
        return value;
    }
};

// ---- backends -------------------------------------------------------------

struct Sqlite {
    static constexpr Backend backend = Backend::Sqlite;
    static std::string url(const fs::path& dir) { return "sqlite://" + (dir / "test.db").string(); }
    static void isolate(db::Url&, const fs::path&) {}
    static void cleanup(const db::Url&, const fs::path&) {}
    static constexpr const char* serial = "INTEGER PRIMARY KEY";
};

// Each test gets a schema of its own on the shared server (its name derived
// from the temporary folder), so tests may run in parallel (ctest -j).
struct Postgresql {
    static constexpr Backend backend = Backend::Postgresql;
    static std::string url(const fs::path&) { return pg_url(); }
    static std::string schema(const fs::path& dir) { return "t_" + dir.filename().string().substr(16); }
    static void isolate(db::Url& url, const fs::path& dir) {
        Database admin(url, 1, 5000ms);
        auto lease = admin.acquire();
        lease.session() << ("DROP SCHEMA IF EXISTS " + schema(dir) + " CASCADE");
        lease.session() << ("CREATE SCHEMA " + schema(dir));
        url.connect += " options='-c search_path=" + schema(dir) + "'";
    }
    static void cleanup(const db::Url& url, const fs::path& dir) {
        Database admin(db::parse_url(pg_url(), "/"), 1, 5000ms);
        auto lease = admin.acquire();
        lease.session() << ("DROP SCHEMA IF EXISTS " + schema(dir) + " CASCADE");
        (void)url;
    }
    static constexpr const char* serial = "BIGSERIAL PRIMARY KEY";
};

template <class B>
class DbTest : public ::testing::Test {
protected:
    void SetUp() override {
        if (B::backend == Backend::Postgresql && !pg_url()) GTEST_SKIP() << pg_hint;
        dir_ = make_temp_dir();
        url_ = db::parse_url(B::url(dir_), dir_);
        B::isolate(url_, dir_);
        database_ = std::make_unique<Database>(url_, 4, 2000ms);
    }
    void TearDown() override {
        database_.reset();
        if (!dir_.empty()) {
            B::cleanup(url_, dir_);
            fs::remove_all(dir_);
        }
    }

    std::unique_ptr<Database> another(std::size_t pool = 4, std::chrono::milliseconds wait = 2000ms) {
        return std::make_unique<Database>(url_, pool, wait);
    }
    std::unique_ptr<Call> call() { return std::make_unique<Call>(database_.get()); }

    fs::path dir_;
    db::Url url_;
    std::unique_ptr<Database> database_;
};

using Backends = ::testing::Types<Sqlite, Postgresql>;
struct BackendNames {
    template <class T>
    static std::string GetName(int) {
        return T::backend == Backend::Sqlite ? "sqlite" : "postgresql";
    }
};
TYPED_TEST_SUITE(DbTest, Backends, BackendNames);

// ---- statements -------------------------------------------------------------

TYPED_TEST(DbTest, BindsAndReadsEveryType) {
    auto cp = this->call();
    Call& c = *cp;
    ASSERT_EQ(c.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, i BIGINT, r DOUBLE PRECISION, s TEXT, n TEXT)"), TRELLIS_DB_DONE)
        << c.message();

    const std::string nasty = "it's \"quoted\" '; DROP TABLE t; -- :id \\ ü";
    trellis_stmt* insert = nullptr;
    ASSERT_EQ(db::db_prepare(c.get(), s("INSERT INTO t (id, i, r, s, n) VALUES (:id, :i, :r, :s, :n)"), &insert), TRELLIS_DB_OK)
        << c.message();
    EXPECT_EQ(db::db_bind_int(insert, s("id"), 1), TRELLIS_DB_OK);
    EXPECT_EQ(db::db_bind_int(insert, s("i"), 9007199254740993LL), TRELLIS_DB_OK);
    EXPECT_EQ(db::db_bind_real(insert, s("r"), 0.1), TRELLIS_DB_OK);
    EXPECT_EQ(db::db_bind_text(insert, s("s"), s(nasty)), TRELLIS_DB_OK);
    EXPECT_EQ(db::db_bind_null(insert, s(":n")), TRELLIS_DB_OK);  // a leading colon is accepted
    ASSERT_EQ(db::db_step(insert), TRELLIS_DB_DONE) << c.message();
    EXPECT_EQ(db::db_rows_affected(insert), 1);
    EXPECT_EQ(db::db_step(insert), TRELLIS_DB_DONE);
    db::db_finalize(insert);

    trellis_stmt* select = nullptr;
    ASSERT_EQ(db::db_prepare(c.get(), s("SELECT id, i, r, s, n AS Nada FROM t WHERE s = :s AND id = :id"), &select),
              TRELLIS_DB_OK)
        << c.message();
    ASSERT_EQ(db::db_bind_text(select, s("s"), s(nasty)), TRELLIS_DB_OK);
    ASSERT_EQ(db::db_bind_int(select, s("id"), 1), TRELLIS_DB_OK);
    ASSERT_EQ(db::db_step(select), TRELLIS_DB_ROW) << c.message();
    ASSERT_EQ(db::db_column_count(select), 5);
    EXPECT_EQ(text(db::db_column_name(select, 0)), "id");
    EXPECT_EQ(text(db::db_column_name(select, 4)), "nada");
    EXPECT_EQ(db::db_column_index(select, s("S")), 3);
    EXPECT_EQ(db::db_column_index(select, s("nada")), 4);
    EXPECT_EQ(db::db_column_index(select, s("missing")), -1);

    EXPECT_EQ(db::db_column_type(select, 0), TRELLIS_DB_INTEGER);
    EXPECT_EQ(db::db_column_type(select, 1), TRELLIS_DB_INTEGER);
    EXPECT_EQ(db::db_column_int(select, 1), 9007199254740993LL);
    EXPECT_EQ(text(db::db_column_text(select, 1)), "9007199254740993");
    EXPECT_EQ(db::db_column_type(select, 2), TRELLIS_DB_REAL);
    EXPECT_DOUBLE_EQ(db::db_column_real(select, 2), 0.1);
    EXPECT_EQ(text(db::db_column_text(select, 2)), "0.1");
    EXPECT_EQ(db::db_column_type(select, 3), TRELLIS_DB_TEXT);
    const trellis_str view = db::db_column_text(select, 3);
    EXPECT_EQ(text(view), nasty);
    EXPECT_EQ(db::db_column_text(select, 3).ptr, view.ptr);  // stable until the next step
    EXPECT_EQ(db::db_column_type(select, 4), TRELLIS_DB_NULL);
    EXPECT_EQ(text(db::db_column_text(select, 4)), "");
    EXPECT_EQ(db::db_column_int(select, 4), 0);
    EXPECT_EQ(db::db_step(select), TRELLIS_DB_DONE);
    db::db_finalize(select);

    // The metacharacters were data: the table is still there.
    EXPECT_EQ(c.scalar("SELECT count(*) FROM t"), 1);
}

TYPED_TEST(DbTest, TypesOfExpressions) {
    auto cp = this->call();
    Call& c = *cp;
    trellis_stmt* stmt = nullptr;
    ASSERT_EQ(db::db_prepare(c.get(), s("SELECT count(*) AS n, 1 + 1 AS two, 2.5 AS half, 'a''b' AS txt, NULL AS nada, "
                                        ":p AS p"),
                             &stmt),
              TRELLIS_DB_OK)
        << c.message();
    ASSERT_EQ(db::db_bind_text(stmt, s("p"), s("x")), TRELLIS_DB_OK);
    ASSERT_EQ(db::db_step(stmt), TRELLIS_DB_ROW) << c.message();
    EXPECT_EQ(db::db_column_type(stmt, 0), TRELLIS_DB_INTEGER);
    EXPECT_EQ(db::db_column_int(stmt, 0), 1);
    EXPECT_EQ(db::db_column_type(stmt, 1), TRELLIS_DB_INTEGER);
    EXPECT_EQ(db::db_column_int(stmt, 1), 2);
    EXPECT_EQ(db::db_column_type(stmt, 2), TRELLIS_DB_REAL);
    EXPECT_DOUBLE_EQ(db::db_column_real(stmt, 2), 2.5);
    EXPECT_EQ(db::db_column_type(stmt, 3), TRELLIS_DB_TEXT);
    EXPECT_EQ(text(db::db_column_text(stmt, 3)), "a'b");
    EXPECT_EQ(db::db_column_type(stmt, 4), TRELLIS_DB_NULL);
    EXPECT_EQ(text(db::db_column_text(stmt, 5)), "x");
    EXPECT_EQ(text(db::db_column_name(stmt, 2)), "half");
    db::db_finalize(stmt);
}

TYPED_TEST(DbTest, StepsThroughRowsAndCountsChanges) {
    auto cp = this->call();
    Call& c = *cp;
    ASSERT_EQ(c.exec(std::string("CREATE TABLE t (id ") + TypeParam::serial + ", v INTEGER)"), TRELLIS_DB_DONE) << c.message();

    // INSERT ... RETURNING yields a row: the backend says so, not the SQL's first word.
    std::vector<int64_t> ids;
    for (int v : {10, 20, 30}) {
        trellis_stmt* stmt = nullptr;
        ASSERT_EQ(db::db_prepare(c.get(), s("INSERT INTO t (v) VALUES (:v) RETURNING id"), &stmt), TRELLIS_DB_OK) << c.message();
        ASSERT_EQ(db::db_bind_int(stmt, s("v"), v), TRELLIS_DB_OK);
        ASSERT_EQ(db::db_step(stmt), TRELLIS_DB_ROW) << c.message();
        ids.push_back(db::db_column_int(stmt, 0));
        EXPECT_EQ(db::db_step(stmt), TRELLIS_DB_DONE);
        db::db_finalize(stmt);
    }
    EXPECT_EQ(ids.size(), 3u);
    EXPECT_LT(ids[0], ids[1]);

    trellis_stmt* update = nullptr;
    ASSERT_EQ(db::db_prepare(c.get(), s("UPDATE t SET v = v + 1 WHERE v >= :min"), &update), TRELLIS_DB_OK);
    ASSERT_EQ(db::db_bind_int(update, s("min"), 20), TRELLIS_DB_OK);
    ASSERT_EQ(db::db_step(update), TRELLIS_DB_DONE) << c.message();
    EXPECT_EQ(db::db_rows_affected(update), 2);
    EXPECT_EQ(db::db_column_count(update), 0);

    trellis_stmt* del = nullptr;
    ASSERT_EQ(db::db_prepare(c.get(), s("DELETE FROM t WHERE v = 999"), &del), TRELLIS_DB_OK);
    ASSERT_EQ(db::db_step(del), TRELLIS_DB_DONE);
    EXPECT_EQ(db::db_rows_affected(del), 0);

    trellis_stmt* select = nullptr;
    ASSERT_EQ(db::db_prepare(c.get(), s("SELECT v FROM t ORDER BY v"), &select), TRELLIS_DB_OK);
    std::vector<int64_t> values;
    int rc;
    while ((rc = db::db_step(select)) == TRELLIS_DB_ROW) values.push_back(db::db_column_int(select, 0));
    EXPECT_EQ(rc, TRELLIS_DB_DONE);
    EXPECT_EQ(values, (std::vector<int64_t>{10, 21, 31}));
    EXPECT_EQ(db::db_step(select), TRELLIS_DB_DONE);

    trellis_stmt* empty = nullptr;
    ASSERT_EQ(db::db_prepare(c.get(), s("SELECT v FROM t WHERE v < 0"), &empty), TRELLIS_DB_OK);
    EXPECT_EQ(db::db_step(empty), TRELLIS_DB_DONE);
    // Unfinalized statements are the call's: the CallDb frees them.
}

TYPED_TEST(DbTest, ConstraintViolations) {
    auto cp = this->call();
    Call& c = *cp;
    ASSERT_EQ(c.exec("CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT UNIQUE, n INTEGER CHECK (n > 0))"), TRELLIS_DB_DONE)
        << c.message();
    ASSERT_EQ(c.exec("CREATE TABLE child (id INTEGER PRIMARY KEY, parent INTEGER REFERENCES parent(id))"), TRELLIS_DB_DONE)
        << c.message();
    ASSERT_EQ(c.exec("INSERT INTO parent (id, name, n) VALUES (1, 'a', 1)"), TRELLIS_DB_DONE) << c.message();

    EXPECT_EQ(c.exec("INSERT INTO parent (id, name, n) VALUES (1, 'b', 1)"), TRELLIS_DB_CONSTRAINT);
    EXPECT_EQ(c.error(), TRELLIS_DB_CONSTRAINT);
    EXPECT_FALSE(c.message().empty());
    EXPECT_EQ(c.exec("INSERT INTO parent (id, name, n) VALUES (2, 'a', 1)"), TRELLIS_DB_CONSTRAINT) << c.message();
    EXPECT_EQ(c.exec("INSERT INTO parent (id, name, n) VALUES (3, 'c', 0)"), TRELLIS_DB_CONSTRAINT) << c.message();
    // Foreign keys are enforced (SQLite: PRAGMA foreign_keys=ON on every connection).
    EXPECT_EQ(c.exec("INSERT INTO child (id, parent) VALUES (1, 42)"), TRELLIS_DB_CONSTRAINT) << c.message();
    // The session is still usable afterwards.
    EXPECT_EQ(c.scalar("SELECT count(*) FROM parent"), 1);
}

TYPED_TEST(DbTest, SyntaxErrorsAndMisuse) {
    auto cp = this->call();
    Call& c = *cp;
    trellis_stmt* stmt = reinterpret_cast<trellis_stmt*>(0x1);
    EXPECT_EQ(db::db_prepare(c.get(), s("SELEC 1"), &stmt), TRELLIS_DB_ERROR);
    EXPECT_EQ(stmt, nullptr);
    std::string message;
    EXPECT_EQ(c.error(&message), TRELLIS_DB_ERROR);
    EXPECT_NE(message.find("SELEC"), std::string::npos) << message;

    EXPECT_EQ(db::db_prepare(c.get(), s("SELECT * FROM no_such_table"), &stmt), TRELLIS_DB_ERROR);
    EXPECT_NE(c.message().find("no_such_table"), std::string::npos) << c.message();

    EXPECT_EQ(db::db_prepare(c.get(), s("   "), &stmt), TRELLIS_DB_MISUSE);

    // One statement per db_prepare: more is refused, not silently dropped.
    EXPECT_EQ(db::db_prepare(c.get(), s("SELECT 1; SELECT 2"), &stmt), TRELLIS_DB_ERROR);
    EXPECT_EQ(stmt, nullptr);
    EXPECT_NE(c.message().find("SELECT 2"), std::string::npos) << c.message();
    ASSERT_EQ(db::db_prepare(c.get(), s("SELECT 1 AS one; -- done\n ; /* trailing */  "), &stmt), TRELLIS_DB_OK)
        << c.message();
    EXPECT_EQ(db::db_step(stmt), TRELLIS_DB_ROW) << c.message();
    db::db_finalize(stmt);

    ASSERT_EQ(db::db_prepare(c.get(), s("SELECT :a AS a"), &stmt), TRELLIS_DB_OK) << c.message();
    EXPECT_EQ(db::db_bind_int(stmt, s("b"), 1), TRELLIS_DB_MISUSE);
    EXPECT_NE(c.message().find(":b"), std::string::npos) << c.message();
    EXPECT_EQ(db::db_step(stmt), TRELLIS_DB_MISUSE);  // :a never bound
    EXPECT_NE(c.message().find(":a is not bound"), std::string::npos) << c.message();
    db::db_finalize(stmt);

    ASSERT_EQ(db::db_prepare(c.get(), s("SELECT :a AS a"), &stmt), TRELLIS_DB_OK);
    EXPECT_EQ(db::db_column_int(stmt, 0), 0);  // no row yet
    EXPECT_EQ(c.error(), TRELLIS_DB_MISUSE);
    ASSERT_EQ(db::db_bind_int(stmt, s("a"), 5), TRELLIS_DB_OK);
    ASSERT_EQ(db::db_step(stmt), TRELLIS_DB_ROW) << c.message();
    EXPECT_EQ(db::db_bind_int(stmt, s("a"), 6), TRELLIS_DB_MISUSE);  // too late
    EXPECT_EQ(text(db::db_column_text(stmt, 7)), "");
    EXPECT_EQ(c.error(), TRELLIS_DB_MISUSE);
    EXPECT_EQ(db::db_column_type(stmt, -1), TRELLIS_DB_NULL);
    db::db_finalize(stmt);
    db::db_finalize(nullptr);

    EXPECT_EQ(db::db_commit(c.get()), TRELLIS_DB_MISUSE);
    EXPECT_EQ(db::db_rollback(c.get()), TRELLIS_DB_MISUSE);
    ASSERT_EQ(db::db_begin(c.get()), TRELLIS_DB_OK) << c.message();
    EXPECT_EQ(db::db_begin(c.get()), TRELLIS_DB_MISUSE);
    EXPECT_EQ(db::db_rollback(c.get()), TRELLIS_DB_OK);
}

TYPED_TEST(DbTest, Transactions) {
    {
        auto cp = this->call();
    Call& c = *cp;
        ASSERT_EQ(c.exec("CREATE TABLE t (id INTEGER PRIMARY KEY)"), TRELLIS_DB_DONE) << c.message();
        ASSERT_EQ(db::db_begin(c.get()), TRELLIS_DB_OK) << c.message();
        ASSERT_EQ(c.exec("INSERT INTO t (id) VALUES (1)"), TRELLIS_DB_DONE) << c.message();
        ASSERT_EQ(db::db_commit(c.get()), TRELLIS_DB_OK) << c.message();

        ASSERT_EQ(db::db_begin(c.get()), TRELLIS_DB_OK) << c.message();
        ASSERT_EQ(c.exec("INSERT INTO t (id) VALUES (2)"), TRELLIS_DB_DONE) << c.message();
        EXPECT_EQ(c.scalar("SELECT count(*) FROM t"), 2);  // its own writes
        ASSERT_EQ(db::db_rollback(c.get()), TRELLIS_DB_OK) << c.message();
        EXPECT_EQ(c.scalar("SELECT count(*) FROM t"), 1);

        // The request ends with a transaction open: rolled back.
        ASSERT_EQ(db::db_begin(c.get()), TRELLIS_DB_OK) << c.message();
        ASSERT_EQ(c.exec("INSERT INTO t (id) VALUES (3)"), TRELLIS_DB_DONE) << c.message();
        trellis_stmt* open_stmt = nullptr;
        ASSERT_EQ(db::db_prepare(c.get(), s("SELECT id FROM t"), &open_stmt), TRELLIS_DB_OK);
        ASSERT_EQ(db::db_step(open_stmt), TRELLIS_DB_ROW);  // and a statement mid-way
    }
    auto other = this->call();
    EXPECT_EQ(other->scalar("SELECT count(*) FROM t"), 1);
    // The session went back clean: it can write (SQLite: no lock left behind).
    EXPECT_EQ(other->exec("INSERT INTO t (id) VALUES (4)"), TRELLIS_DB_DONE) << other->message();

    // A second connection sees committed data only.
    auto second = this->another();
    Call reader(second.get());
    EXPECT_EQ(reader.scalar("SELECT count(*) FROM t"), 2);
}

TYPED_TEST(DbTest, PoolExhaustionIsUnavailableAfterTheWait) {
    auto small = this->another(2, 200ms);
    auto a = small->acquire();
    auto b = small->acquire();
    const auto start = std::chrono::steady_clock::now();
    try {
        small->acquire();
        FAIL() << "a third lease from a pool of two";
    } catch (const Unavailable& e) {
        EXPECT_NE(std::string(e.what()).find("busy"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find(this->url_.display), std::string::npos) << e.what();
    }
    const auto waited = std::chrono::steady_clock::now() - start;
    EXPECT_GE(waited, 190ms);
    EXPECT_LT(waited, 2s);

    // Through the ABI: a request answers 503.
    Call c(small.get());
    EXPECT_EQ(c.exec("SELECT 1"), TRELLIS_DB_UNAVAILABLE);
    EXPECT_EQ(c.error(), TRELLIS_DB_UNAVAILABLE);

    // A lease that comes back is handed out again, also to a waiter.
    std::thread release([lease = std::move(a)]() mutable {
        std::this_thread::sleep_for(50ms);
        auto gone = std::move(lease);
    });
    auto c2 = small->acquire();
    release.join();
    c2.session() << "SELECT 1";
}

TYPED_TEST(DbTest, DiscardedLeaseReconnects) {
    auto small = this->another(1, 500ms);
    {
        auto lease = small->acquire();
        lease.session() << "CREATE TABLE t (id INTEGER PRIMARY KEY)";
        lease.session() << "INSERT INTO t (id) VALUES (1)";
        lease.discard();
    }
    Call c(small.get());
    EXPECT_EQ(c.scalar("SELECT count(*) FROM t"), 1) << c.message();
}

TYPED_TEST(DbTest, NoDatabaseConfigured) {
    Call c(nullptr);
    trellis_stmt* stmt = nullptr;
    EXPECT_EQ(db::db_prepare(c.get(), s("SELECT 1"), &stmt), TRELLIS_DB_UNAVAILABLE);
    EXPECT_EQ(stmt, nullptr);
    EXPECT_EQ(db::db_begin(c.get()), TRELLIS_DB_UNAVAILABLE);
    std::string message;
    EXPECT_EQ(c.error(&message), TRELLIS_DB_UNAVAILABLE);
    EXPECT_EQ(message, "no database configured");
}

// ---- the statement cache ----------------------------------------------------
// Each pooled session keeps its idle prepared statements by SQL text. The
// tests use a pool of one, so that every call gets the same session, and
// count the statements prepared on the backend (db::backend_prepares()).

struct Stmt {
    Call& c;
    trellis_stmt* stmt = nullptr;
    Stmt(Call& call, std::string_view sql) : c(call) {
        EXPECT_EQ(db::db_prepare(c.get(), s(sql), &stmt), TRELLIS_DB_OK) << c.message();
    }
    ~Stmt() { db::db_finalize(stmt); }
    Stmt& i(std::string_view name, int64_t v) { return check(db::db_bind_int(stmt, s(name), v)); }
    Stmt& r(std::string_view name, double v) { return check(db::db_bind_real(stmt, s(name), v)); }
    Stmt& t(std::string_view name, std::string_view v) { return check(db::db_bind_text(stmt, s(name), s(v))); }
    Stmt& null(std::string_view name) { return check(db::db_bind_null(stmt, s(name))); }
    Stmt& check(int rc) {
        EXPECT_EQ(rc, TRELLIS_DB_OK) << c.message();
        return *this;
    }
    int step() { return db::db_step(stmt); }
    std::string col(int i) {
        return db::db_column_type(stmt, i) == TRELLIS_DB_NULL ? "NULL" : text(db::db_column_text(stmt, i));
    }
};

TYPED_TEST(DbTest, CachedStatementsRebindValuesOfEveryKind) {
    auto one = this->another(1);
    {
        Call setup(one.get());
        ASSERT_EQ(setup.exec("CREATE TABLE k (id INTEGER PRIMARY KEY, i BIGINT, r DOUBLE PRECISION, t TEXT)"), TRELLIS_DB_DONE)
            << setup.message();
    }

    const auto before = db::backend_prepares();
    const char* insert = "INSERT INTO k (id, i, r, t) VALUES (:id, :i, :r, :t)";
    {
        Call c(one.get());
        { Stmt st(c, insert); st.i("id", 1).i("i", 10).r("r", 1.5).t("t", "one"); EXPECT_EQ(st.step(), TRELLIS_DB_DONE) << c.message(); }
        { Stmt st(c, insert); st.i("id", 2).null("i").null("r").null("t"); EXPECT_EQ(st.step(), TRELLIS_DB_DONE) << c.message(); }
    }
    {
        Call c(one.get());  // another request, the same session
        Stmt st(c, insert);
        st.i("id", 3).i("i", -7).r("r", 0.25).t("t", "three");
        EXPECT_EQ(st.step(), TRELLIS_DB_DONE) << c.message();
        EXPECT_EQ(db::db_rows_affected(st.stmt), 1);
    }
    EXPECT_EQ(db::backend_prepares() - before, 1u) << "one INSERT prepared, reused twice";

    // Values of another kind than the cached statement was bound with (text
    // for an integer, then integer again): SQLite binds any kind to the same
    // statement; a SOCI statement (PostgreSQL) keeps the kinds of its first
    // execution, so each new kind gets a statement of its own.
    const char* select = "SELECT id, i, r, t FROM k WHERE id = :id";
    Call c(one.get());
    auto read = [&](auto&& bind_id) {
        Stmt st(c, select);
        bind_id(st);
        std::string out;
        while (st.step() == TRELLIS_DB_ROW) out += st.col(0) + "|" + st.col(1) + "|" + st.col(2) + "|" + st.col(3) + ";";
        return out;
    };
    const auto selects = db::backend_prepares();
    EXPECT_EQ(read([](Stmt& st) { st.i("id", 1); }), "1|10|1.5|one;");
    EXPECT_EQ(read([](Stmt& st) { st.i("id", 2); }), "2|NULL|NULL|NULL;");
    EXPECT_EQ(read([](Stmt& st) { st.null("id"); }), "");
    EXPECT_EQ(read([](Stmt& st) { st.i("id", 3); }), "3|-7|0.25|three;");
    EXPECT_EQ(db::backend_prepares() - selects, 1u);
    EXPECT_EQ(read([](Stmt& st) { st.t("id", "1"); }), "1|10|1.5|one;");
    EXPECT_EQ(read([](Stmt& st) { st.i("id", 2); }), "2|NULL|NULL|NULL;");
    EXPECT_EQ(db::backend_prepares() - selects, TypeParam::backend == Backend::Sqlite ? 1u : 3u);

    // Every use binds again: a parameter left unbound is still an error.
    {
        Stmt st(c, select);
        EXPECT_EQ(st.step(), TRELLIS_DB_MISUSE);
    }
    EXPECT_EQ(read([](Stmt& st) { st.i("id", 3); }), "3|-7|0.25|three;");

    // Changes are counted per execution.
    const char* update = "UPDATE k SET t = :t WHERE id = :id";
    for (int64_t id : {1, 2, 99, 3}) {
        Stmt st(c, update);
        st.t("t", "x").i("id", id);
        EXPECT_EQ(st.step(), TRELLIS_DB_DONE) << c.message();
        EXPECT_EQ(db::db_rows_affected(st.stmt), id == 99 ? 0 : 1) << id;
    }
}

TYPED_TEST(DbTest, CachedStatementsOpenTwiceAtOnceAreDistinct) {
    auto one = this->another(1);
    Call c(one.get());
    ASSERT_EQ(c.exec("CREATE TABLE n (id INTEGER PRIMARY KEY)"), TRELLIS_DB_DONE) << c.message();
    for (int i = 1; i <= 4; ++i) ASSERT_EQ(c.exec("INSERT INTO n (id) VALUES (" + std::to_string(i) + ")"), TRELLIS_DB_DONE);
    const char* sql = "SELECT id FROM n WHERE id >= :from ORDER BY id";
    { Stmt warm(c, sql); warm.i("from", 1); EXPECT_EQ(warm.step(), TRELLIS_DB_ROW); }

    const auto before = db::backend_prepares();
    {
        Stmt a(c, sql), b(c, sql);
        ASSERT_NE(a.stmt, b.stmt);
        a.i("from", 1);
        b.i("from", 3);
        std::string out;
        for (int k = 0; k < 2; ++k) {
            ASSERT_EQ(a.step(), TRELLIS_DB_ROW) << c.message();
            ASSERT_EQ(b.step(), TRELLIS_DB_ROW) << c.message();
            out += a.col(0) + b.col(0) + " ";
        }
        EXPECT_EQ(out, "13 24 ");
        EXPECT_EQ(b.step(), TRELLIS_DB_DONE);
        EXPECT_EQ(a.step(), TRELLIS_DB_ROW);
    }
    EXPECT_EQ(db::backend_prepares() - before, 1u) << "the second one open at the same time is new";
    { Stmt again(c, sql); again.i("from", 4); EXPECT_EQ(again.step(), TRELLIS_DB_ROW); EXPECT_EQ(again.col(0), "4"); }
    EXPECT_EQ(db::backend_prepares() - before, 1u);
}

TYPED_TEST(DbTest, CachedStatementsLeaveNoReadOpen) {
    auto one = this->another(1);
    {
        Call c(one.get());
        ASSERT_EQ(c.exec("CREATE TABLE n (id INTEGER PRIMARY KEY)"), TRELLIS_DB_DONE) << c.message();
        ASSERT_EQ(c.exec("INSERT INTO n (id) VALUES (1)"), TRELLIS_DB_DONE);
        ASSERT_EQ(c.exec("INSERT INTO n (id) VALUES (2)"), TRELLIS_DB_DONE);
        Stmt partly(c, "SELECT id FROM n ORDER BY id");
        ASSERT_EQ(partly.step(), TRELLIS_DB_ROW);  // finalized (cached) before its last row
    }
    // Another connection writes; the cached statement's session sees it
    // (SQLite: no read transaction, no old snapshot left open) and can write.
    auto other = this->another(1);
    Call writer(other.get());
    ASSERT_EQ(writer.exec("INSERT INTO n (id) VALUES (3)"), TRELLIS_DB_DONE) << writer.message();
    Call c(one.get());
    EXPECT_EQ(c.scalar("SELECT count(*) FROM n"), 3);
    ASSERT_EQ(db::db_begin(c.get()), TRELLIS_DB_OK) << c.message();
    EXPECT_EQ(c.exec("INSERT INTO n (id) VALUES (4)"), TRELLIS_DB_DONE) << c.message();
    EXPECT_EQ(db::db_commit(c.get()), TRELLIS_DB_OK) << c.message();
    Stmt all(c, "SELECT id FROM n ORDER BY id");
    std::string out;
    while (all.step() == TRELLIS_DB_ROW) out += all.col(0);
    EXPECT_EQ(out, "1234");
}

// A read that stopped on a row keeps its SQLite read transaction after the
// request (a parked statement: the next lease, or the pool's settling of
// idle sessions, ends it). An idle session must not hold it for long: a
// TRUNCATE checkpoint needs every reader gone, and waits (busy timeout 5 s)
// until the pool settles the idle session instead of giving up busy.
TYPED_TEST(DbTest, IdleSessionsDoNotBlockCheckpoints) {
    if (TypeParam::backend != Backend::Sqlite) GTEST_SKIP() << "SQLite WAL checkpoints";
    auto one = this->another(1);
    {
        Call c(one.get());
        ASSERT_EQ(c.exec("CREATE TABLE w (id INTEGER PRIMARY KEY)"), TRELLIS_DB_DONE) << c.message();
        ASSERT_EQ(c.exec("INSERT INTO w (id) VALUES (1)"), TRELLIS_DB_DONE);
        ASSERT_EQ(c.exec("INSERT INTO w (id) VALUES (2)"), TRELLIS_DB_DONE);
        Stmt point(c, "SELECT id FROM w WHERE id = :id");
        point.i("id", 1);
        ASSERT_EQ(point.step(), TRELLIS_DB_ROW);  // finalized on its row: parked
    }
    auto other = this->another(1);
    Call writer(other.get());
    ASSERT_EQ(writer.exec("INSERT INTO w (id) VALUES (3)"), TRELLIS_DB_DONE) << writer.message();
    // busy, WAL frames, frames checkpointed: 0 busy and an emptied WAL.
    EXPECT_EQ(writer.scalar("PRAGMA wal_checkpoint(TRUNCATE)"), 0) << writer.message();
    EXPECT_EQ(writer.scalar("PRAGMA wal_checkpoint(PASSIVE)"), 0);
    // The parked session reads the new row (a fresh snapshot per lease).
    Call reader(one.get());
    EXPECT_EQ(reader.scalar("SELECT count(*) FROM w"), 3);
}

// Two statements of one SQL text stop on a row at once: one is kept for
// reuse (parked), the other finalized. The next lease settles the parked one
// only (run under valgrind, a finalized one reset would show), and sees
// what another connection wrote meanwhile, and can write itself.
TYPED_TEST(DbTest, ParkedStatementsAreSettledOnTheNextLease) {
    auto one = this->another(1);
    const char* sql = "SELECT id FROM p WHERE id >= :from ORDER BY id";
    {
        Call c(one.get());
        ASSERT_EQ(c.exec("CREATE TABLE p (id INTEGER PRIMARY KEY)"), TRELLIS_DB_DONE) << c.message();
        ASSERT_EQ(c.exec("INSERT INTO p (id) VALUES (1)"), TRELLIS_DB_DONE);
        ASSERT_EQ(c.exec("INSERT INTO p (id) VALUES (2)"), TRELLIS_DB_DONE);
        Stmt a(c, sql), b(c, sql);
        a.i("from", 1);
        b.i("from", 2);
        ASSERT_EQ(a.step(), TRELLIS_DB_ROW) << c.message();
        ASSERT_EQ(b.step(), TRELLIS_DB_ROW) << c.message();
    }
    {
        auto other = this->another(1);
        Call writer(other.get());
        ASSERT_EQ(writer.exec("INSERT INTO p (id) VALUES (3)"), TRELLIS_DB_DONE) << writer.message();
    }
    Call c(one.get());
    Stmt again(c, sql);
    again.i("from", 3);
    ASSERT_EQ(again.step(), TRELLIS_DB_ROW) << c.message();
    EXPECT_EQ(again.col(0), "3");
    ASSERT_EQ(db::db_begin(c.get()), TRELLIS_DB_OK) << c.message();
    EXPECT_EQ(c.exec("INSERT INTO p (id) VALUES (4)"), TRELLIS_DB_DONE) << c.message();
    EXPECT_EQ(db::db_commit(c.get()), TRELLIS_DB_OK) << c.message();
}

TYPED_TEST(DbTest, FailedStatementsAreNotCached) {
    auto one = this->another(1);
    Call c(one.get());
    ASSERT_EQ(c.exec("CREATE TABLE u (id INTEGER PRIMARY KEY)"), TRELLIS_DB_DONE) << c.message();
    const char* insert = "INSERT INTO u (id) VALUES (:id)";
    const auto before = db::backend_prepares();
    { Stmt st(c, insert); st.i("id", 1); EXPECT_EQ(st.step(), TRELLIS_DB_DONE) << c.message(); }
    { Stmt st(c, insert); st.i("id", 1); EXPECT_EQ(st.step(), TRELLIS_DB_CONSTRAINT); }
    EXPECT_EQ(db::backend_prepares() - before, 1u);
    { Stmt st(c, insert); st.i("id", 2); EXPECT_EQ(st.step(), TRELLIS_DB_DONE) << c.message(); }
    EXPECT_EQ(db::backend_prepares() - before, 2u) << "the failed one was dropped, not handed out again";
    { Stmt st(c, insert); st.i("id", 3); EXPECT_EQ(st.step(), TRELLIS_DB_DONE) << c.message(); }
    EXPECT_EQ(db::backend_prepares() - before, 2u);
    EXPECT_EQ(c.scalar("SELECT count(*) FROM u"), 3);
}

TYPED_TEST(DbTest, CacheIsPerSessionBoundedAndGoneOnReconnect) {
    auto one = this->another(1);
    const char* sql = "SELECT 1 AS one";
    {
        Call c(one.get());
        EXPECT_EQ(c.scalar(sql), 1);
    }
    auto before = db::backend_prepares();
    {
        Call c(one.get());
        EXPECT_EQ(c.scalar(sql), 1);
    }
    EXPECT_EQ(db::backend_prepares() - before, 0u);

    // A reconnected session starts with an empty cache.
    {
        auto lease = one->acquire();
        lease.discard();
    }
    {
        Call c(one.get());
        EXPECT_EQ(c.scalar(sql), 1);
        EXPECT_EQ(db::backend_prepares() - before, 1u);
    }

    // Bounded: the least recently used statement goes first.
    Call c(one.get());
    for (std::size_t i = 0; i < db::kStatementCacheSize; ++i)
        EXPECT_EQ(c.scalar("SELECT " + std::to_string(i) + " AS n"), static_cast<int64_t>(i));
    before = db::backend_prepares();
    EXPECT_EQ(c.scalar(sql), 1);  // evicted by the last of the loop
    EXPECT_EQ(c.scalar("SELECT " + std::to_string(db::kStatementCacheSize - 1) + " AS n"),
              static_cast<int64_t>(db::kStatementCacheSize - 1));
    EXPECT_EQ(db::backend_prepares() - before, 1u);
}

// ---- migrations -------------------------------------------------------------

std::vector<PluginSchema> sample_schemas() {
    return {
        {"notes",
         {{"model:note", "CREATE TABLE note (id INTEGER PRIMARY KEY, title TEXT NOT NULL, body TEXT)"},
          {"001_seed",
           "INSERT INTO note (id, title, body) VALUES (1, 'first; with a semicolon', 'it''s; here');\n"
           "-- a comment; with a semicolon\n"
           "INSERT INTO note (id, title) VALUES (2, 'second');"}}},
        {"tags", {{"model:tag", "CREATE TABLE tag (name TEXT PRIMARY KEY)"}}},
    };
}

TYPED_TEST(DbTest, MigrationsApplyOnceAndRefuseChanges) {
    auto schemas = sample_schemas();
    auto before = db::pending(*this->database_, schemas);
    EXPECT_EQ(before, (std::vector<std::string>{"notes/model:note", "notes/001_seed", "tags/model:tag"}));

    auto report = db::migrate(*this->database_, schemas);
    EXPECT_EQ(report.applied, 3);
    EXPECT_EQ(report.already, 0);
    EXPECT_TRUE(db::pending(*this->database_, schemas).empty());

    auto cp = this->call();
    Call& c = *cp;
    EXPECT_EQ(c.scalar("SELECT count(*) FROM note"), 2);
    trellis_stmt* stmt = nullptr;
    ASSERT_EQ(db::db_prepare(c.get(), s("SELECT title, body FROM note WHERE id = 1"), &stmt), TRELLIS_DB_OK);
    ASSERT_EQ(db::db_step(stmt), TRELLIS_DB_ROW);
    EXPECT_EQ(text(db::db_column_text(stmt, 0)), "first; with a semicolon");
    EXPECT_EQ(text(db::db_column_text(stmt, 1)), "it's; here");
    db::db_finalize(stmt);
    EXPECT_EQ(c.scalar("SELECT count(*) FROM trellis_migrations"), 3);
    ASSERT_EQ(db::db_prepare(c.get(), s("SELECT checksum, applied_at FROM trellis_migrations WHERE step = '001_seed'"), &stmt),
              TRELLIS_DB_OK);
    ASSERT_EQ(db::db_step(stmt), TRELLIS_DB_ROW);
    EXPECT_EQ(text(db::db_column_text(stmt, 0)), db::checksum(schemas[0].steps[1].sql));
    EXPECT_EQ(text(db::db_column_text(stmt, 1)).size(), 20u);  // 2024-01-02T03:04:05Z
    db::db_finalize(stmt);
    cp.reset();

    // Re-run: nothing to do.
    report = db::migrate(*this->database_, schemas);
    EXPECT_EQ(report.applied, 0);
    EXPECT_EQ(report.already, 3);

    // A new step is applied, the rest left alone.
    schemas[1].steps.push_back({"002_more", "CREATE TABLE more_tags (name TEXT)"});
    report = db::migrate(*this->database_, schemas);
    EXPECT_EQ(report.applied, 1);
    EXPECT_EQ(report.already, 3);

    // An applied step changed: refused, by migrate and by pending.
    auto changed = sample_schemas();
    changed[0].steps[1].sql += " ";
    const std::string expected = "plugin 'notes': migration '001_seed' was applied with checksum " +
                                 db::checksum(schemas[0].steps[1].sql) + " but the manifest now has " +
                                 db::checksum(changed[0].steps[1].sql) +
                                 "; migrations are immutable once applied: add a new migration instead";
    try {
        db::migrate(*this->database_, changed);
        FAIL() << "a changed migration was accepted";
    } catch (const MigrationError& e) {
        EXPECT_EQ(std::string(e.what()), expected);
    }
    EXPECT_THROW(db::pending(*this->database_, changed), MigrationError);
}

TYPED_TEST(DbTest, FailingMigrationIsRolledBackAndNotRecorded) {
    std::vector<PluginSchema> schemas = {
        {"notes",
         {{"model:note", "CREATE TABLE note (id INTEGER PRIMARY KEY)"},
          {"002_broken", "CREATE TABLE half_done (id INTEGER); INSERT INTO note (id) VALUES (1); INSERT INTO nowhere VALUES (1)"},
          {"003_never", "CREATE TABLE never (id INTEGER)"}}},
    };
    try {
        db::migrate(*this->database_, schemas);
        FAIL() << "a broken migration was applied";
    } catch (const MigrationError& e) {
        const std::string message = e.what();
        EXPECT_EQ(message.rfind("plugin 'notes': migration '002_broken' failed: ", 0), 0u) << message;
        EXPECT_NE(message.find("nowhere"), std::string::npos) << message;
    }
    auto cp = this->call();
    Call& c = *cp;
    EXPECT_EQ(c.scalar("SELECT count(*) FROM trellis_migrations"), 1);
    EXPECT_EQ(c.scalar("SELECT count(*) FROM note"), 0);
    EXPECT_EQ(c.exec("SELECT * FROM half_done"), TRELLIS_DB_ERROR);  // its DDL was rolled back too
    EXPECT_EQ(c.exec("SELECT * FROM never"), TRELLIS_DB_ERROR);
    cp.reset();
    EXPECT_EQ(db::pending(*this->database_, schemas), (std::vector<std::string>{"notes/002_broken", "notes/003_never"}));

    // Fixed: the run goes on from where it stopped.
    schemas[0].steps[1].sql = "CREATE TABLE half_done (id INTEGER)";
    auto report = db::migrate(*this->database_, schemas);
    EXPECT_EQ(report.applied, 2);
    EXPECT_EQ(report.already, 1);
}

// Two plugins that each declare a `note` model (with an indexed field) get a
// table and an index each: <plugin>_<model>, <table>_<field>_idx.
TYPED_TEST(DbTest, TwoPluginsWithANoteModelGetATableEach) {
    const auto schema_of = [&](const std::string& plugin) {
        const std::string yaml = "plugin: " + plugin + "\nversion: 1.0.0\nabi: 1.1\nmodels:\n  note:\n    fields:\n"
                                 "      id: {type: integer, primary_key: true}\n"
                                 "      tag: {type: text, index: true}\n";
        return db::plugin_schema(trellis::config::parse_manifest(yaml, plugin), TypeParam::backend);
    };
    const std::vector<PluginSchema> schemas = {schema_of("notes"), schema_of("memo")};
    EXPECT_EQ(db::migrate(*this->database_, schemas).applied, 2);
    auto cp = this->call();
    Call& c = *cp;
    EXPECT_EQ(c.exec("INSERT INTO notes_note (tag) VALUES ('a')"), TRELLIS_DB_DONE) << c.message();
    EXPECT_EQ(c.exec("INSERT INTO memo_note (tag) VALUES ('b')"), TRELLIS_DB_DONE) << c.message();
    EXPECT_EQ(c.exec("INSERT INTO memo_note (tag) VALUES ('c')"), TRELLIS_DB_DONE) << c.message();
    EXPECT_EQ(c.scalar("SELECT count(*) FROM notes_note"), 1);
    EXPECT_EQ(c.scalar("SELECT count(*) FROM memo_note"), 2);
    const std::string index_count =
        TypeParam::backend == Backend::Sqlite
            ? "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name IN ('notes_note_tag_idx', 'memo_note_tag_idx')"
            : "SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema() AND indexname IN ('notes_note_tag_idx', 'memo_note_tag_idx')";
    EXPECT_EQ(c.scalar(index_count), 2) << "each table has its own index";
}

TYPED_TEST(DbTest, ConcurrentHostsApplyEachStepOnce) {
    std::vector<PluginSchema> schemas = {
        {"counter",
         {{"model:applied", "CREATE TABLE applied (step TEXT)"},
          {"001", "INSERT INTO applied (step) VALUES ('001')"},
          {"002", "INSERT INTO applied (step) VALUES ('002')"},
          {"003", "INSERT INTO applied (step) VALUES ('003')"}}},
        {"other", {{"model:x", "CREATE TABLE other_x (id INTEGER)"}, {"001", "INSERT INTO other_x (id) VALUES (1)"}}},
    };
    constexpr int hosts = 4;
    std::vector<std::unique_ptr<Database>> databases;
    for (int i = 0; i < hosts; ++i) databases.push_back(this->another(2, 10000ms));  // one Database per "host"
    std::atomic<int> applied{0}, already{0}, failures{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (int i = 0; i < hosts; ++i) {
        threads.emplace_back([&, i] {
            while (!go) std::this_thread::yield();
            try {
                auto report = db::migrate(*databases[static_cast<std::size_t>(i)], schemas);
                applied += report.applied;
                already += report.already;
            } catch (const std::exception& e) {
                ADD_FAILURE() << "host " << i << ": " << e.what();
                ++failures;
            }
        });
    }
    go = true;
    for (auto& t : threads) t.join();
    EXPECT_EQ(failures.load(), 0);
    EXPECT_EQ(applied.load(), 6);
    EXPECT_EQ(already.load(), 6 * (hosts - 1));
    auto cp = this->call();
    Call& c = *cp;
    EXPECT_EQ(c.scalar("SELECT count(*) FROM applied"), 3);
    EXPECT_EQ(c.scalar("SELECT count(*) FROM other_x"), 1);
    EXPECT_EQ(c.scalar("SELECT count(*) FROM trellis_migrations"), 6);
}

TYPED_TEST(DbTest, ManyConcurrentRequests) {
    {
        auto cp = this->call();
    Call& c = *cp;
        ASSERT_EQ(c.exec("CREATE TABLE hits (id INTEGER PRIMARY KEY, n INTEGER)"), TRELLIS_DB_DONE) << c.message();
        ASSERT_EQ(c.exec("INSERT INTO hits (id, n) VALUES (1, 0)"), TRELLIS_DB_DONE) << c.message();
    }
    std::vector<std::thread> threads;
    std::atomic<int> errors{0};
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 25; ++i) {
                Call c(this->database_.get());
                if (db::db_begin(c.get()) != TRELLIS_DB_OK || c.exec("UPDATE hits SET n = n + 1 WHERE id = 1") != TRELLIS_DB_DONE ||
                    db::db_commit(c.get()) != TRELLIS_DB_OK) {
                    ++errors;
                    ADD_FAILURE() << c.message();
                }
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(errors.load(), 0);
    Call c(this->database_.get());
    EXPECT_EQ(c.scalar("SELECT n FROM hits WHERE id = 1"), 200);
}

// ---- SQLite specifics -------------------------------------------------------

TEST(SqliteDatabase, FileIsInWalModeWithForeignKeys) {
    auto dir = make_temp_dir();
    {
        Database database(db::parse_url("sqlite://wal.db", dir), 2, 1000ms);
        Call c(&database);
        trellis_stmt* stmt = nullptr;
        ASSERT_EQ(db::db_prepare(c.get(), s("PRAGMA journal_mode"), &stmt), TRELLIS_DB_OK) << c.message();
        ASSERT_EQ(db::db_step(stmt), TRELLIS_DB_ROW);
        EXPECT_EQ(text(db::db_column_text(stmt, 0)), "wal");
        db::db_finalize(stmt);
        EXPECT_EQ(c.scalar("PRAGMA foreign_keys"), 1);
        EXPECT_EQ(c.scalar("PRAGMA synchronous"), 1);  // NORMAL
        EXPECT_GE(c.scalar("PRAGMA busy_timeout"), 1000);
        EXPECT_EQ(c.exec("CREATE TABLE kept (id INTEGER)"), TRELLIS_DB_DONE);
        EXPECT_EQ(c.exec("INSERT INTO kept VALUES (7)"), TRELLIS_DB_DONE);
    }
    EXPECT_TRUE(fs::exists(dir / "wal.db"));
    Database again(db::parse_url("sqlite://" + (dir / "wal.db").string(), "/"), 1, 1000ms);
    Call c(&again);
    EXPECT_EQ(c.scalar("SELECT id FROM kept"), 7);
    fs::remove_all(dir);
}

TEST(SqliteDatabase, MemoryIsOneSharedDatabase) {
    Database database(db::parse_url("sqlite::memory:", "/"), 8, 1000ms);
    {
        Call c(&database);
        ASSERT_EQ(c.exec("CREATE TABLE m (id INTEGER)"), TRELLIS_DB_DONE) << c.message();
        ASSERT_EQ(c.exec("INSERT INTO m VALUES (1)"), TRELLIS_DB_DONE) << c.message();
    }
    std::vector<std::thread> threads;
    std::atomic<int> seen{0};
    for (int i = 0; i < 4; ++i) {
        threads.emplace_back([&] {
            Call c(&database);
            if (c.scalar("SELECT count(*) FROM m") == 1) ++seen;
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(seen.load(), 4);
}

TEST(SqliteDatabase, MissingFolderIsUnavailable) {
    Database database(db::parse_url("sqlite:///nonexistent-folder-for-trellis/x.db", "/"), 1, 100ms);
    try {
        database.acquire();
        FAIL() << "opened a database in a missing folder";
    } catch (const Unavailable& e) {
        EXPECT_NE(std::string(e.what()).find("sqlite:///nonexistent-folder-for-trellis/x.db"), std::string::npos) << e.what();
    }
    Call c(&database);
    EXPECT_EQ(c.exec("SELECT 1"), TRELLIS_DB_UNAVAILABLE);
}

// ---- URLs -------------------------------------------------------------------

TEST(DatabaseUrl, SqliteForms) {
    auto abs = db::parse_url("sqlite:///var/lib/trellis/trellis.db", "/etc/trellis");
    EXPECT_EQ(abs.backend, Backend::Sqlite);
    EXPECT_EQ(abs.connect, "/var/lib/trellis/trellis.db");
    EXPECT_EQ(abs.display, "sqlite:///var/lib/trellis/trellis.db");

    auto rel = db::parse_url("sqlite://data/app.db", "/srv/app");
    EXPECT_EQ(rel.connect, "/srv/app/data/app.db");
    EXPECT_EQ(rel.display, "sqlite:///srv/app/data/app.db");
    EXPECT_EQ(db::parse_url("sqlite://../x.db", "/srv/app").connect, "/srv/x.db");
    EXPECT_EQ(db::parse_url("sqlite:///with%20space.db", "/").connect, "/with space.db");
    EXPECT_EQ(db::parse_url("sqlite:///a=b.db", "/").connect, "db=\"/a=b.db\"");

    auto mem = db::parse_url("sqlite::memory:", "/");
    EXPECT_EQ(mem.backend, Backend::Sqlite);
    EXPECT_EQ(mem.connect, ":memory:");
    EXPECT_EQ(mem.display, "sqlite::memory:");
    EXPECT_EQ(db::backend_name(Backend::Sqlite), "sqlite");
    EXPECT_EQ(db::backend_name(Backend::Postgresql), "postgresql");
}

TEST(DatabaseUrl, PostgresqlForms) {
    auto full = db::parse_url("postgresql://app:s3cr%40t@db.example.com:6543/trellis", "/");
    EXPECT_EQ(full.backend, Backend::Postgresql);
    EXPECT_EQ(full.connect, "host='db.example.com' port=6543 dbname='trellis' user='app' password='s3cr@t'");
    EXPECT_EQ(full.display, "postgresql://app@db.example.com:6543/trellis");
    EXPECT_EQ(full.display.find("s3cr"), std::string::npos);

    auto plain = db::parse_url("postgresql://postgres@127.0.0.1/app", "/");
    EXPECT_EQ(plain.connect, "host='127.0.0.1' port=5432 dbname='app' user='postgres'");
    EXPECT_EQ(plain.display, "postgresql://postgres@127.0.0.1:5432/app");

    auto quoted = db::parse_url("postgres://o'neil:a'b\\c@[::1]:5433/my%20db", "/");
    EXPECT_EQ(quoted.connect, "host='::1' port=5433 dbname='my db' user='o\\'neil' password='a\\'b\\\\c'");
    EXPECT_EQ(quoted.display, "postgresql://o'neil@[::1]:5433/my%20db");
}

TEST(DatabaseUrl, ErrorsSayWhatIsWrong) {
    auto message = [](std::string_view url) -> std::string {
        try {
            db::parse_url(url, "/");
        } catch (const std::invalid_argument& e) {
            return e.what();
        }
        return "(accepted)";
    };
    EXPECT_NE(message("mysql://root@localhost/x").find("unsupported database 'mysql'"), std::string::npos);
    EXPECT_NE(message("").find("empty"), std::string::npos);
    EXPECT_NE(message("trellis.db").find("expected sqlite:///"), std::string::npos);
    EXPECT_NE(message("sqlite:trellis.db").find("expected sqlite:///"), std::string::npos);
    EXPECT_NE(message("sqlite://").find("no database file"), std::string::npos);
    EXPECT_NE(message("sqlite:///").find("no database file"), std::string::npos);
    EXPECT_NE(message("sqlite:///tmp/").find("folder"), std::string::npos);
    EXPECT_NE(message("sqlite:///x.db?mode=ro").find("query parameters"), std::string::npos);
    EXPECT_NE(message("postgresql://u@h:0/db").find("port"), std::string::npos);
    EXPECT_NE(message("postgresql://u@h:99999/db").find("port"), std::string::npos);
    EXPECT_NE(message("postgresql://u@h:abc/db").find("port"), std::string::npos);
    EXPECT_NE(message("postgresql://u@h:5432").find("no database name"), std::string::npos);
    EXPECT_NE(message("postgresql://u@h:5432/").find("no database name"), std::string::npos);
    EXPECT_NE(message("postgresql://u@/db").find("no host"), std::string::npos);
    EXPECT_NE(message("postgresql://u@h/db?sslmode=require").find("query parameters"), std::string::npos);
    EXPECT_NE(message("postgresql://u@h/d%zzb").find("percent"), std::string::npos);
    // The password never shows up in an error.
    const auto secret = message("postgresql://u:hunter2@h:1/");
    EXPECT_EQ(secret.find("hunter2"), std::string::npos) << secret;
    EXPECT_NE(secret.find("database url 'postgresql://u:***@h:1/'"), std::string::npos) << secret;
}

TEST(Migrations, ChecksumIsStableFnv1a) {
    EXPECT_EQ(db::checksum(""), "cbf29ce484222325");
    EXPECT_EQ(db::checksum("a"), "af63dc4c8601ec8c");
    EXPECT_NE(db::checksum("CREATE TABLE x (id INTEGER)"), db::checksum("CREATE TABLE x (id INTEGER) "));
}

// ---- PostgreSQL availability ------------------------------------------------

TEST(PostgresqlDatabase, UnreachableServerIsUnavailable) {
    // Port 1 on loopback: nothing listens there, the connection is refused.
    Database database(db::parse_url("postgresql://postgres@127.0.0.1:1/trellis_test", "/"), 2, 500ms);
    const auto start = std::chrono::steady_clock::now();
    try {
        database.acquire();
        FAIL() << "connected to nothing";
    } catch (const Unavailable& e) {
        EXPECT_NE(std::string(e.what()).find("postgresql://postgres@127.0.0.1:1/trellis_test"), std::string::npos) << e.what();
    }
    Call c(&database);
    EXPECT_EQ(c.exec("SELECT 1"), TRELLIS_DB_UNAVAILABLE);
    EXPECT_NE(c.message().find("cannot connect"), std::string::npos) << c.message();
    EXPECT_EQ(db::db_begin(c.get()), TRELLIS_DB_UNAVAILABLE);
    EXPECT_THROW(db::migrate(database, sample_schemas()), Unavailable);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

// Stops and starts a PostgreSQL server of its own (scripts/pg-test-server.sh)
// to check that the pool recovers without being recreated.
TEST(PostgresqlDatabase, RecoversWhenTheServerComesBack) {
    if (!pg_url()) GTEST_SKIP() << pg_hint;
    const fs::path dir = make_temp_dir();
    fs::permissions(dir, fs::perms::others_exec | fs::perms::others_read, fs::perm_options::add);
    const std::string script = std::string(TRELLIS_SOURCE_DIR) + "/scripts/pg-test-server.sh";
    auto run = [&](const std::string& command) {
        const std::string line = script + " " + command + " " + dir.string() + " > " + (dir.string() + ".out") + " 2>&1";
        return std::system(line.c_str());
    };
    ASSERT_EQ(run("start"), 0) << "could not start a second test server";
    std::string url;
    {
        std::ifstream in(dir / "url");
        std::getline(in, url);
    }
    ASSERT_FALSE(url.empty());
    {
        Database database(db::parse_url(url, "/"), 2, 3000ms);
        {
            Call c(&database);
            ASSERT_EQ(c.exec("CREATE TABLE survivor (id INTEGER)"), TRELLIS_DB_DONE) << c.message();
            ASSERT_EQ(c.exec("INSERT INTO survivor VALUES (1)"), TRELLIS_DB_DONE) << c.message();
            ASSERT_EQ(c.scalar("SELECT count(*) FROM survivor"), 1) << c.message();
        }

        // Restarted behind the pool's back: the idle session is dead, the
        // next request does not notice (the pool finds the connection closed
        // and reconnects; the SELECT, cached on the dead session, is prepared
        // again on the new one).
        ASSERT_EQ(run("restart"), 0);
        {
            Call c(&database);
            EXPECT_EQ(c.scalar("SELECT count(*) FROM survivor"), 1) << c.message();
        }

        // Down: requests get UNAVAILABLE, quickly.
        ASSERT_EQ(run("halt"), 0);
        {
            Call c(&database);
            EXPECT_EQ(c.exec("SELECT count(*) FROM survivor"), TRELLIS_DB_UNAVAILABLE);
            EXPECT_NE(c.message().find(database.url().display), std::string::npos) << c.message();
        }
        {
            // A transaction cut by the outage.
            ASSERT_EQ(run("start"), 0);
            Call c(&database);
            ASSERT_EQ(db::db_begin(c.get()), TRELLIS_DB_OK) << c.message();
            ASSERT_EQ(c.exec("INSERT INTO survivor VALUES (2)"), TRELLIS_DB_DONE) << c.message();
            ASSERT_EQ(run("halt"), 0);
            EXPECT_EQ(c.exec("INSERT INTO survivor VALUES (3)"), TRELLIS_DB_UNAVAILABLE) << c.message();
            EXPECT_EQ(db::db_commit(c.get()), TRELLIS_DB_UNAVAILABLE) << c.message();
        }

        // Back: the same pool serves again, no restart of the host needed.
        ASSERT_EQ(run("start"), 0);
        {
            Call c(&database);
            EXPECT_EQ(c.scalar("SELECT count(*) FROM survivor"), 1) << c.message();
        }
    }
    run("stop");
    fs::remove_all(dir);
    fs::remove(dir.string() + ".out");
}

}  // namespace
