#include "data_support.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <regex>
#include <stdexcept>

namespace e2e::data {

namespace {

std::string trim_newlines(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
    return s;
}

fs::path find_program(std::initializer_list<const char*> candidates) {
    for (const char* c : candidates)
        if (::access(c, X_OK) == 0) return c;
    return {};
}

}  // namespace

std::optional<std::string> pg_test_url() {
    const char* url = std::getenv("TRELLIS_TEST_PG_URL");
    if (!url || !*url) return std::nullopt;
    return std::string(url);
}

fs::path source_dir() { return TRELLIS_E2E_SOURCE_DIR; }

std::string psql(const std::string& url, const std::string& sql) {
    const fs::path client = find_program({"/usr/bin/psql", "/usr/lib/postgresql/15/bin/psql"});
    if (client.empty()) throw std::runtime_error("psql is not installed (apt-get install postgresql-client)");
    RunResult r = run_program({client.string(), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql});
    if (!r.status.exited || r.status.code != 0)
        throw std::runtime_error("psql -c \"" + sql + "\" on " + url + " failed: " + r.describe());
    return trim_newlines(r.out);
}

std::string pg_url_with_database(const std::string& url, const std::string& database) {
    const auto scheme = url.find("://");
    const auto slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
    if (slash == std::string::npos) return url + "/" + database;
    const auto query = url.find('?', slash);
    return url.substr(0, slash + 1) + database + (query == std::string::npos ? "" : url.substr(query));
}

std::string unique_name(std::string_view prefix) {
    static std::atomic<int> counter{0};
    return std::string(prefix) + std::to_string(::getpid()) + "x" + std::to_string(++counter);
}

// ---- TestDatabase ----

std::unique_ptr<TestDatabase> TestDatabase::create(Backend backend) {
    std::unique_ptr<TestDatabase> db(new TestDatabase);
    db->backend_ = backend;
    if (backend == Backend::Sqlite) {
        db->dir_ = std::make_unique<TempDir>();
        db->file_ = db->dir_->path() / "trellis.db";
        db->url_ = "sqlite://" + db->file_.string();  // sqlite:///abs/path
        return db;
    }
    auto admin = pg_test_url();
    if (!admin) throw std::runtime_error(std::string(kNoPostgres));
    db->pg_admin_url_ = *admin;
    db->pg_name_ = unique_name("trellis_e2e_");
    psql(db->pg_admin_url_, "CREATE DATABASE " + db->pg_name_);
    db->url_ = pg_url_with_database(*admin, db->pg_name_);
    return db;
}

TestDatabase::~TestDatabase() {
    if (backend_ != Backend::Postgresql || pg_name_.empty()) return;
    try {
        psql(pg_admin_url_, "DROP DATABASE IF EXISTS " + pg_name_ + " WITH (FORCE)");
    } catch (const std::exception& e) {
        ADD_FAILURE() << "could not drop the test database: " << e.what();
    }
}

std::optional<std::string> TestDatabase::query(const std::string& sql) const {
    if (backend_ == Backend::Postgresql) return psql(url_, sql);
    const fs::path shell = find_program({"/usr/bin/sqlite3"});
    if (shell.empty()) return std::nullopt;
    RunResult r = run_program({shell.string(), "-batch", "-bail", file_.string(), sql});
    if (!r.status.exited || r.status.code != 0)
        throw std::runtime_error("sqlite3 \"" + sql + "\" failed: " + r.describe());
    return trim_newlines(r.out);
}

// ---- hosts ----

HostOptions HostSpec::options() const {
    HostOptions o;
    o.server_extra = server_extra;
    // JSON string syntax is valid YAML (double-quoted scalar).
    o.top_level_extra = "database:\n  url: " + json(database_url).dump() + "\n" + database_extra;
    o.plugin_args = plugin_args;
    o.listen_timeout = std::chrono::seconds(20);
    o.stop_timeout = std::chrono::seconds(15);
    return o;
}

std::unique_ptr<Host> launch_host(const HostSpec& spec) { return Host::launch(spec.plugins, spec.options()); }
std::unique_ptr<Host> start_host(const HostSpec& spec) { return Host::start(spec.plugins, spec.options()); }

RunResult trellis_command(const std::string& command, const HostSpec& spec, std::chrono::milliseconds timeout) {
    return run_with_config(command, spec.plugins, spec.options(), timeout);
}

std::optional<MigrationCounts> migration_counts(const std::string& log) {
    static const std::regex line(R"((\d+) migration steps applied, (\d+) already applied)");
    std::smatch m;
    if (!std::regex_search(log, m, line)) return std::nullopt;
    return MigrationCounts{std::stoi(m[1]), std::stoi(m[2])};
}

// ---- PgServer ----

std::unique_ptr<PgServer> PgServer::start() {
    std::unique_ptr<PgServer> pg(new PgServer);
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/trellis-e2e-pg-XXXXXX";
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    pg->dir_ = tmpl;
    RunResult r = pg->script("start");
    if (!r.status.exited || r.status.code != 0)
        throw std::runtime_error("scripts/pg-test-server.sh start failed: " + r.describe());
    pg->url_ = trim_newlines(r.out);
    if (pg->url_.rfind("postgresql://", 0) != 0)
        throw std::runtime_error("scripts/pg-test-server.sh start printed no URL: " + r.describe());
    return pg;
}

PgServer::~PgServer() {
    RunResult r = script("stop");
    if (!r.status.exited || r.status.code != 0) ADD_FAILURE() << "pg-test-server.sh stop failed: " << r.describe();
    std::error_code ec;
    fs::remove_all(dir_, ec);
}

RunResult PgServer::halt() { return script("halt"); }
RunResult PgServer::resume() { return script("start"); }

RunResult PgServer::script(const std::string& command) {
    return run_program({"/bin/bash", (source_dir() / "scripts" / "pg-test-server.sh").string(), command, dir_.string()},
                       std::chrono::seconds(60));
}

// ---- HTTP ----

std::string url_encode(std::string_view text) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : text) {
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
            c == '_' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

Response send_json(int port, std::string_view method, std::string_view target, const json& body) {
    return http(port, method, target, {{"Content-Type", "application/json"}}, body.dump());
}

Response send_raw_body(int port, std::string_view method, std::string_view target, const std::string& body) {
    return http(port, method, target, {{"Content-Type", "application/json"}}, body);
}

::testing::AssertionResult IsJson(const Response& r, int status) {
    auto fail = [&](const std::string& why) {
        return ::testing::AssertionFailure() << why << "\n--- response ---\n" << r.dump();
    };
    if (r.status != status) return fail("expected status " + std::to_string(status));
    auto ct = r.header("Content-Type");
    if (!ct || ct->rfind("application/json", 0) != 0) return fail("expected Content-Type application/json");
    if (json::parse(r.body, nullptr, false).is_discarded()) return fail("the body is not JSON");
    return ::testing::AssertionSuccess();
}

std::vector<std::string> error_fields(const Response& r) {
    std::vector<std::string> fields;
    auto j = json::parse(r.body, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("errors") || !j["errors"].is_array()) return fields;
    for (const auto& e : j["errors"])
        if (e.is_object() && e.contains("field") && e["field"].is_string()) fields.push_back(e["field"]);
    std::sort(fields.begin(), fields.end());
    return fields;
}

}  // namespace e2e::data
