#include "config/operator_config.hpp"

#include "config/environment.hpp"

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <optional>

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

using namespace trellis::config;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

// A fresh directory per test, with the YAML written inline so the test shows it.
class ConfigDir {
public:
    ConfigDir() {
        static std::atomic<int> counter{0};
        dir_ = fs::temp_directory_path() /
               ("trellis-config-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
        fs::remove_all(dir_);
        fs::create_directories(dir_);
    }
    ~ConfigDir() { fs::remove_all(dir_); }

    fs::path write(const std::string& relative, const std::string& text) const {
        const fs::path path = dir_ / relative;
        fs::create_directories(path.parent_path());
        std::ofstream(path) << text;
        return path;
    }
    fs::path main(const std::string& text) const { return write("trellis.yaml", text); }
    const fs::path& path() const { return dir_; }

private:
    fs::path dir_;
};

std::vector<std::string> errors_of(const fs::path& file) {
    try {
        load_operator_config(file);
    } catch (const ConfigError& e) {
        std::vector<std::string> lines;
        for (const auto& d : e.diagnostics()) lines.push_back(d.str());
        return lines;
    }
    ADD_FAILURE() << "expected a ConfigError for " << file;
    return {};
}

// The single error of `yaml` as a main file, with the file name replaced by "F".
std::string only_error(const std::string& yaml) {
    ConfigDir dir;
    const fs::path file = dir.main(yaml);
    const auto errors = errors_of(file);
    if (errors.size() != 1) {
        ADD_FAILURE() << "expected one error, got " << errors.size();
        return {};
    }
    std::string line = errors[0];
    const std::string prefix = file.string();
    if (line.rfind(prefix, 0) == 0) line = "F" + line.substr(prefix.size());
    return line;
}

}  // namespace

TEST(OperatorConfig, EmptyFileMeansAllDefaults) {
    ConfigDir dir;
    for (const std::string text : {"", "# only a comment\n\n# and another\n"}) {
        const auto file = dir.main(text);
        const OperatorConfig config = load_operator_config(file);
        EXPECT_EQ(config.file, file);
        EXPECT_EQ(config.server.listen, "0.0.0.0");
        EXPECT_EQ(config.server.port, 8080);
        EXPECT_EQ(config.server.threads, 0u);
        EXPECT_EQ(config.server.max_request_bytes, 1024u * 1024u);
        EXPECT_EQ(config.server.header_timeout, 10s);
        EXPECT_EQ(config.server.body_timeout, 30s);
        EXPECT_EQ(config.server.keepalive_timeout, 60s);
        EXPECT_EQ(config.server.shutdown_grace, 10s);
        EXPECT_EQ(config.logging.level, "info");
        EXPECT_TRUE(config.logging.access);
        EXPECT_FALSE(config.logging.access_json);
        EXPECT_TRUE(config.plugin_path.empty());
        EXPECT_TRUE(config.plugins.empty());
        EXPECT_TRUE(config.errors.empty());
        EXPECT_EQ(config.database.url, "sqlite://trellis.db");
        EXPECT_EQ(config.database.pool, 0u);
        EXPECT_EQ(config.database.busy_timeout, 5s);
        EXPECT_EQ(config.database.base_dir, dir.path());  // set even without a database section
        EXPECT_EQ(config.database.file, "");
        EXPECT_EQ(config.database.line, 0);
    }
}

TEST(OperatorConfig, ReadsEveryField) {
    ConfigDir dir;
    const auto file = dir.main(R"(server:
  listen: 127.0.0.1
  port: 9090
  threads: 4
  max_request_bytes: 512KiB
  header_timeout: 5s
  body_timeout: 500ms
  keepalive_timeout: 2m
  shutdown_grace: 3
logging:
  level: debug
plugin_path: [/usr/lib/trellis/plugins, local/plugins]
plugins:
  hello:
  notes: {mount: /api/notes, enabled: false, settings: {max_title: 120}}
  cors:
    settings:
      origins: ["https://app.example.com"]
)");
    const OperatorConfig c = load_operator_config(file);
    EXPECT_EQ(c.server.listen, "127.0.0.1");
    EXPECT_EQ(c.server.port, 9090);
    EXPECT_EQ(c.server.threads, 4u);
    EXPECT_EQ(c.server.max_request_bytes, 512u * 1024u);
    EXPECT_EQ(c.server.header_timeout, 5s);
    EXPECT_EQ(c.server.body_timeout, 500ms);
    EXPECT_EQ(c.server.keepalive_timeout, 2min);
    EXPECT_EQ(c.server.shutdown_grace, 3s);
    EXPECT_EQ(c.logging.level, "debug");
    ASSERT_EQ(c.plugin_path.size(), 2u);
    EXPECT_EQ(c.plugin_path[0], fs::path("/usr/lib/trellis/plugins"));
    EXPECT_EQ(c.plugin_path[1], dir.path() / "local/plugins");

    ASSERT_EQ(c.plugins.size(), 3u);  // declaration order, not name order
    EXPECT_EQ(c.plugins[0].name, "hello");
    EXPECT_TRUE(c.plugins[0].enabled);
    EXPECT_EQ(c.plugins[0].mount, "/");
    EXPECT_TRUE(c.plugins[0].settings.IsNull());
    EXPECT_EQ(c.plugins[0].file, file.string());
    EXPECT_EQ(c.plugins[0].line, 14);
    EXPECT_EQ(c.plugins[0].column, 3);

    EXPECT_EQ(c.plugins[1].name, "notes");
    EXPECT_FALSE(c.plugins[1].enabled);
    EXPECT_EQ(c.plugins[1].mount, "/api/notes");
    EXPECT_EQ(c.plugins[1].settings["max_title"].Scalar(), "120");
    EXPECT_EQ(c.plugins[1].line, 15);

    EXPECT_EQ(c.plugins[2].name, "cors");
    EXPECT_EQ(c.plugins[2].settings["origins"][0].Scalar(), "https://app.example.com");
}

TEST(OperatorConfig, MissingFile) {
    ConfigDir dir;
    const auto file = dir.path() / "absent.yaml";
    EXPECT_EQ(errors_of(file),
              (std::vector<std::string>{file.string() + ": cannot read configuration file: No such file or directory"}));
}

TEST(OperatorConfig, SyntaxError) {
    EXPECT_EQ(only_error("server:\n  port: [8080\n"), "F:3:1: end of sequence flow not found");
}

TEST(OperatorConfig, TopLevelMustBeAMap) {
    EXPECT_EQ(only_error("- server\n- plugins\n"),
              "F:1:1: the top level must be a map of sections (server, admin, logging, database, plugin_path, plugins, errors)");
    EXPECT_EQ(only_error("just text\n"),
              "F:1:1: the top level must be a map of sections (server, admin, logging, database, plugin_path, plugins, errors)");
}

TEST(OperatorConfig, UnknownKeysSuggestTheIntendedOne) {
    EXPECT_EQ(only_error("server:\n  listen: 0.0.0.0\n  prot: 80\n"),
              "F:3:3: server.prot: unknown key; did you mean 'port'?");
    EXPECT_EQ(only_error("plugin:\n  hello:\n"), "F:1:1: plugin: unknown key; did you mean 'plugins'?");
    EXPECT_EQ(only_error("loging: {level: info}\n"), "F:1:1: loging: unknown key; did you mean 'logging'?");
    EXPECT_EQ(only_error("databse: {url: x}\n"), "F:1:1: databse: unknown key; did you mean 'database'?");
    EXPECT_EQ(only_error("db: {url: x}\n"), "F:1:1: db: unknown key");
    EXPECT_EQ(only_error("plugins:\n  notes:\n    mout: /x\n"),
              "F:3:5: plugins.notes.mout: unknown key; did you mean 'mount'?");
    EXPECT_EQ(only_error("logging:\n  levle: info\n"), "F:2:3: logging.levle: unknown key; did you mean 'level'?");
    EXPECT_EQ(only_error("logging:\n  acess: false\n"), "F:2:3: logging.acess: unknown key; did you mean 'access'?");
    EXPECT_EQ(only_error("erors: {}\n"), "F:1:1: erors: unknown key; did you mean 'errors'?");
}

TEST(OperatorConfig, DuplicateKeysAreErrors) {
    EXPECT_EQ(only_error("server:\n  port: 1\n  port: 2\n"),
              "F:3:3: server.port: duplicate key; first set at line 2, column 3");
}

TEST(OperatorConfig, Port) {
    ConfigDir dir;
    EXPECT_EQ(load_operator_config(dir.main("server: {port: 0}\n")).server.port, 0);  // any free port
    EXPECT_EQ(load_operator_config(dir.main("server: {port: 65535}\n")).server.port, 65535);
    const std::string message = "server.port: must be an integer from 0 to 65535 (0: any free port)";
    EXPECT_EQ(only_error("server:\n  port: 65536\n"), "F:2:9: " + message);
    EXPECT_EQ(only_error("server:\n  port: -1\n"), "F:2:9: " + message);
    EXPECT_EQ(only_error("server:\n  port: \"8080\"\n"), "F:2:9: " + message);  // quoted: a string
    EXPECT_EQ(only_error("server:\n  port: http\n"), "F:2:9: " + message);
    EXPECT_EQ(only_error("server:\n  port:\n"), "F:2:3: " + message);  // null: points at the key
}

TEST(OperatorConfig, Listen) {
    ConfigDir dir;
    for (const std::string ok : {"0.0.0.0", "127.0.0.1", "\"::\"", "\"::1\"", "localhost", "api.example.com"}) {
        EXPECT_NO_THROW(load_operator_config(dir.main("server: {listen: " + ok + "}\n"))) << ok;
    }
    EXPECT_EQ(load_operator_config(dir.main("server:\n  listen: \"::1\"\n")).server.listen, "::1");
    const std::string message = "server.listen: must be an IPv4 or IPv6 address or a host name";
    EXPECT_EQ(only_error("server:\n  listen: 0.0.0.0:80\n"), "F:2:11: " + message);
    EXPECT_EQ(only_error("server:\n  listen: 256.1.1.1\n"), "F:2:11: " + message);
    EXPECT_EQ(only_error("server:\n  listen: bad_host\n"), "F:2:11: " + message);
    EXPECT_EQ(only_error("server:\n  listen: -lead.example\n"), "F:2:11: " + message);
    EXPECT_EQ(only_error("server:\n  listen: [a]\n"), "F:2:11: " + message);
}

TEST(OperatorConfig, Threads) {
    ConfigDir dir;
    EXPECT_EQ(load_operator_config(dir.main("server: {threads: 0}\n")).server.threads, 0u);
    EXPECT_EQ(load_operator_config(dir.main("server: {threads: 16}\n")).server.threads, 16u);
    const std::string message = "server.threads: must be an integer from 0 to 1024 (0: one thread per core)";
    EXPECT_EQ(only_error("server:\n  threads: -2\n"), "F:2:12: " + message);
    EXPECT_EQ(only_error("server:\n  threads: 2.5\n"), "F:2:12: " + message);
    EXPECT_EQ(only_error("server:\n  threads: 5000\n"), "F:2:12: " + message);
}

TEST(OperatorConfig, MaxRequestBytes) {
    ConfigDir dir;
    EXPECT_EQ(load_operator_config(dir.main("server: {max_request_bytes: 4096}\n")).server.max_request_bytes, 4096u);
    EXPECT_EQ(load_operator_config(dir.main("server: {max_request_bytes: 1MiB}\n")).server.max_request_bytes,
              1048576u);
    EXPECT_EQ(load_operator_config(dir.main("server: {max_request_bytes: 10MB}\n")).server.max_request_bytes,
              10000000u);
    const std::string message =
        "server.max_request_bytes: must be a size greater than 0, in bytes or with a unit: 512KiB, 1MiB, 10MB";
    EXPECT_EQ(only_error("server:\n  max_request_bytes: 0\n"), "F:2:22: " + message);
    EXPECT_EQ(only_error("server:\n  max_request_bytes: 1.5MB\n"), "F:2:22: " + message);
    EXPECT_EQ(only_error("server:\n  max_request_bytes: 1mib\n"), "F:2:22: " + message);
}

TEST(OperatorConfig, Durations) {
    const std::string message =
        ": must be a duration such as 10s, 500ms or 2m (a plain integer means seconds)";
    EXPECT_EQ(only_error("server:\n  header_timeout: 10x\n"), "F:2:19: server.header_timeout" + message);
    EXPECT_EQ(only_error("server:\n  body_timeout: -1s\n"), "F:2:17: server.body_timeout" + message);
    EXPECT_EQ(only_error("server:\n  keepalive_timeout: 1.5s\n"), "F:2:22: server.keepalive_timeout" + message);
    EXPECT_EQ(only_error("server:\n  shutdown_grace: {s: 1}\n"), "F:2:19: server.shutdown_grace" + message);
}

TEST(OperatorDatabase, ReadsEveryField) {
    ConfigDir dir;
    const auto file = dir.main("server: {port: 1}\ndatabase:\n  url: \"postgresql://app@db.local:5433/trellis\"\n"
                               "  pool: 16\n  busy_timeout: 250ms\n");
    const OperatorConfig c = load_operator_config(file);
    EXPECT_EQ(c.database.url, "postgresql://app@db.local:5433/trellis");
    EXPECT_EQ(c.database.pool, 16u);
    EXPECT_EQ(c.database.busy_timeout, 250ms);
    EXPECT_EQ(c.database.base_dir, dir.path());
    EXPECT_EQ(c.database.file, file.string());
    EXPECT_EQ(c.database.line, 3);
    EXPECT_EQ(c.database.column, 8);

    for (const std::string url : {"sqlite:///var/lib/trellis/trellis.db", "sqlite://data/t.db", "\"sqlite::memory:\""}) {
        EXPECT_NO_THROW(load_operator_config(dir.main("database: {url: " + url + "}\n"))) << url;
    }
    const OperatorConfig pool = load_operator_config(dir.main("database: {pool: 1, busy_timeout: 2}\n"));
    EXPECT_EQ(pool.database.url, "sqlite://trellis.db");  // the default stays
    EXPECT_EQ(pool.database.pool, 1u);
    EXPECT_EQ(pool.database.busy_timeout, 2s);
    EXPECT_EQ(pool.database.file, "");
    EXPECT_EQ(load_operator_config(dir.main("database:\n")).database.pool, 0u);
}

TEST(OperatorDatabase, Url) {
    const std::string rule = "database.url: must be a database URL: sqlite:///absolute/path.db, sqlite://relative/path.db, "
                             "sqlite::memory: or postgresql://user@host:port/dbname";
    EXPECT_EQ(only_error("database:\n  url: mysql://x/y\n"), "F:2:8: " + rule);
    EXPECT_EQ(only_error("database:\n  url: \"postgres://u@h/db\"\n"), "F:2:8: " + rule + "; did you mean 'postgresql'?");
    EXPECT_EQ(only_error("database:\n  url: \"sqlite3:///x.db\"\n"), "F:2:8: " + rule + "; did you mean 'sqlite'?");
    EXPECT_EQ(only_error("database:\n  url: /var/lib/trellis.db\n"), "F:2:8: " + rule);
    EXPECT_EQ(only_error("database:\n  url: \"\"\n"), "F:2:8: " + rule);
    EXPECT_EQ(only_error("database:\n  url: [sqlite://x]\n"), "F:2:8: " + rule);
    EXPECT_EQ(only_error("database:\n  url:\n"), "F:2:3: " + rule);  // null: points at the key
    EXPECT_EQ(only_error("database:\n  ulr: \"sqlite::memory:\"\n"), "F:2:3: database.ulr: unknown key; did you mean 'url'?");
    EXPECT_EQ(only_error("database: sqlite://x.db\n"), "F:1:11: database: must be a map");
}

TEST(OperatorDatabase, PoolAndBusyTimeout) {
    ConfigDir dir;
    EXPECT_EQ(load_operator_config(dir.main("database: {pool: 1024}\n")).database.pool, 1024u);
    const std::string pool = "database.pool: must be an integer from 1 to 1024 (database sessions)";
    EXPECT_EQ(only_error("database:\n  pool: 0\n"), "F:2:9: " + pool);
    EXPECT_EQ(only_error("database:\n  pool: 1025\n"), "F:2:9: " + pool);
    EXPECT_EQ(only_error("database:\n  pool: -1\n"), "F:2:9: " + pool);
    EXPECT_EQ(only_error("database:\n  pool: many\n"), "F:2:9: " + pool);
    EXPECT_EQ(only_error("database:\n  pool: \"8\"\n"), "F:2:9: " + pool);
    EXPECT_EQ(only_error("database:\n  busy_timeout: 5 s\n"),
              "F:2:17: database.busy_timeout: must be a duration such as 10s, 500ms or 2m (a plain integer means "
              "seconds)");
    EXPECT_EQ(only_error("database:\n  busy_timeout: [1]\n"),
              "F:2:17: database.busy_timeout: must be a duration such as 10s, 500ms or 2m (a plain integer means "
              "seconds)");
}

TEST(OperatorDatabase, EveryProblemIsReported) {
    ConfigDir dir;
    const auto file = dir.main("database:\n  url: oracle://x\n  pool: 0\n  busy_timeout: soon\n  pool: 3\n");
    const std::string f = file.string();
    EXPECT_EQ(errors_of(file),
              (std::vector<std::string>{
                  f + ":2:8: database.url: must be a database URL: sqlite:///absolute/path.db, "
                      "sqlite://relative/path.db, sqlite::memory: or postgresql://user@host:port/dbname",
                  f + ":3:9: database.pool: must be an integer from 1 to 1024 (database sessions)",
                  f + ":4:17: database.busy_timeout: must be a duration such as 10s, 500ms or 2m (a plain integer "
                      "means seconds)",
                  f + ":5:3: database.pool: duplicate key; first set at line 3, column 3",
              }));
}

TEST(OperatorConfig, LoggingLevel) {
    ConfigDir dir;
    EXPECT_EQ(load_operator_config(dir.main("logging: {level: off}\n")).logging.level, "off");
    EXPECT_EQ(only_error("logging:\n  level: debgu\n"),
              "F:2:10: logging.level: must be one of trace, debug, info, warn, error, off; did you mean 'debug'?");
    EXPECT_EQ(only_error("logging:\n  level: verbose\n"),
              "F:2:10: logging.level: must be one of trace, debug, info, warn, error, off");
    EXPECT_EQ(only_error("logging: debug\n"), "F:1:10: logging: must be a map");
}

TEST(OperatorConfig, LoggingAccessAndFormat) {
    ConfigDir dir;
    const OperatorConfig json = load_operator_config(dir.main("logging: {access: false, format: json}\n"));
    EXPECT_FALSE(json.logging.access);
    EXPECT_TRUE(json.logging.access_json);
    EXPECT_EQ(json.logging.level, "info");
    const OperatorConfig text = load_operator_config(dir.main("logging:\n  access: True\n  format: text\n"));
    EXPECT_TRUE(text.logging.access);
    EXPECT_FALSE(text.logging.access_json);

    EXPECT_EQ(only_error("logging:\n  access: maybe\n"), "F:2:11: logging.access: must be true or false");
    EXPECT_EQ(only_error("logging:\n  access: \"false\"\n"), "F:2:11: logging.access: must be true or false");
    EXPECT_EQ(only_error("logging:\n  access:\n"), "F:2:3: logging.access: must be true or false");
    EXPECT_EQ(only_error("logging:\n  format: jsn\n"), "F:2:11: logging.format: must be text or json; did you mean 'json'?");
    EXPECT_EQ(only_error("logging:\n  format: txt\n"), "F:2:11: logging.format: must be text or json; did you mean 'text'?");
    EXPECT_EQ(only_error("logging:\n  format: yaml\n"), "F:2:11: logging.format: must be text or json");
    EXPECT_EQ(only_error("logging:\n  format: [json]\n"), "F:2:11: logging.format: must be text or json");
    EXPECT_EQ(only_error("logging:\n  format:\n"), "F:2:3: logging.format: must be text or json");
    EXPECT_EQ(only_error("logging:\n  fromat: json\n"), "F:2:3: logging.fromat: unknown key; did you mean 'format'?");
}

TEST(OperatorConfig, OpenApi) {
    ConfigDir dir;
    const OperatorConfig defaults = load_operator_config(dir.main("{}\n"));
    EXPECT_TRUE(defaults.openapi.enabled);
    EXPECT_EQ(defaults.openapi.path, "/openapi.json");
    EXPECT_EQ(defaults.openapi.title, "Trellis application");
    EXPECT_EQ(defaults.openapi.description, "");
    const OperatorConfig set = load_operator_config(
        dir.main("openapi: {enabled: false, path: /api/openapi.json, title: Notes API, description: For the web app}\n"));
    EXPECT_FALSE(set.openapi.enabled);
    EXPECT_EQ(set.openapi.path, "/api/openapi.json");
    EXPECT_EQ(set.openapi.title, "Notes API");
    EXPECT_EQ(set.openapi.description, "For the web app");

    EXPECT_EQ(only_error("openapi:\n  enabled: sometimes\n"), "F:2:12: openapi.enabled: must be true or false");
    EXPECT_EQ(only_error("openapi:\n  path: openapi.json\n"),
              "F:2:9: openapi.path: must be a plain path such as /openapi.json");
    EXPECT_EQ(only_error("openapi:\n  path: \"/{x}\"\n"),
              "F:2:9: openapi.path: must be a plain path such as /openapi.json");
    EXPECT_EQ(only_error("openapi:\n  path: /\n"), "F:2:9: openapi.path: must be a plain path such as /openapi.json");
    EXPECT_EQ(only_error("openapi:\n  title: [a]\n"), "F:2:10: openapi.title: must be a non-empty text");
    EXPECT_EQ(only_error("openapi:\n  tilte: X\n"), "F:2:3: openapi.tilte: unknown key; did you mean 'title'?");
    EXPECT_EQ(only_error("openapi: yes\n"), "F:1:10: openapi: must be a map");
}

TEST(OperatorConfig, OpenApiBelongsInTheMainFile) {
    ConfigDir dir;
    const fs::path file = dir.main("{}\n");
    fs::create_directories(file.parent_path() / "conf.d");
    std::ofstream(file.parent_path() / "conf.d" / "x.yaml") << "openapi: {enabled: false}\n";
    const auto errors = errors_of(file);
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_NE(errors[0].find("conf.d/x.yaml:1:1: openapi: belongs in the main configuration file"), std::string::npos)
        << errors[0];
}

TEST(OperatorErrors, JsonTextAndHandlerForms) {
    ConfigDir dir;
    const auto good = dir.main(R"(errors:
  500: {json: {error: internal error, code: 500, retry: false, detail: null}}
  503: {text: "down for maintenance"}
  404: {handler: hello.hello_not_found}
  4xx: {json: [1, "2", 3.5, true]}
  validation: {text: 422}
  method_not_allowed:
    json: plain words
  "5xx":
    handler: my-plugin.on_5xx
)");
    const OperatorConfig c = load_operator_config(good);
    ASSERT_EQ(c.errors.size(), 7u);  // declaration order

    EXPECT_EQ(c.errors[0].match.status, 500);
    EXPECT_EQ(c.errors[0].kind, AppErrorSpec::Kind::Json);
    // The settings conversion: integers, booleans and null keep their type, other scalars stay text.
    EXPECT_EQ(c.errors[0].body, R"({"code":500,"detail":null,"error":"internal error","retry":false})");
    EXPECT_EQ(c.errors[0].file, good.string());
    EXPECT_EQ(c.errors[0].line, 2);
    EXPECT_EQ(c.errors[0].column, 3);

    EXPECT_EQ(c.errors[1].match.status, 503);
    EXPECT_EQ(c.errors[1].kind, AppErrorSpec::Kind::Text);
    EXPECT_EQ(c.errors[1].body, "down for maintenance");
    EXPECT_EQ(c.errors[1].line, 3);

    EXPECT_EQ(c.errors[2].match.status, 404);
    EXPECT_EQ(c.errors[2].kind, AppErrorSpec::Kind::Handler);
    EXPECT_EQ(c.errors[2].plugin, "hello");
    EXPECT_EQ(c.errors[2].handler, "hello_not_found");
    EXPECT_TRUE(c.errors[2].body.empty());

    EXPECT_EQ(c.errors[3].match.status, 0);
    EXPECT_EQ(c.errors[3].match.status_class, 4);
    EXPECT_EQ(c.errors[3].body, R"([1,"2","3.5",true])");

    EXPECT_EQ(c.errors[4].match.status, 422);
    EXPECT_EQ(c.errors[4].kind, AppErrorSpec::Kind::Text);
    EXPECT_EQ(c.errors[4].body, "422");

    EXPECT_EQ(c.errors[5].match.status, 405);
    EXPECT_EQ(c.errors[5].kind, AppErrorSpec::Kind::Json);
    EXPECT_EQ(c.errors[5].body, R"("plain words")");
    EXPECT_EQ(c.errors[5].line, 7);
    EXPECT_EQ(c.errors[5].column, 3);

    EXPECT_EQ(c.errors[6].match.status_class, 5);
    EXPECT_EQ(c.errors[6].kind, AppErrorSpec::Kind::Handler);
    EXPECT_EQ(c.errors[6].plugin, "my-plugin");
    EXPECT_EQ(c.errors[6].handler, "on_5xx");
    EXPECT_EQ(c.errors[6].line, 9);

    EXPECT_EQ(load_operator_config(dir.main("errors: {not_found: {text: \"\"}}\n")).errors[0].match.status, 404);
    EXPECT_TRUE(load_operator_config(dir.main("errors:\n")).errors.empty());
}

TEST(OperatorErrors, Keys) {
    const std::string expected = "must be a status from 400 to 599, 4xx, 5xx or one of validation, not_found, "
                                 "method_not_allowed, internal";
    EXPECT_EQ(only_error("errors:\n  not_fund: {text: x}\n"),
              "F:2:3: errors.not_fund: " + expected + "; did you mean 'not_found'?");
    EXPECT_EQ(only_error("errors:\n  internal_error: {text: x}\n"), "F:2:3: errors.internal_error: " + expected);
    EXPECT_EQ(only_error("errors:\n  200: {text: x}\n"), "F:2:3: errors.200: must be a status from 400 to 599");
    EXPECT_EQ(only_error("errors:\n  6xx: {text: x}\n"), "F:2:3: errors.6xx: " + expected);
    EXPECT_EQ(only_error("errors: [500]\n"),
              "F:1:9: errors: must be a map from status (404, 4xx) or error kind (not_found) to a response");
    EXPECT_EQ(only_error("errors:\n  404: {text: a}\n  not_found: {text: b}\n"),
              "F:3:3: errors.not_found: means the same status as '404', first set at line 2, column 3");
    EXPECT_EQ(only_error("errors:\n  5xx: {text: a}\n  5xx: {text: b}\n"),
              "F:3:3: errors.5xx: duplicate key; first set at line 2, column 3");
}

TEST(OperatorErrors, ExactlyOneResponse) {
    const std::string shape = "must be a map with one of json, text or handler, e.g. {json: {error: internal}}";
    EXPECT_EQ(only_error("errors:\n  500: oops\n"), "F:2:8: errors.500: " + shape);
    EXPECT_EQ(only_error("errors:\n  500: [a]\n"), "F:2:8: errors.500: " + shape);
    EXPECT_EQ(only_error("errors:\n  500:\n"), "F:2:3: errors.500: " + shape);
    EXPECT_EQ(only_error("errors:\n  500: {}\n"), "F:2:8: errors.500: needs one of json, text or handler");
    EXPECT_EQ(only_error("errors:\n  500: {json: {a: 1}, text: x}\n"),
              "F:2:23: errors.500.text: only one of json, text or handler may be given; 'json' is already set");
    ConfigDir dir;
    const auto file = dir.main("errors:\n  500:\n    handler: a.b\n    text: x\n    json: 1\n");
    const std::string f = file.string();
    EXPECT_EQ(errors_of(file),
              (std::vector<std::string>{
                  f + ":4:5: errors.500.text: only one of json, text or handler may be given; 'handler' is already set",
                  f + ":5:5: errors.500.json: only one of json, text or handler may be given; 'handler' is already set",
              }));
    const auto typo = dir.main("errors:\n  500: {txt: x}\n");
    EXPECT_EQ(errors_of(typo), (std::vector<std::string>{
                                   typo.string() + ":2:9: errors.500.txt: unknown key; did you mean 'text'?",
                                   typo.string() + ":2:8: errors.500: needs one of json, text or handler",
                               }));
}

TEST(OperatorErrors, TextAndJsonValues) {
    EXPECT_EQ(only_error("errors:\n  500: {text: [a]}\n"), "F:2:15: errors.500.text: must be a string");
    EXPECT_EQ(only_error("errors:\n  500: {text: {a: b}}\n"), "F:2:15: errors.500.text: must be a string");
    EXPECT_EQ(only_error("errors:\n  500:\n    text:\n"), "F:3:5: errors.500.text: must be a string");
    ConfigDir dir;
    EXPECT_EQ(load_operator_config(dir.main("errors: {500: {json: }}\n")).errors[0].body, "null");
    EXPECT_EQ(load_operator_config(dir.main("errors: {500: {json: {}}}\n")).errors[0].body, "{}");
    EXPECT_EQ(load_operator_config(dir.main("errors: {500: {json: \"42\"}}\n")).errors[0].body, R"("42")");
    EXPECT_EQ(load_operator_config(dir.main("errors: {500: {json: 42}}\n")).errors[0].body, "42");
}

TEST(OperatorErrors, HandlerNamesPluginAndSymbol) {
    const auto handler = [](const std::string& value) {
        return only_error("errors:\n  404: {handler: " + value + "}\n");
    };
    const std::string format = "F:2:18: errors.404.handler: must be <plugin>.<symbol>, e.g. hello.hello_not_found";
    EXPECT_EQ(handler("hello"), format);
    EXPECT_EQ(handler(".on_404"), format);
    EXPECT_EQ(handler("hello."), format);
    EXPECT_EQ(handler("[hello.x]"), format);
    EXPECT_EQ(handler("\"he llo.x\""),
              "F:2:18: errors.404.handler: plugin name 'he llo' may contain only letters, digits, '_' and '-'");
    EXPECT_EQ(handler("hello.9x"),
              "F:2:18: errors.404.handler: '9x' must be the name of an exported C function ([A-Za-z_][A-Za-z0-9_]*)");
    EXPECT_EQ(handler("hello.a.b"),  // split at the first '.'
              "F:2:18: errors.404.handler: 'a.b' must be the name of an exported C function ([A-Za-z_][A-Za-z0-9_]*)");
    EXPECT_EQ(handler("hello.a-b"),
              "F:2:18: errors.404.handler: 'a-b' must be the name of an exported C function ([A-Za-z_][A-Za-z0-9_]*)");
    EXPECT_EQ(only_error("errors:\n  404:\n    handler:\n"),
              "F:3:5: errors.404.handler: must be <plugin>.<symbol>, e.g. hello.hello_not_found");

    // Whether the plugin exists and exports the symbol is checked once plugins are loaded.
    ConfigDir dir;
    const OperatorConfig c = load_operator_config(dir.main("errors: {500: {handler: _x-1._Y9}}\n"));
    EXPECT_EQ(c.errors[0].plugin, "_x-1");
    EXPECT_EQ(c.errors[0].handler, "_Y9");
}

TEST(OperatorConfig, PluginPath) {
    ConfigDir dir;
    const OperatorConfig single = load_operator_config(dir.main("plugin_path: ../plugins\n"));
    ASSERT_EQ(single.plugin_path.size(), 1u);
    EXPECT_EQ(single.plugin_path[0], (dir.path() / "../plugins").lexically_normal());

    EXPECT_EQ(only_error("plugin_path: [/a, \"\", b]\n"),
              "F:1:19: plugin_path[1]: must be a non-empty directory path");
    EXPECT_EQ(only_error("plugin_path: {a: b}\n"), "F:1:14: plugin_path: must be a directory path or a list of them");
}

TEST(OperatorConfig, PluginPathReportsEveryBadItem) {
    ConfigDir dir;
    const auto file = dir.main("plugin_path:\n  - /a\n  - [x]\n  - \"\"\n");
    const std::string f = file.string();
    EXPECT_EQ(errors_of(file), (std::vector<std::string>{
                                   f + ":3:5: plugin_path[1]: must be a non-empty directory path",
                                   f + ":4:5: plugin_path[2]: must be a non-empty directory path",
                               }));
}

TEST(OperatorConfig, PluginEntries) {
    EXPECT_EQ(only_error("plugins:\n  notes: yes please\n"),
              "F:2:10: plugins.notes: must be a map (plugin, enabled, mount, settings, isolation) or empty");
    EXPECT_EQ(only_error("plugins:\n  no.tes:\n"),
              "F:2:3: plugins.no.tes: plugin names may contain only letters, digits, '_' and '-'");
    EXPECT_EQ(only_error("plugins: [hello]\n"), "F:1:10: plugins: must be a map from plugin name to its settings");
    EXPECT_EQ(only_error("plugins:\n  notes: {enabled: maybe}\n"), "F:2:20: plugins.notes.enabled: must be true or false");
    EXPECT_EQ(only_error("plugins:\n  notes: {settings: [1, 2]}\n"),
              "F:2:21: plugins.notes.settings: must be a map of setting names to values");

    ConfigDir dir;
    const OperatorConfig c = load_operator_config(dir.main("plugins:\n"));  // no plugins at all
    EXPECT_TRUE(c.plugins.empty());
    EXPECT_TRUE(load_operator_config(dir.main("plugins: {a: {}}\n")).plugins[0].enabled);
}

TEST(OperatorConfig, PluginInstances) {
    ConfigDir dir;
    const OperatorConfig c = load_operator_config(
        dir.main("plugins:\n  notes: {mount: /api/notes}\n  admin_notes: {plugin: notes, mount: /admin/notes}\n"));
    ASSERT_EQ(c.plugins.size(), 2u);
    EXPECT_EQ(c.plugins[0].name, "notes");
    EXPECT_EQ(c.plugins[0].plugin(), "notes");
    EXPECT_EQ(c.plugins[1].name, "admin_notes");
    EXPECT_EQ(c.plugins[1].plugin(), "notes");
    EXPECT_EQ(c.plugins[1].mount, "/admin/notes");
    EXPECT_EQ(only_error("plugins:\n  admin_notes: {plugin: no.tes}\n"),
              "F:2:25: plugins.admin_notes.plugin: must name a plugin library (letters, digits, '_' and '-'), e.g. notes");
    EXPECT_EQ(only_error("plugins:\n  admin_notes: {plugin: [notes]}\n"),
              "F:2:25: plugins.admin_notes.plugin: must name a plugin library (letters, digits, '_' and '-'), e.g. notes");
}

TEST(OperatorConfig, MountPrefixes) {
    ConfigDir dir;
    for (const std::string ok : {"/", "/api", "/api/notes", "/v1-beta/x_y"}) {
        EXPECT_EQ(load_operator_config(dir.main("plugins: {p: {mount: " + ok + "}}\n")).plugins[0].mount, ok);
    }
    EXPECT_EQ(only_error("plugins:\n  notes:\n    mount: api\n"), "F:3:12: plugins.notes.mount: must start with '/'");
    EXPECT_EQ(only_error("plugins:\n  notes:\n    mount: /api/\n"),
              "F:3:12: plugins.notes.mount: must not end with '/' (use \"/\" for the root)");
    EXPECT_EQ(only_error("plugins:\n  notes:\n    mount: /a//b\n"), "F:3:12: plugins.notes.mount: must not contain '//'");
    EXPECT_EQ(only_error("plugins:\n  notes:\n    mount: /a/{id}\n"),
              "F:3:12: plugins.notes.mount: must not contain '{' or '}' (parameters belong in the plugin's routes)");
    EXPECT_EQ(only_error("plugins:\n  notes:\n    mount: \"\"\n"), "F:3:12: plugins.notes.mount: must start with '/'");
    EXPECT_EQ(only_error("plugins:\n  notes:\n    mount: [/a]\n"),
              "F:3:12: plugins.notes.mount: must be a path such as /api/notes");
}

TEST(OperatorConfig, EveryProblemOfADocumentIsReportedAtOnce) {
    ConfigDir dir;
    const auto file = dir.main(R"(server:
  prot: 80
  threads: many
logging: {level: loud}
plugins:
  notes: {mount: notes}
  notes: {}
)");
    const std::string f = file.string();
    EXPECT_EQ(errors_of(file),
              (std::vector<std::string>{
                  f + ":2:3: server.prot: unknown key; did you mean 'port'?",
                  f + ":3:12: server.threads: must be an integer from 0 to 1024 (0: one thread per core)",
                  f + ":4:18: logging.level: must be one of trace, debug, info, warn, error, off",
                  f + ":6:18: plugins.notes.mount: must start with '/'",
                  f + ":7:3: plugins.notes: plugin 'notes' is already declared at " + f + ":6:3",
              }));
}

TEST(OperatorConfig, ConfDMergesPluginsAndPluginPathInNameOrder) {
    ConfigDir dir;
    const auto file = dir.main("plugin_path: [/main]\nplugins:\n  hello: {mount: /}\n");
    const auto b = dir.write("conf.d/20-b.yml", "plugins:\n  cors:\n");
    dir.write("conf.d/10-a.yaml", "plugin_path: extra\nplugins:\n  notes: {mount: /api/notes}\n");
    dir.write("conf.d/README", "not: yaml: at all: [\n");      // ignored: not *.yaml
    dir.write("conf.d/old.yaml.bak", "plugins: {x: }\n");      // ignored
    const OperatorConfig c = load_operator_config(file);

    ASSERT_EQ(c.plugins.size(), 3u);
    EXPECT_EQ(c.plugins[0].name, "hello");
    EXPECT_EQ(c.plugins[1].name, "notes");
    EXPECT_EQ(c.plugins[1].file, (dir.path() / "conf.d/10-a.yaml").string());
    EXPECT_EQ(c.plugins[1].line, 3);
    EXPECT_EQ(c.plugins[1].column, 3);
    EXPECT_EQ(c.plugins[2].name, "cors");
    EXPECT_EQ(c.plugins[2].file, b.string());
    ASSERT_EQ(c.plugin_path.size(), 2u);
    EXPECT_EQ(c.plugin_path[0], fs::path("/main"));
    EXPECT_EQ(c.plugin_path[1], dir.path() / "extra");  // relative to the main file's folder
}

TEST(OperatorConfig, PluginDeclaredTwiceAcrossFilesNamesBothPlaces) {
    ConfigDir dir;
    const auto file = dir.main("plugins:\n  hello:\n  notes: {}\n");
    const auto dup = dir.write("conf.d/50-notes.yaml", "# notes again\nplugins:\n    notes: {mount: /n}\n");
    EXPECT_EQ(errors_of(file), (std::vector<std::string>{dup.string() +
                                                          ":3:5: plugins.notes: plugin 'notes' is already declared at " +
                                                          file.string() + ":3:3"}));
}

TEST(OperatorConfig, ConfDMayOnlySetPluginsAndPluginPath) {
    ConfigDir dir;
    const auto file = dir.main("");
    const auto d = dir.write("conf.d/a.yaml",
                             "server: {port: 1}\nlogging: {}\nplugns: {}\nerrors:\n  500: {text: down}\n");
    const std::string rule = "belongs in the main configuration file " + file.string() +
                             "; conf.d files may only set plugins and plugin_path";
    EXPECT_EQ(errors_of(file), (std::vector<std::string>{
                                   d.string() + ":1:1: server: " + rule,
                                   d.string() + ":2:1: logging: " + rule,
                                   d.string() + ":3:1: plugns: unknown key; did you mean 'plugins'?",
                                   d.string() + ":4:1: errors: " + rule,
                               }));
    const auto db = dir.write("conf.d/a.yaml", "database: {url: \"sqlite::memory:\"}\n");
    EXPECT_EQ(errors_of(file), (std::vector<std::string>{db.string() + ":1:1: database: " + rule}));
}

TEST(OperatorConfig, ErrorsOfEveryFileAreReportedTogether) {
    ConfigDir dir;
    const auto file = dir.main("server: {port: [1\n");
    const auto a = dir.write("conf.d/a.yaml", "plugins: {x: {mount: y}}\n");
    const auto b = dir.write("conf.d/b.yaml", "plugins: [\n");
    const auto errors = errors_of(file);
    ASSERT_EQ(errors.size(), 3u);
    EXPECT_EQ(errors[0].rfind(file.string() + ":2:1: ", 0), 0u) << errors[0];
    EXPECT_EQ(errors[1], a.string() + ":1:22: plugins.x.mount: must start with '/'");
    EXPECT_EQ(errors[2].rfind(b.string() + ":2:1: ", 0), 0u) << errors[2];
}

TEST(OperatorConfig, ConfDAloneWithEmptyMainFile) {
    ConfigDir dir;
    const auto file = dir.main("# everything is in conf.d\n");
    dir.write("conf.d/hello.yaml", "plugins:\n  hello:\n");
    const OperatorConfig c = load_operator_config(file);
    ASSERT_EQ(c.plugins.size(), 1u);
    EXPECT_EQ(c.plugins[0].name, "hello");
}

TEST(ParseByteSize, UnitsAndPlainBytes) {
    EXPECT_EQ(parse_byte_size("4096"), 4096u);
    EXPECT_EQ(parse_byte_size("0"), 0u);
    EXPECT_EQ(parse_byte_size("10B"), 10u);
    EXPECT_EQ(parse_byte_size("3KB"), 3000u);
    EXPECT_EQ(parse_byte_size("10MB"), 10000000u);
    EXPECT_EQ(parse_byte_size("2GB"), 2000000000u);
    EXPECT_EQ(parse_byte_size("512KiB"), 524288u);
    EXPECT_EQ(parse_byte_size("1MiB"), 1048576u);
    EXPECT_EQ(parse_byte_size("4GiB"), 4294967296u);
}

TEST(ParseByteSize, Malformed) {
    for (const char* bad : {"", "MiB", "1mib", "1kb", "1 MiB", " 1", "1.5MiB", "-1", "+1", "1TB", "1MiBs", "0x10"})
        EXPECT_EQ(parse_byte_size(bad), std::nullopt) << bad;
}

TEST(ParseByteSize, Overflow) {
    EXPECT_EQ(parse_byte_size("18446744073709551615"), std::numeric_limits<std::size_t>::max());
    EXPECT_EQ(parse_byte_size("18446744073709551616"), std::nullopt);
    EXPECT_EQ(parse_byte_size("17179869184GiB"), std::nullopt);  // 2^34 GiB = 2^64 bytes
    EXPECT_EQ(parse_byte_size("17179869183GiB"), 17179869183ull * 1024 * 1024 * 1024);
}

TEST(ParseDuration, UnitsAndPlainSeconds) {
    EXPECT_EQ(parse_duration("500ms"), 500ms);
    EXPECT_EQ(parse_duration("10s"), 10s);
    EXPECT_EQ(parse_duration("2m"), 2min);
    EXPECT_EQ(parse_duration("1h"), 1h);
    EXPECT_EQ(parse_duration("30"), 30s);
    EXPECT_EQ(parse_duration("0"), 0ms);
}

TEST(ParseDuration, Malformed) {
    for (const char* bad : {"", "s", "10x", "10S", "1.5s", "-1s", "10 s", "10min", "1d", "ms10"})
        EXPECT_EQ(parse_duration(bad), std::nullopt) << bad;
    EXPECT_EQ(parse_duration("99999999999999999999"), std::nullopt);
    EXPECT_EQ(parse_duration("9223372036854775807s"), std::nullopt);
    EXPECT_EQ(parse_duration("9223372036854775807ms"), std::chrono::milliseconds(9223372036854775807));
}

// ---- the service keys: server.workers, worker_timeout, readiness_path, admin ----

TEST(OperatorConfig, ServiceKeysAndTheirDefaults) {
    ConfigDir dir;
    const auto defaults = load_operator_config(dir.main(""));
    EXPECT_FALSE(defaults.server.workers.has_value());
    EXPECT_EQ(defaults.server.worker_timeout, std::chrono::seconds(30));
    EXPECT_EQ(defaults.server.drain_delay, std::chrono::milliseconds(0));
    EXPECT_TRUE(defaults.server.readiness_path.empty());
    EXPECT_TRUE(defaults.admin.enabled);
    EXPECT_EQ(defaults.admin.listen, "127.0.0.1");
    EXPECT_EQ(defaults.admin.port, 9901);
    EXPECT_GE(resolved_workers(defaults), 1u);

    const auto set = load_operator_config(
        dir.main("server:\n  workers: 3\n  worker_timeout: 2m\n  readiness_path: /ready\n  drain_delay: 5s\n"
                 "admin:\n  listen: ::1\n  port: 0\n"));
    EXPECT_EQ(set.server.workers, 3u);
    EXPECT_EQ(resolved_workers(set), 3u);
    EXPECT_EQ(set.server.worker_timeout, std::chrono::minutes(2));
    EXPECT_EQ(set.server.readiness_path, "/ready");
    EXPECT_EQ(set.server.drain_delay, std::chrono::seconds(5));
    EXPECT_EQ(set.admin.listen, "::1");
    EXPECT_EQ(set.admin.port, 0);

    EXPECT_EQ(resolved_workers(load_operator_config(dir.main("server:\n  workers: 0\n"))), 0u);
    // A private in-memory database cannot be shared between processes.
    EXPECT_EQ(resolved_workers(load_operator_config(dir.main("database:\n  url: \"sqlite::memory:\"\n"))), 1u);
}

TEST(OperatorConfig, ServiceKeysRefuseBadValuesWithPositions) {
    EXPECT_EQ(only_error("server:\n  workers: -1\n"),
              "F:2:12: server.workers: must be an integer from 0 to 256 (0: one process, no supervisor; unset: one "
              "per core)");
    EXPECT_EQ(only_error("server:\n  worker_timeout: 0s\n"),
              "F:2:19: server.worker_timeout: must be a duration greater than 0, such as 30s or 2m (a request "
              "running longer kills its worker)");
    EXPECT_EQ(only_error("server:\n  port: 8080\nadmin:\n  port: 8080\n"),
              "F:4:9: admin.port: must differ from server.port (8080): the admin listener is not the serving port");
    EXPECT_EQ(only_error("admin:\n  enabled: maybe\n"), "F:2:12: admin.enabled: must be true or false");
    EXPECT_EQ(only_error("server:\n  readiness_path: ready\n"),
              "F:2:19: server.readiness_path: must be a plain path such as /readyz");
    EXPECT_EQ(only_error("server:\n  workers: 2\ndatabase:\n  url: \"sqlite::memory:\"\n"),
              "F:2:12: server.workers: an in-memory SQLite database (sqlite::memory:) belongs to one process: with 2 "
              "workers each would see its own; use a database file or workers: 1");
    // The admin listener off: its port may be anything.
    ConfigDir dir;
    EXPECT_NO_THROW(load_operator_config(dir.main("server:\n  port: 8080\nadmin:\n  enabled: false\n  port: 8080\n")));
}

TEST(OperatorConfig, AdminBelongsInTheMainFile) {
    ConfigDir dir;
    dir.write("conf.d/admin.yaml", "admin:\n  port: 9999\n");
    const auto errors = errors_of(dir.main(""));
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_NE(errors[0].find("admin: belongs in the main configuration file"), std::string::npos) << errors[0];
}

// Found by fuzz/fuzz_operator_config.cpp: a JSON error body with bytes that
// are not UTF-8 made the JSON serializer throw out of the loader.
TEST(OperatorConfig, JsonErrorBodiesWithInvalidUtf8AreReplacedNotFatal) {
    ConfigDir dir;
    const auto config = load_operator_config(dir.main("errors:\n  500: {json: {error: \"bad \xff byte\"}}\n"));
    ASSERT_EQ(config.errors.size(), 1u);
    EXPECT_EQ(config.errors[0].body, "{\"error\":\"bad \xef\xbf\xbd byte\"}");
}

// ---- environment references: ${VAR}, ${VAR:-default}, ${file:PATH}, $$ ----

namespace {
// Sets (or unsets, with nullptr) a variable for one test.
class ScopedEnv {
public:
    ScopedEnv(const char* name, const char* value) : name_(name) {
        if (const char* old = std::getenv(name)) old_ = old;
        if (value)
            ::setenv(name, value, 1);
        else
            ::unsetenv(name);
    }
    ~ScopedEnv() {
        if (old_)
            ::setenv(name_.c_str(), old_->c_str(), 1);
        else
            ::unsetenv(name_.c_str());
    }

private:
    std::string name_;
    std::optional<std::string> old_;
};
}  // namespace

TEST(OperatorConfigEnvironment, VariablesDefaultsAndDollarsAreSubstitutedInValues) {
    ScopedEnv port("TRELLIS_TEST_PORT", "9191");
    ScopedEnv host("TRELLIS_TEST_HOST", "127.0.0.1");
    ScopedEnv unset("TRELLIS_TEST_UNSET", nullptr);
    ScopedEnv empty("TRELLIS_TEST_EMPTY", "");
    ConfigDir dir;
    const auto config = load_operator_config(dir.main(
        "server:\n"
        "  listen: ${TRELLIS_TEST_HOST}\n"
        "  port: ${TRELLIS_TEST_PORT}\n"
        "database:\n"
        "  url: \"${TRELLIS_TEST_UNSET:-sqlite://${TRELLIS_TEST_EMPTY:-fallback}.db}\"\n"
        "plugins:\n"
        "  hello:\n"
        "    settings:\n"
        "      greeting: \"costs $$5, $HOME stays, ${TRELLIS_TEST_EMPTY:-} is empty\"\n"
        "      list: [\"${TRELLIS_TEST_PORT}\", {deep: \"at ${TRELLIS_TEST_HOST}\"}]\n"));
    EXPECT_EQ(config.server.listen, "127.0.0.1");
    EXPECT_EQ(config.server.port, 9191) << "a plain scalar from a variable is still an integer";
    EXPECT_EQ(config.database.url, "sqlite://fallback.db");
    ASSERT_EQ(config.plugins.size(), 1u);
    const auto& settings = config.plugins[0].settings;
    EXPECT_EQ(settings["greeting"].Scalar(), "costs $5, $HOME stays,  is empty");
    EXPECT_EQ(settings["list"][0].Scalar(), "9191");
    EXPECT_EQ(settings["list"][1]["deep"].Scalar(), "at 127.0.0.1");
}

TEST(OperatorConfigEnvironment, AQuotedReferenceStaysAString) {
    ScopedEnv port("TRELLIS_TEST_PORT", "9191");
    EXPECT_EQ(only_error("server:\n  port: \"${TRELLIS_TEST_PORT}\"\n"),
              "F:2:9: server.port: must be an integer from 0 to 65535 (0: any free port)");
}

TEST(OperatorConfigEnvironment, UnsetVariableIsAnErrorAtItsPosition) {
    ScopedEnv unset("TRELLIS_TEST_UNSET", nullptr);
    EXPECT_EQ(only_error("server:\n  listen: 127.0.0.1\ndatabase:\n  url: ${TRELLIS_TEST_UNSET}\n"),
              "F:4:8: database.url: environment variable TRELLIS_TEST_UNSET is not set "
              "(write ${TRELLIS_TEST_UNSET:-default} for a default)");
}

TEST(OperatorConfigEnvironment, MalformedReferencesAreErrors) {
    EXPECT_EQ(only_error("plugins:\n  hello:\n    settings: {greeting: \"${1X}\"}\n"),
              "F:3:26: plugins.hello.settings.greeting: malformed reference '${1X}': write ${NAME}, "
              "${NAME:-default} or ${file:PATH} (NAME: letters, digits, '_'; $$ for a '$')");
    EXPECT_EQ(only_error("logging:\n  level: ${LEVEL\n"),
              "F:2:10: logging.level: unterminated reference '${LEVEL': missing '}'");
    EXPECT_EQ(only_error("logging:\n  level: \"${A-b}\"\n"),
              "F:2:10: logging.level: malformed reference '${A-b}': write ${NAME}, ${NAME:-default} or "
              "${file:PATH} (NAME: letters, digits, '_'; $$ for a '$')");
}

TEST(OperatorConfigEnvironment, FileReferencesReadSecretsWithoutTheTrailingNewline) {
    ConfigDir dir;
    const auto secret = dir.write("credentials/db_url", "postgresql://app:s3cret@127.0.0.1/app\n");
    ScopedEnv creds("CREDENTIALS_DIRECTORY", (dir.path() / "credentials").c_str());
    const auto config =
        load_operator_config(dir.main("database:\n  url: ${file:${CREDENTIALS_DIRECTORY}/db_url}\n"));
    EXPECT_EQ(config.database.url, "postgresql://app:s3cret@127.0.0.1/app");
    const std::string missing = (dir.path() / "credentials" / "nope").string();
    EXPECT_EQ(only_error("database:\n  url: ${file:" + missing + "}\n"),
              "F:2:8: database.url: cannot read " + missing + " (from ${file:...}): No such file or directory");
}

TEST(OperatorConfigEnvironment, DropInFilesAreSubstitutedToo) {
    ScopedEnv mount("TRELLIS_TEST_MOUNT", "/from-env");
    ConfigDir dir;
    const auto main = dir.main("plugins: {}\n");
    dir.write("conf.d/hello.yaml", "plugins:\n  hello: {mount: \"${TRELLIS_TEST_MOUNT}\"}\n");
    const auto config = load_operator_config(main);
    ASSERT_EQ(config.plugins.size(), 1u);
    EXPECT_EQ(config.plugins[0].mount, "/from-env");
}

TEST(OperatorConfigEnvironment, TextRulesWithoutTheProcessEnvironment) {
    const Lookup lookup = [](const std::string& name) -> std::optional<std::string> {
        if (name == "A") return "a";
        if (name == "EMPTY") return "";
        if (name == "DOLLARS") return "p$$w${A}rd";
        return std::nullopt;
    };
    const auto text = [&](std::string_view in) {
        std::string problem;
        const auto out = substitute_text(in, lookup, "/base", problem);
        return out ? *out : "problem: " + problem;
    };
    EXPECT_EQ(text("${A}"), "a");
    EXPECT_EQ(text("x${A}y${A}z"), "xayaz");
    EXPECT_EQ(text("${A:-d}"), "a") << "a set variable wins over its default";
    EXPECT_EQ(text("${NOPE:-d}"), "d");
    EXPECT_EQ(text("${EMPTY:-d}"), "d") << ":- also replaces an empty value";
    EXPECT_EQ(text("${EMPTY}"), "") << "an empty variable is set";
    EXPECT_EQ(text("[${NOPE:-}]"), "[]");
    EXPECT_EQ(text("${NOPE:-${A}-${NOPE:-x}}"), "a-x") << "defaults may hold references";
    EXPECT_EQ(text("$$"), "$");
    EXPECT_EQ(text("$${A}"), "${A}") << "$$ then text, not a reference";
    EXPECT_EQ(text("$HOME $1 a$ $"), "$HOME $1 a$ $") << "any other '$' stays";
    EXPECT_EQ(text("${DOLLARS}"), "p$$w${A}rd") << "a variable's value is not substituted again";
    EXPECT_EQ(text("${"), "problem: unterminated reference '${': missing '}'");
    EXPECT_EQ(text("a ${A"), "problem: unterminated reference '${A': missing '}'");
    EXPECT_EQ(text("${}"), "problem: malformed reference '${}': write ${NAME}, ${NAME:-default} or ${file:PATH} "
                           "(NAME: letters, digits, '_'; $$ for a '$')");
    EXPECT_EQ(text("${A:d}"), "problem: malformed reference '${A:d}': write ${NAME}, ${NAME:-default} or "
                              "${file:PATH} (NAME: letters, digits, '_'; $$ for a '$')");
    EXPECT_EQ(text("${NOPE}"), "problem: environment variable NOPE is not set (write ${NOPE:-default} for a default)");
    EXPECT_EQ(text("${file:}"), "problem: ${file:} needs the path of a file to read");
}

TEST(OperatorConfigEnvironment, EveryProblemIsReportedAtOnceAtItsScalar) {
    ScopedEnv unset("TRELLIS_TEST_UNSET", nullptr);
    ScopedEnv other("TRELLIS_TEST_OTHER", nullptr);
    ScopedEnv mount("TRELLIS_TEST_MOUNT", "no-slash");
    ConfigDir dir;
    const auto file = dir.main(
        "server:\n"
        "  port: ${TRELLIS_TEST_UNSET}\n"
        "  listen: ${TRELLIS_TEST_OTHER:-${TRELLIS_TEST_UNSET}}\n"
        "plugins:\n"
        "  hello:\n"
        "    mount: ${TRELLIS_TEST_MOUNT}\n"
        "    settings: {list: [ok, \"${BAD\"]}\n");
    const std::string f = file.string();
    EXPECT_EQ(errors_of(file),
              (std::vector<std::string>{
                  f + ":2:9: server.port: environment variable TRELLIS_TEST_UNSET is not set "
                      "(write ${TRELLIS_TEST_UNSET:-default} for a default)",
                  f + ":3:11: server.listen: environment variable TRELLIS_TEST_UNSET is not set "
                      "(write ${TRELLIS_TEST_UNSET:-default} for a default)",
                  f + ":7:27: plugins.hello.settings.list[1]: unterminated reference '${BAD': missing '}'",
                  // A substituted value keeps its position for the checks that read it later.
                  f + ":6:12: plugins.hello.mount: must start with '/'",
              }))
        << "the unset values are not reported again as a bad port or address";
}

TEST(OperatorConfigEnvironment, KeysAreNotSubstituted) {
    ScopedEnv key("TRELLIS_TEST_KEY", "greeting");
    ConfigDir dir;
    const auto config =
        load_operator_config(dir.main("plugins:\n  hello:\n    settings: {\"${TRELLIS_TEST_KEY}\": $$x}\n"));
    ASSERT_EQ(config.plugins.size(), 1u);
    const auto& settings = config.plugins[0].settings;
    EXPECT_FALSE(settings["greeting"]);
    EXPECT_EQ(settings["${TRELLIS_TEST_KEY}"].Scalar(), "$x");
}

TEST(OperatorConfigEnvironment, BooleansAndNumbersFromVariablesKeepTheirTypes) {
    ScopedEnv off("TRELLIS_TEST_OFF", "false");
    ScopedEnv workers("TRELLIS_TEST_WORKERS", "3");
    ConfigDir dir;
    const auto config = load_operator_config(dir.main(
        "server:\n"
        "  workers: ${TRELLIS_TEST_WORKERS}\n"
        "  max_request_bytes: \"${TRELLIS_TEST_SIZE:-2KiB}\"\n"
        "plugins:\n"
        "  hello:\n"
        "    enabled: ${TRELLIS_TEST_OFF}\n"));
    EXPECT_EQ(config.server.workers, std::optional<unsigned>(3u));
    EXPECT_EQ(config.server.max_request_bytes, 2048u);
    ASSERT_EQ(config.plugins.size(), 1u);
    EXPECT_FALSE(config.plugins[0].enabled);
    EXPECT_EQ(only_error("plugins:\n  hello: {enabled: \"${TRELLIS_TEST_OFF}\"}\n"),
              "F:2:20: plugins.hello.enabled: must be true or false")
        << "a quoted reference is a string, as a quoted false is";
}

TEST(OperatorConfigEnvironment, AnAliasIsSubstitutedOnce) {
    ScopedEnv dollars("TRELLIS_TEST_DOLLARS", "pa$$w${X}rd");
    ConfigDir dir;
    const auto config = load_operator_config(dir.main(
        "plugins:\n"
        "  hello: {settings: {token: &t \"${TRELLIS_TEST_DOLLARS}\", again: *t}}\n"));
    ASSERT_EQ(config.plugins.size(), 1u);
    EXPECT_EQ(config.plugins[0].settings["token"].Scalar(), "pa$$w${X}rd");
    EXPECT_EQ(config.plugins[0].settings["again"].Scalar(), "pa$$w${X}rd");
}

TEST(OperatorConfigEnvironment, SecretFilesInPluginSettingsAndRelativeToTheConfiguration) {
    ConfigDir dir;
    dir.write("credentials/api_token", "t0ken\r\n\n");
    dir.write("secrets/relative", "from the config folder\n");
    ScopedEnv creds("CREDENTIALS_DIRECTORY", (dir.path() / "credentials").c_str());
    const auto config = load_operator_config(dir.main(
        "plugins:\n"
        "  hello:\n"
        "    settings:\n"
        "      api_token: ${file:${CREDENTIALS_DIRECTORY}/api_token}\n"
        "      nested: [{inner: \"Bearer ${file:secrets/relative}\"}]\n"));
    ASSERT_EQ(config.plugins.size(), 1u);
    const auto& settings = config.plugins[0].settings;
    EXPECT_EQ(settings["api_token"].Scalar(), "t0ken");
    EXPECT_EQ(settings["nested"][0]["inner"].Scalar(), "Bearer from the config folder");
}

TEST(OperatorConfigEnvironment, SecretFileProblemsAreErrorsAtTheirScalar) {
    ConfigDir dir;
    const std::string folder = (dir.path() / "credentials").string();
    fs::create_directories(folder);
    EXPECT_EQ(only_error("database:\n  pool: 2\n  url:   ${file:" + folder + "}\n"),
              "F:3:10: database.url: cannot read " + folder + " (from ${file:...}): is a directory");
    const std::string fifo = folder + "/fifo";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    EXPECT_EQ(only_error("plugins:\n  hello:\n    settings:\n      token: ${file:" + fifo + "}\n"),
              "F:4:14: plugins.hello.settings.token: cannot read " + fifo +
                  " (from ${file:...}): not a regular file");
    ScopedEnv creds("CREDENTIALS_DIRECTORY", nullptr);
    EXPECT_EQ(only_error("database:\n  url: ${file:${CREDENTIALS_DIRECTORY}/db_url}\n"),
              "F:2:8: database.url: environment variable CREDENTIALS_DIRECTORY is not set (write "
              "${CREDENTIALS_DIRECTORY:-default} for a default); systemd sets it for a unit with LoadCredential=");
}

TEST(OperatorConfigEnvironment, ADropInsUnsetVariableNamesTheDropIn) {
    ScopedEnv unset("TRELLIS_TEST_UNSET", nullptr);
    ConfigDir dir;
    const auto main = dir.main("plugins: {}\n");
    const auto drop_in = dir.write("conf.d/hello.yaml", "plugins:\n  hello:\n    mount: ${TRELLIS_TEST_UNSET}\n");
    EXPECT_EQ(errors_of(main), (std::vector<std::string>{
                                   drop_in.string() + ":3:12: plugins.hello.mount: environment variable "
                                                      "TRELLIS_TEST_UNSET is not set (write "
                                                      "${TRELLIS_TEST_UNSET:-default} for a default)"}));
}
