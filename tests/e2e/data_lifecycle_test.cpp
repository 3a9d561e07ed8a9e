// Database life cycle against the real binary, on SQLite and PostgreSQL:
// data surviving restarts and kill -9, migrations (fresh apply, re-run,
// changed step refused, hosts starting together), and a PostgreSQL outage.
// Each test has a fresh database of its own.
#include <signal.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "data_support.hpp"

namespace e2e::data {
namespace {

constexpr const char* kNotes = "  notes: {mount: /notes}\n";
constexpr const char* kMigratorAndNotes =
    "  migrator: {mount: /mig}\n"
    "  notes: {mount: /notes}\n";

// Steps of migrator (model:mig_item, 002_seed, 003_extra) and notes
// (model:note, 001_title_index).
const std::vector<std::string> kAllSteps = {"migrator/002_seed", "migrator/003_extra", "migrator/model:mig_item",
                                            "notes/001_title_index", "notes/model:note"};

// --plugin-path for one release of the migrator plugin, then the usual ones.
std::vector<std::string> migrator_args(const std::string& release) {
    std::vector<std::string> args{"--plugin-path", (test_plugin_dir() / release).string()};
    for (const auto& a : default_plugin_args()) args.push_back(a);
    return args;
}

template <class B>
class DataLifecycle : public ::testing::Test {
protected:
    void SetUp() override {
        if (B::value == Backend::Postgresql && !pg_test_url()) GTEST_SKIP() << kNoPostgres;
        try {
            db_ = TestDatabase::create(B::value);
        } catch (const std::exception& e) {
            GTEST_FAIL() << "cannot create the test database: " << e.what();
        }
    }

    HostSpec notes_spec() const { return {db_->url(), kNotes}; }
    HostSpec migrator_spec(const std::string& release = "v1") const {
        return {db_->url(), kMigratorAndNotes, migrator_args(release)};
    }

    // "plugin/step" of every row of trellis_migrations with its count, when
    // the database can be queried directly.
    std::optional<std::map<std::string, int>> recorded_steps() const {
        auto text = db_->query(
            "SELECT plugin || '/' || step || ' ' || CAST(count(*) AS TEXT) FROM trellis_migrations "
            "GROUP BY plugin, step ORDER BY 1");
        if (!text) return std::nullopt;
        std::map<std::string, int> out;
        std::istringstream in(*text);
        std::string line;
        while (std::getline(in, line)) {
            const auto space = line.rfind(' ');
            if (space != std::string::npos) out[line.substr(0, space)] = std::stoi(line.substr(space + 1));
        }
        return out;
    }

    std::unique_ptr<TestDatabase> db_;
};

TYPED_TEST_SUITE(DataLifecycle, Backends, BackendNames);

json post_note(int port, const json& body) {
    Response r = send_json(port, "POST", "/notes", body);
    EXPECT_TRUE(IsJson(r, 201)) << body.dump();
    return r.status == 201 ? r.json() : json(nullptr);
}

std::string note_path(const json& note) { return "/notes/" + std::to_string(note.at("id").get<std::int64_t>()); }

::testing::AssertionResult HasCounts(const std::string& log, int applied, int already) {
    auto counts = migration_counts(log);
    if (!counts)
        return ::testing::AssertionFailure() << "no \"N migration steps applied, M already applied\" line in:\n" << log;
    if (counts->applied != applied || counts->already != already)
        return ::testing::AssertionFailure() << "expected " << applied << " applied, " << already
                                             << " already applied; got " << counts->applied << ", "
                                             << counts->already << " in:\n"
                                             << log;
    return ::testing::AssertionSuccess();
}

// ---- durability ----

TYPED_TEST(DataLifecycle, DataSurvivesAHostRestart) {
    const std::string tag = unique_name("r");
    json kept, patched, deleted;
    {
        auto host = start_host(this->notes_spec());
        kept = post_note(host->port(), {{"title", "kept"}, {"body", "b"}, {"tag", tag}, {"pinned", true},
                                        {"created", "2024-05-01T12:00:00Z"}});
        patched = post_note(host->port(), {{"title", "before"}, {"tag", tag}});
        deleted = post_note(host->port(), {{"title", "deleted"}, {"tag", tag}});
        ASSERT_FALSE(kept.is_null() || patched.is_null() || deleted.is_null());
        Response r = send_json(host->port(), "PATCH", note_path(patched), {{"title", "after"}});
        ASSERT_TRUE(IsJson(r, 200));
        patched = r.json();
        ASSERT_EQ(http(host->port(), "DELETE", note_path(deleted)).status, 204);

        ExitStatus s = host->stop(SIGTERM);
        ASSERT_TRUE(s.exited && s.code == 0) << s.describe() << "\n" << host->err();
    }
    auto host = start_host(this->notes_spec());
    EXPECT_TRUE(HasCounts(host->err(), 0, 2)) << "a restart applies nothing";
    for (const json& note : {kept, patched}) {
        Response r = get(host->port(), note_path(note));
        ASSERT_TRUE(IsJson(r, 200));
        EXPECT_EQ(r.json(), note);
    }
    EXPECT_EQ(get(host->port(), note_path(deleted)).status, 404);
    Response list = get(host->port(), "/notes?tag=" + tag);
    ASSERT_TRUE(IsJson(list, 200));
    EXPECT_EQ(list.json().value("total", -1), 2);
    EXPECT_EQ(host->stop(SIGTERM).code, 0);
}

TYPED_TEST(DataLifecycle, AcknowledgedRowsSurviveKill9) {
    constexpr int kRows = 200;
    const std::string tag = unique_name("k");
    std::vector<json> acknowledged;
    {
        auto host = start_host(this->notes_spec());
        Connection conn(host->port());  // one keep-alive connection, like a busy client
        for (int i = 0; i < kRows; ++i) {
            json body = {{"title", "row " + std::to_string(i)}, {"tag", tag}, {"body", std::string(i, 'b')}};
            Response r = conn.request("POST", "/notes", {{"Content-Type", "application/json"}}, body.dump());
            ASSERT_TRUE(IsJson(r, 201)) << "row " << i;
            acknowledged.push_back(r.json());
        }
        // Updates acknowledged just before the kill count too.
        for (int i = kRows - 10; i < kRows; ++i) {
            const std::string path = note_path(acknowledged[i]);
            Response r = conn.request("PATCH", path, {{"Content-Type", "application/json"}},
                                      json{{"pinned", true}}.dump());
            ASSERT_TRUE(IsJson(r, 200)) << path;
            acknowledged[i] = r.json();
        }
        host->process().signal(SIGKILL);
        auto s = host->process().wait_for(std::chrono::seconds(10));
        ASSERT_TRUE(s && s->signal == SIGKILL) << (s ? s->describe() : "still running");
    }
    auto host = start_host(this->notes_spec());
    Response list = get(host->port(), "/notes?tag=" + tag + "&limit=1000");
    ASSERT_TRUE(IsJson(list, 200));
    const json page = list.json();
    EXPECT_EQ(page.value("total", -1), kRows) << "every acknowledged row is there";
    ASSERT_EQ(page["items"].size(), acknowledged.size());
    for (std::size_t i = 0; i < acknowledged.size(); ++i) EXPECT_EQ(page["items"][i], acknowledged[i]) << "row " << i;
    // And the database is usable: writes go on.
    EXPECT_FALSE(post_note(host->port(), {{"title", "after the crash"}, {"tag", tag}}).is_null());
    EXPECT_EQ(host->stop(SIGTERM).code, 0);
}

// ---- migrations ----

TYPED_TEST(DataLifecycle, FreshDatabaseGetsEveryMigrationOnFirstStart) {
    const HostSpec spec = this->migrator_spec();

    // check lists what is pending and changes nothing.
    RunResult check = trellis_command("check", spec);
    ASSERT_TRUE(check.status.exited && check.status.code == 0) << check.describe();
    for (const auto& step : kAllSteps) EXPECT_TRUE(Contains(check.out, "pending migration: " + step));
    if (this->db_->backend() == Backend::Postgresql) {
        EXPECT_EQ(this->db_->query("SELECT to_regclass('trellis_migrations') IS NULL").value_or("?"), "t")
            << "trellis check must not create the migrations table";
    } else if (auto n = this->db_->query("SELECT count(*) FROM sqlite_master WHERE name = 'trellis_migrations'")) {
        EXPECT_EQ(*n, "0") << "trellis check must not create the migrations table";
    }

    auto host = start_host(spec);
    EXPECT_TRUE(HasCounts(host->err(), 5, 0));

    Response items = get(host->port(), "/mig/items");
    ASSERT_TRUE(IsJson(items, 200));
    EXPECT_EQ(items.json().value("total", -1), 1) << items.body;
    ASSERT_EQ(items.json()["items"].size(), 1u) << items.body;
    EXPECT_EQ(items.json()["items"][0]["name"], "seeded by v1");

    Response extra = get(host->port(), "/mig/extra");
    ASSERT_TRUE(IsJson(extra, 200));
    EXPECT_EQ(extra.json(), (json{{"keys", {"a;b"}}})) << "two statements in one step, ';' inside a string kept";

    EXPECT_TRUE(IsJson(send_json(host->port(), "POST", "/notes", {{"title", "t"}}), 201)) << "notes table created";

    if (auto steps = this->recorded_steps()) {
        std::map<std::string, int> expected;
        for (const auto& s : kAllSteps) expected[s] = 1;
        EXPECT_EQ(*steps, expected);
    }
    EXPECT_EQ(host->stop(SIGTERM).code, 0);
}

TYPED_TEST(DataLifecycle, RerunningMigrationsIsANoOp) {
    const HostSpec spec = this->migrator_spec();
    {
        auto host = start_host(spec);
        EXPECT_TRUE(HasCounts(host->err(), 5, 0));
        ASSERT_TRUE(IsJson(send_json(host->port(), "POST", "/mig/items", {{"name", "mine"}}), 201));
        EXPECT_EQ(host->stop(SIGTERM).code, 0);
    }
    auto host = start_host(spec);
    EXPECT_TRUE(HasCounts(host->err(), 0, 5));
    Response items = get(host->port(), "/mig/items");
    ASSERT_TRUE(IsJson(items, 200));
    EXPECT_EQ(items.json().value("total", -1), 2) << "the seed step did not run again: " << items.body;
    EXPECT_EQ(get(host->port(), "/mig/extra").json(), (json{{"keys", {"a;b"}}}));

    RunResult check = trellis_command("check", spec);
    EXPECT_TRUE(check.status.exited && check.status.code == 0) << check.describe();
    EXPECT_TRUE(NotContains(check.out, "pending migration"));

    RunResult migrate = trellis_command("migrate", spec);
    EXPECT_TRUE(migrate.status.exited && migrate.status.code == 0) << migrate.describe();
    EXPECT_TRUE(HasCounts(migrate.out + migrate.err, 0, 5));
    EXPECT_EQ(host->stop(SIGTERM).code, 0);
}

TYPED_TEST(DataLifecycle, MigrateCommandAppliesWithoutServing) {
    const HostSpec spec = this->migrator_spec();
    RunResult migrate = trellis_command("migrate", spec);
    ASSERT_TRUE(migrate.status.exited && migrate.status.code == 0) << migrate.describe();
    EXPECT_TRUE(HasCounts(migrate.out + migrate.err, 5, 0));

    RunResult check = trellis_command("check", spec);
    EXPECT_TRUE(check.status.exited && check.status.code == 0) << check.describe();
    EXPECT_TRUE(NotContains(check.out, "pending migration"));

    auto host = start_host(spec);
    EXPECT_TRUE(HasCounts(host->err(), 0, 5));
    EXPECT_EQ(get(host->port(), "/mig/items").json().value("total", -1), 1);
    EXPECT_EQ(host->stop(SIGTERM).code, 0);
}

// One line of `output` names both the plugin and the step (the plugin's
// name alone is in every "plugin migrator loaded" line).
::testing::AssertionResult NamesPluginAndStep(const std::string& output, const std::string& step = "002_seed") {
    std::istringstream in(output);
    std::string line;
    while (std::getline(in, line))
        if (line.find("migrator") != std::string::npos && line.find(step) != std::string::npos)
            return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "no line names both the plugin (migrator) and the step (" << step
                                         << "):\n"
                                         << output;
}

TYPED_TEST(DataLifecycle, ChangedMigrationIsRefused) {
    {
        auto host = start_host(this->migrator_spec("v1"));
        EXPECT_TRUE(HasCounts(host->err(), 5, 0));
        EXPECT_EQ(host->stop(SIGTERM).code, 0);
    }
    const HostSpec v2 = this->migrator_spec("v2");

    RunResult serve = trellis_command("serve", v2);
    EXPECT_TRUE(serve.status.exited && serve.status.code == 1) << serve.describe();
    EXPECT_TRUE(NamesPluginAndStep(serve.err));

    RunResult migrate = trellis_command("migrate", v2);
    EXPECT_TRUE(migrate.status.exited && migrate.status.code == 1) << migrate.describe();
    EXPECT_TRUE(NamesPluginAndStep(migrate.err));

    RunResult check = trellis_command("check", v2);
    EXPECT_TRUE(check.status.exited && check.status.code == 1) << check.describe();
    EXPECT_TRUE(NamesPluginAndStep(check.out + check.err));

    // Nothing of v2 reached the database: v1 still serves, unchanged.
    auto host = start_host(this->migrator_spec("v1"));
    EXPECT_TRUE(HasCounts(host->err(), 0, 5));
    Response items = get(host->port(), "/mig/items");
    ASSERT_TRUE(IsJson(items, 200));
    ASSERT_EQ(items.json()["items"].size(), 1u) << items.body;
    EXPECT_EQ(items.json()["items"][0]["name"], "seeded by v1");
    EXPECT_EQ(host->stop(SIGTERM).code, 0);
}

TYPED_TEST(DataLifecycle, FailingMigrationStepIsRolledBackAndNotRecorded) {
    // v1's steps, then 004_broken that fails halfway; the migrator alone.
    const HostSpec v3(this->db_->url(), "  migrator: {mount: /mig}\n", migrator_args("v3"));
    const std::map<std::string, int> earlier = {
        {"migrator/model:mig_item", 1}, {"migrator/002_seed", 1}, {"migrator/003_extra", 1}};

    for (int run = 0; run < 2; ++run) {
        SCOPED_TRACE(run == 0 ? "first start" : "second start");
        RunResult serve = trellis_command("serve", v3);
        EXPECT_TRUE(serve.status.exited && serve.status.code == 1) << serve.describe();
        EXPECT_TRUE(NamesPluginAndStep(serve.err, "004_broken"));
        EXPECT_TRUE(Contains(serve.err, "mig_no_such_table")) << "the database's reason is shown";
        // Had the step's CREATE TABLE been kept, the second run would trip on it.
        EXPECT_TRUE(NotContains(serve.err, "mig_half"));
        if (auto steps = this->recorded_steps()) {
            EXPECT_EQ(*steps, earlier) << "earlier steps kept, 004 not recorded";
        }
        if (this->db_->backend() == Backend::Postgresql) {
            EXPECT_EQ(this->db_->query("SELECT to_regclass('mig_half') IS NULL").value_or("?"), "t")
                << "the failed step's first statement was rolled back";
        } else if (auto n = this->db_->query("SELECT count(*) FROM sqlite_master WHERE name = 'mig_half'")) {
            EXPECT_EQ(*n, "0") << "the failed step's first statement was rolled back";
        }
    }
    RunResult check = trellis_command("check", v3);
    EXPECT_TRUE(Contains(check.out, "pending migration: migrator/004_broken")) << check.describe();
    EXPECT_TRUE(NotContains(check.out, "pending migration: migrator/002_seed"));

    // The release before still serves on this database.
    auto host = start_host(HostSpec(this->db_->url(), "  migrator: {mount: /mig}\n", migrator_args("v1")));
    EXPECT_TRUE(HasCounts(host->err(), 0, 3));
    EXPECT_EQ(get(host->port(), "/mig/items").json().value("total", -1), 1);
    EXPECT_EQ(host->stop(SIGTERM).code, 0);
}

TYPED_TEST(DataLifecycle, HostsStartingTogetherApplyEachStepOnce) {
    constexpr int kHosts = 3;
    const HostSpec spec = this->migrator_spec();
    std::vector<std::unique_ptr<Host>> hosts;
    for (int i = 0; i < kHosts; ++i) hosts.push_back(launch_host(spec));  // all at once, nobody waits
    for (auto& h : hosts) {
        const std::string why = h->wait_listening();
        ASSERT_TRUE(why.empty()) << why;
    }
    int applied = 0;
    for (auto& h : hosts) {
        auto counts = migration_counts(h->err());
        ASSERT_TRUE(counts) << h->err();
        EXPECT_EQ(counts->applied + counts->already, 5) << h->err();
        applied += counts->applied;
    }
    EXPECT_EQ(applied, 5) << "each step applied by exactly one host";

    for (auto& h : hosts) {
        Response items = get(h->port(), "/mig/items");
        ASSERT_TRUE(IsJson(items, 200));
        EXPECT_EQ(items.json().value("total", -1), 1) << "seeded once: " << items.body;
        EXPECT_EQ(get(h->port(), "/mig/extra").json(), (json{{"keys", {"a;b"}}}));
        EXPECT_TRUE(IsJson(send_json(h->port(), "POST", "/notes", {{"title", "t"}}), 201));
    }
    if (auto steps = this->recorded_steps()) {
        std::map<std::string, int> expected;
        for (const auto& s : kAllSteps) expected[s] = 1;
        EXPECT_EQ(*steps, expected) << "trellis_migrations: exactly one row per step";
    }
    for (auto& h : hosts) EXPECT_EQ(h->stop(SIGTERM).code, 0) << h->err();
}

// ---- a PostgreSQL outage ----

// Waits until `GET target` answers `status` (up to `timeout`); the last answer.
Response wait_for_status(int port, const std::string& target, int status, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
        Response r = get(port, target);
        if (r.status == status || std::chrono::steady_clock::now() >= deadline) return r;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
}

TEST(DataOutage, PostgresqlDownAnswers503AndTheSameHostRecovers) {
    if (!pg_test_url()) GTEST_SKIP() << kNoPostgres;
    std::unique_ptr<PgServer> pg;
    try {
        pg = PgServer::start();  // a private server: this test stops it
    } catch (const std::exception& e) {
        GTEST_FAIL() << e.what();
    }
    HostSpec spec{pg->url(), "  notes: {mount: /notes}\n  hello: {mount: /}\n"};
    spec.database_extra = "  pool: 3\n  busy_timeout: 1s\n";
    auto host = start_host(spec);
    json note = post_note(host->port(), {{"title", "before the outage"}, {"body", "b"}});
    ASSERT_FALSE(note.is_null());
    const std::string path = note_path(note);

    RunResult halt = pg->halt();
    ASSERT_TRUE(halt.status.exited && halt.status.code == 0) << halt.describe();

    // Database routes: 503 problem+json, promptly.
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_TRUE(IsProblem(get(host->port(), path), 503, path));
    EXPECT_TRUE(IsProblem(get(host->port(), "/notes"), 503, "/notes"));
    EXPECT_TRUE(IsProblem(send_json(host->port(), "POST", "/notes", {{"title", "during"}}), 503, "/notes"));
    EXPECT_TRUE(IsProblem(send_json(host->port(), "PATCH", path, {{"title", "during"}}), 503, path));
    EXPECT_TRUE(IsProblem(http(host->port(), "DELETE", path), 503, path));
    EXPECT_TRUE(IsProblem(get(host->port(), "/notes/search?q=b"), 503, "/notes/search"))
        << "a plugin handler using trellis::Db";
    EXPECT_TRUE(IsProblem(get(host->port(), path + "/summary"), 503, path + "/summary"));
    const auto elapsed = std::chrono::steady_clock::now() - t0;
    EXPECT_LT(elapsed, std::chrono::seconds(10)) << "7 requests during the outage took "
                                                 << std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count()
                                                 << " ms";
    // Routes without the database still answer.
    EXPECT_EQ(get(host->port(), "/hello").status, 200);
    // Validation happens before the database is needed.
    EXPECT_EQ(send_json(host->port(), "POST", "/notes", {{"colour", 1}}).status, 422);
    ASSERT_TRUE(host->process().running()) << host->err();

    RunResult resume = pg->resume();
    ASSERT_TRUE(resume.status.exited && resume.status.code == 0) << resume.describe();
    ASSERT_EQ(resume.out.substr(0, resume.out.find('\n')), pg->url()) << "same port after a restart";

    // The same host answers again, without a restart, with the data kept.
    Response back = wait_for_status(host->port(), path, 200, std::chrono::seconds(15));
    ASSERT_TRUE(IsJson(back, 200)) << host->err();
    EXPECT_EQ(back.json(), note);
    // Every pooled session is usable again, not just the first one.
    for (int i = 0; i < 10; ++i) EXPECT_EQ(get(host->port(), path).status, 200) << "request " << i << " after recovery";
    EXPECT_FALSE(post_note(host->port(), {{"title", "after the outage"}}).is_null());
    EXPECT_TRUE(IsJson(get(host->port(), "/notes/search?q=outage"), 200));
    EXPECT_EQ(get(host->port(), "/notes").json().value("total", -1), 2) << "nothing written during the outage";

    ExitStatus s = host->stop(SIGTERM);
    EXPECT_TRUE(s.exited && s.code == 0) << s.describe() << "\n" << host->err();
}

}  // namespace
}  // namespace e2e::data
