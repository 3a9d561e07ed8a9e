// The operator's configuration: trellis.yaml plus conf.d/*.yaml beside it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "config/diagnostics.hpp"
#include "config/manifest.hpp"

namespace trellis::config {

struct ServerConfig {
    std::string listen = "0.0.0.0";
    std::uint16_t port = 8080;
    unsigned threads = 0;                            // 0: one per core
    std::size_t max_request_bytes = 1024 * 1024;    // body limit; 413 beyond it
    std::chrono::milliseconds header_timeout{10000}; // time to receive the headers
    std::chrono::milliseconds body_timeout{30000};   // time to receive the body
    std::chrono::milliseconds keepalive_timeout{60000};
    std::chrono::milliseconds shutdown_grace{10000}; // drain time on SIGTERM and on reload
    std::chrono::milliseconds drain_delay{0};        // on SIGTERM: readiness fails this long before the drain
    // Worker processes under a supervisor; unset: one per core; 0: one
    // process and no supervisor (development, tests, serverless).
    std::optional<unsigned> workers;
    std::chrono::milliseconds worker_timeout{30000}; // a request running longer kills its worker
    std::string readiness_path;                      // also answer readiness on the serving port ("" = off)
    std::size_t max_connections = 10000;             // per process; more are answered 503 and closed
    bool date_header = true;                         // send Date (formatted once a second)
    std::string server_header = "trellis";           // the Server header's value; "" sends none
};

// Operator `admin`: the supervisor's own listener (/livez, /readyz, /metrics),
// never the serving port; no plugin route can be mounted on it.
struct AdminConfig {
    bool enabled = true;
    std::string listen = "127.0.0.1";
    std::uint16_t port = 9901;  // 0: any free port (logged)
};

// Operator `openapi`: the OpenAPI 3.1 document of the enabled plugins'
// routes, served on the serving port (GET `path`) and printed by
// `trellis openapi`.
//   openapi: {enabled: true, path: /openapi.json, title: Notes API}
struct OpenApiConfig {
    bool enabled = true;
    std::string path = "/openapi.json";
    std::string title = "Trellis application";  // info.title
    std::string description;                    // info.description ("" lists the plugins)
};

struct LoggingConfig {
    std::string level = "info"; // trace, debug, info, warn, error, off
    bool access = true;         // one access-log line per request (at info)
    bool access_json = false;   // format: json (true) or text (false)
};

// Operator `errors`: what the application answers for a failed status when
// the plugin under whose mount it failed has no handler for it.
//   errors:
//     500: {json: {error: internal error}}
//     503: {text: "down for maintenance"}
//     404: {handler: hello.hello_not_found}   # <plugin>.<exported symbol>
struct AppErrorSpec {
    StatusMatch match;
    enum class Kind { Json, Text, Handler } kind = Kind::Json;
    std::string body;            // Json: the serialized document; Text: the text
    std::string plugin, handler; // Handler
    std::string file;
    int line = 0, column = 0;
};

// Operator `database`: one database shared by every plugin.
//   database: {url: "sqlite:///var/lib/trellis/trellis.db", pool: 8}
// url forms: sqlite:///absolute/path.db, sqlite://relative/path.db (to the
// config file's folder), sqlite::memory:, postgresql://user[:password]@host[:port]/dbname
struct DatabaseConfig {
    std::string url = "sqlite://trellis.db";
    std::size_t pool = 0;                            // sessions; unset (0): server.threads (or cores) + 1
    std::chrono::milliseconds busy_timeout{5000};    // SQLite busy timeout / PostgreSQL wait for a session
    std::filesystem::path base_dir;                  // the main config file's folder (for relative sqlite paths)
    std::string file;                                // where `url` was set, for messages
    int line = 0, column = 0;
};

// One entry under `plugins:`: an instance of a plugin library. The key is
// the instance's name; `plugin:` names the library when it differs (one
// library mounted twice: notes: {...}, admin_notes: {plugin: notes, ...}).
struct PluginConfig {
    std::string name;          // the instance: the key under `plugins:`
    std::string library;       // `plugin:`, the library (lib<library>.so, its manifest's `plugin:`); empty: name
    bool enabled = true;
    std::string mount = "/";   // prefix for every route of the plugin
    YAML::Node settings;       // validated later against the plugin's manifest
    bool deep_isolation = false;  // isolation: deep — its own libraries before the host's (RTLD_DEEPBIND)
    std::string file;          // where this entry was declared
    int line = 0, column = 0;  // 1-based position of the entry's key

    // The plugin this entry is an instance of.
    const std::string& plugin() const noexcept { return library.empty() ? name : library; }
};

struct OperatorConfig {
    std::filesystem::path file;                   // the main file
    ServerConfig server;
    AdminConfig admin;
    LoggingConfig logging;
    OpenApiConfig openapi;
    DatabaseConfig database;
    std::vector<std::filesystem::path> plugin_path; // relative entries resolved against the file's folder
    std::vector<PluginConfig> plugins;            // in declaration order (hook order depends on it)
    std::vector<AppErrorSpec> errors;
};

// Loads and validates `file` and then conf.d/*.yaml beside it (in name order;
// each may add plugins, a plugin declared twice is an error naming both
// places). Throws ConfigError listing every problem found.
OperatorConfig load_operator_config(const std::filesystem::path& file);

// The same for a configuration held in memory (the test client's), read as
// if it were `as_file` (messages name it; relative paths start at its
// folder); no conf.d files.
OperatorConfig parse_operator_config(std::string_view text, const std::filesystem::path& as_file);

// Parses "1MiB", "512KiB", "4096", "10MB" ... into bytes; nullopt if malformed.
std::optional<std::size_t> parse_byte_size(std::string_view text);
// How many worker processes `serve` runs: server.workers, else one per core
// (0: no supervisor). A private in-memory SQLite database cannot be shared
// by processes, so it means one worker unless the operator asked for more
// (which check refuses).
unsigned resolved_workers(const OperatorConfig& config);
// Server threads per process: server.threads, else one per core.
unsigned resolved_threads(const ServerConfig& server);

// Parses "30s", "500ms", "2m" into milliseconds; nullopt if malformed.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

}  // namespace trellis::config
