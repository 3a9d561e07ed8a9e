// trellis.yaml and conf.d/*.yaml: the Loader and one parser per section,
// each a KeyRule table with positions. Over 600 lines because every section
// shares the Loader's diagnostics and "first declared at" bookkeeping; the
// units (bytes, durations) and the resolved defaults are at the end.
#include "config/operator_config.hpp"

#include "config/environment.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <charconv>
#include <limits>
#include <map>
#include <netinet/in.h>
#include <thread>
#include <utility>

namespace trellis::config {

namespace fs = std::filesystem;

namespace {

// An integer in [min, max], or a diagnostic "must be an integer from min to
// max (note)" and nullopt.
std::optional<std::int64_t> integer_in(const MapEntry& e, DiagnosticSink& sink, long long min, long long max,
                                    std::string_view note) {
    const auto v = integer_of(e.value);
    if (v && *v >= min && *v <= max) return v;
    sink.error(e.where(), e.path,
               "must be an integer from " + std::to_string(min) + " to " + std::to_string(max) + " (" + std::string(note) + ")");
    return std::nullopt;
}

// Splits "512KiB" into the leading digits and the unit after them.
std::optional<std::pair<std::uint64_t, std::string_view>> split_number(std::string_view text) {
    const auto digits_end = std::find_if(text.begin(), text.end(),
                                         [](char c) { return c < '0' || c > '9'; });
    const std::size_t n = static_cast<std::size_t>(digits_end - text.begin());
    if (n == 0) return std::nullopt;
    std::uint64_t value = 0;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + n, value);
    if (ec != std::errc() || ptr != text.data() + n) return std::nullopt;
    return std::pair{value, text.substr(n)};
}

// Multiplies without wrapping around: an absurd size must be an error, not a small number.
std::optional<std::uint64_t> checked_multiply(std::uint64_t value, std::uint64_t factor,
                                              std::uint64_t limit) {
    if (value > limit / factor) return std::nullopt;
    return value * factor;
}

bool is_hostname(std::string_view host) {
    if (host.empty() || host.size() > 253) return false;
    std::string_view last_label;
    std::size_t start = 0;
    while (true) {
        const std::size_t dot = host.find('.', start);
        const std::string_view label = host.substr(start, dot == std::string_view::npos ? dot : dot - start);
        if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-')
            return false;
        for (const char c : label) {
            const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                            c == '-';
            if (!ok) return false;
        }
        last_label = label;
        if (dot == std::string_view::npos) break;
        start = dot + 1;
    }
    // "256.1.1.1" is a mistyped address, not a host name: top-level labels are never all digits.
    return !std::all_of(last_label.begin(), last_label.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool is_listen_address(const std::string& text) {
    in_addr v4{};
    in6_addr v6{};
    return inet_pton(AF_INET, text.c_str(), &v4) == 1 || inet_pton(AF_INET6, text.c_str(), &v6) == 1 ||
           is_hostname(text);
}

// Why a mount prefix is unusable; empty when it is fine.
std::string mount_problem(const std::string& mount) {
    if (mount.empty() || mount.front() != '/') return "must start with '/'";
    if (mount.size() > 1 && mount.back() == '/') return "must not end with '/' (use \"/\" for the root)";
    if (mount.find("//") != std::string::npos) return "must not contain '//'";
    if (mount.find_first_of("{}") != std::string::npos)
        return "must not contain '{' or '}' (parameters belong in the plugin's routes)";
    return {};
}

std::string position_text(const std::string& file, const YAML::Node& node) {
    const YAML::Mark mark = node.Mark();
    return file + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
}

// Loads the main file and the conf.d files into one OperatorConfig,
// collecting the diagnostics of every file.
class Loader {
public:
    explicit Loader(const fs::path& file) : base_dir_(file.parent_path()) {
        config_.file = file;
        config_.database.base_dir = base_dir_;  // relative sqlite paths, whether or not `database` is set
    }

    // `text`: the main file's content when it is not read from disk.
    void load_main(std::optional<std::string_view> text = std::nullopt) {
        const std::string name = config_.file.string();
        YAML::Node root;
        try {
            root = text ? parse_yaml(*text, name) : load_yaml_file(name);
        } catch (const ConfigError& e) {
            // An unreadable main file ends loading; a syntax error in it is
            // reported together with the problems of the conf.d files.
            if (e.diagnostics().front().line == 0) throw;
            keep(e.diagnostics());
            return;
        }
        DiagnosticSink sink(name);
        substitute_environment(root, sink, base_dir_);
        if (check_top_level(root, sink)) {
            walk_map(root, "",
                     {
                         {"server", [&](const MapEntry& e) { parse_server(e, sink); }},
                         {"admin", [&](const MapEntry& e) { parse_admin(e, sink); }},
                         {"logging", [&](const MapEntry& e) { parse_logging(e, sink); }},
                         {"openapi", [&](const MapEntry& e) { parse_openapi(e, sink); }},
                         {"database", [&](const MapEntry& e) { parse_database(e, sink); }},
                         {"plugin_path", [&](const MapEntry& e) { parse_plugin_path(e, sink); }},
                         {"plugins", [&](const MapEntry& e) { parse_plugins(e, sink); }},
                         {"errors", [&](const MapEntry& e) { parse_errors(e, sink); }},
                     },
                     sink);
            check_service(root, sink);
        }
        keep(sink.diagnostics());
    }

    void load_drop_ins() {
        const fs::path dir = base_dir_ / "conf.d";
        std::error_code ec;
        if (!fs::is_directory(dir, ec)) return;

        std::vector<fs::path> files;
        for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
            const auto ext = it->path().extension();
            std::error_code type_ec;
            if ((ext == ".yaml" || ext == ".yml") && it->is_regular_file(type_ec)) files.push_back(it->path());
        }
        if (ec) {
            // Silently skipping drop-ins would start the host with plugins missing.
            diagnostics_.push_back(Diagnostic{dir.string(), 0, 0, "", "cannot read directory: " + ec.message()});
            return;
        }
        std::sort(files.begin(), files.end(),
                  [](const fs::path& a, const fs::path& b) { return a.filename() < b.filename(); });
        for (const auto& file : files) load_drop_in(file);
    }

    OperatorConfig finish() {
        if (!diagnostics_.empty()) throw ConfigError(std::move(diagnostics_));
        return std::move(config_);
    }

private:
    void load_drop_in(const fs::path& file) {
        const std::string name = file.string();
        YAML::Node root;
        try {
            root = load_yaml_file(name);
        } catch (const ConfigError& e) {
            // A broken drop-in must not hide the problems of the others.
            keep(e.diagnostics());
            return;
        }
        DiagnosticSink sink(name);
        substitute_environment(root, sink, base_dir_);
        // Server-wide settings have one home, so that no drop-in silently overrides another.
        const auto main_only = [&](const MapEntry& e) {
            sink.error(e.key, e.path,
                       "belongs in the main configuration file " + config_.file.string() +
                           "; conf.d files may only set plugins and plugin_path");
        };
        if (check_top_level(root, sink)) {
            walk_map(root, "",
                     {
                         {"plugin_path", [&](const MapEntry& e) { parse_plugin_path(e, sink); }},
                         {"plugins", [&](const MapEntry& e) { parse_plugins(e, sink); }},
                         {"server", main_only},
                         {"admin", main_only},
                         {"logging", main_only},
                         {"openapi", main_only},
                         {"database", main_only},
                         {"errors", main_only},
                     },
                     sink);
        }
        keep(sink.diagnostics());
    }

    static bool check_top_level(const YAML::Node& root, DiagnosticSink& sink) {
        if (root.IsNull()) return false;  // empty or only comments: all defaults
        if (!root.IsMap()) {
            sink.error(root, "",
                       "the top level must be a map of sections (server, admin, logging, database, plugin_path, plugins, errors)");
            return false;
        }
        return true;
    }

    void keep(const std::vector<Diagnostic>& found) {
        diagnostics_.insert(diagnostics_.end(), found.begin(), found.end());
    }

    void parse_server(const MapEntry& section, DiagnosticSink& sink) {
        ServerConfig& server = config_.server;
        const auto duration = [&](std::chrono::milliseconds& target) {
            return [&sink, &target](const MapEntry& e) {
                std::optional<std::chrono::milliseconds> value;
                if (e.value.IsScalar()) value = parse_duration(e.value.Scalar());
                if (!value)
                    sink.error(e.where(), e.path,
                               "must be a duration such as 10s, 500ms or 2m (a plain integer means seconds)");
                else
                    target = *value;
            };
        };
        walk_map(section.value, section.path,
                 {
                     {"listen",
                      [&](const MapEntry& e) {
                          if (!e.value.IsScalar() || !is_listen_address(e.value.Scalar()))
                              sink.error(e.where(), e.path, "must be an IPv4 or IPv6 address or a host name");
                          else
                              server.listen = e.value.Scalar();
                      }},
                     {"port",
                      [&](const MapEntry& e) {
                          if (const auto v = integer_in(e, sink, 0, 65535, "0: any free port")) server.port = static_cast<std::uint16_t>(*v);
                      }},
                     {"threads",
                      [&](const MapEntry& e) {
                          if (const auto v = integer_in(e, sink, 0, 1024, "0: one thread per core")) server.threads = static_cast<unsigned>(*v);
                      }},
                     {"max_request_bytes",
                      [&](const MapEntry& e) {
                          std::optional<std::size_t> bytes;
                          if (e.value.IsScalar()) bytes = parse_byte_size(e.value.Scalar());
                          if (!bytes || *bytes == 0)
                              sink.error(e.where(), e.path,
                                         "must be a size greater than 0, in bytes or with a unit: "
                                         "512KiB, 1MiB, 10MB");
                          else
                              server.max_request_bytes = *bytes;
                      }},
                     {"header_timeout", duration(server.header_timeout)},
                     {"body_timeout", duration(server.body_timeout)},
                     {"keepalive_timeout", duration(server.keepalive_timeout)},
                     {"shutdown_grace", duration(server.shutdown_grace)},
                     {"drain_delay", duration(server.drain_delay)},
                     {"workers",
                      [&](const MapEntry& e) {
                          if (const auto v = integer_in(e, sink, 0, 256, "0: one process, no supervisor; unset: one per core")) {
                              server.workers = static_cast<unsigned>(*v);
                              workers_node_ = e.where();
                          }
                      }},
                     {"worker_timeout",
                      [&](const MapEntry& e) {
                          std::optional<std::chrono::milliseconds> value;
                          if (e.value.IsScalar()) value = parse_duration(e.value.Scalar());
                          if (!value || value->count() <= 0)
                              sink.error(e.where(), e.path,
                                         "must be a duration greater than 0, such as 30s or 2m "
                                         "(a request running longer kills its worker)");
                          else
                              server.worker_timeout = *value;
                      }},
                     {"max_connections",
                      [&](const MapEntry& e) {
                          if (const auto v = integer_in(e, sink, 1, 1000000, "open connections per process"))
                              server.max_connections = static_cast<std::size_t>(*v);
                      }},
                     {"date_header",
                      [&](const MapEntry& e) {
                          if (const auto on = bool_of(e.value))
                              server.date_header = *on;
                          else
                              sink.error(e.where(), e.path, "must be true or false");
                      }},
                     {"server_header",
                      [&](const MapEntry& e) {
                          const std::string text = e.value.IsScalar() ? e.value.Scalar() : "";
                          const bool printable = std::all_of(text.begin(), text.end(), [](char c) {
                              return static_cast<unsigned char>(c) >= 0x20 && c != 0x7f;
                          });
                          if (!e.value.IsScalar() || !printable || text.size() > 200)
                              sink.error(e.where(), e.path, "must be a line of printable text (\"\" sends no Server header)");
                          else
                              server.server_header = text;
                      }},
                     {"readiness_path",
                      [&](const MapEntry& e) {
                          const std::string text = e.value.IsScalar() ? e.value.Scalar() : "";
                          if (text.empty() || text.front() != '/' || text.find_first_of("{}? ") != std::string::npos)
                              sink.error(e.where(), e.path, "must be a plain path such as /readyz");
                          else
                              server.readiness_path = text;
                      }},
                 },
                 sink);
    }

    // admin: {enabled: true, listen: 127.0.0.1, port: 9901}
    void parse_admin(const MapEntry& section, DiagnosticSink& sink) {
        AdminConfig& admin = config_.admin;
        walk_map(section.value, section.path,
                 {
                     {"enabled",
                      [&](const MapEntry& e) {
                          if (const auto enabled = bool_of(e.value))
                              admin.enabled = *enabled;
                          else
                              sink.error(e.where(), e.path, "must be true or false");
                      }},
                     {"listen",
                      [&](const MapEntry& e) {
                          if (!e.value.IsScalar() || !is_listen_address(e.value.Scalar()))
                              sink.error(e.where(), e.path, "must be an IPv4 or IPv6 address or a host name");
                          else
                              admin.listen = e.value.Scalar();
                      }},
                     {"port",
                      [&](const MapEntry& e) {
                          if (const auto v = integer_in(e, sink, 0, 65535, "0: any free port")) {
                              admin.port = static_cast<std::uint16_t>(*v);
                              admin_port_node_ = e.where();
                          }
                      }},
                 },
                 sink);
    }

    // Rules that span sections of the main file.
    void check_service(const YAML::Node& root, DiagnosticSink& sink) {
        const AdminConfig& admin = config_.admin;
        const ServerConfig& server = config_.server;
        if (admin.enabled && admin.port != 0 && admin.port == server.port) {
            const YAML::Node where = admin_port_node_.IsDefined() ? admin_port_node_ : root;
            sink.error(where, "admin.port",
                       "must differ from server.port (" + std::to_string(server.port) +
                           "): the admin listener is not the serving port");
        }
        if (server.workers && *server.workers > 1 && config_.database.url == "sqlite::memory:")
            sink.error(workers_node_, "server.workers",
                       "an in-memory SQLite database (sqlite::memory:) belongs to one process: with " +
                           std::to_string(*server.workers) +
                           " workers each would see its own; use a database file or workers: 1");
    }

    YAML::Node admin_port_node_, workers_node_;  // positions for check_service

    // openapi: {enabled: true, path: /openapi.json, title: ..., description: ...}
    void parse_openapi(const MapEntry& section, DiagnosticSink& sink) {
        OpenApiConfig& openapi = config_.openapi;
        const auto line_of_text = [&](const MapEntry& e, std::string& out) {
            const std::string text = e.value.IsScalar() ? e.value.Scalar() : "";
            if (!e.value.IsScalar() || text.empty())
                sink.error(e.where(), e.path, "must be a non-empty text");
            else
                out = text;
        };
        walk_map(section.value, section.path,
                 {
                     {"enabled",
                      [&](const MapEntry& e) {
                          if (const auto enabled = bool_of(e.value))
                              openapi.enabled = *enabled;
                          else
                              sink.error(e.where(), e.path, "must be true or false");
                      }},
                     {"path",
                      [&](const MapEntry& e) {
                          const std::string text = e.value.IsScalar() ? e.value.Scalar() : "";
                          if (text.size() < 2 || text.front() != '/' ||
                              text.find_first_of("{}?# ") != std::string::npos)
                              sink.error(e.where(), e.path, "must be a plain path such as /openapi.json");
                          else
                              openapi.path = text;
                      }},
                     {"title", [&](const MapEntry& e) { line_of_text(e, openapi.title); }},
                     {"description", [&](const MapEntry& e) { line_of_text(e, openapi.description); }},
                 },
                 sink);
    }

    void parse_logging(const MapEntry& section, DiagnosticSink& sink) {
        walk_map(section.value, section.path,
                 {
                     {"level",
                      [&](const MapEntry& e) {
                          static const std::vector<std::string_view> levels = {"trace", "debug", "info",
                                                                               "warn",  "error", "off"};
                          const bool ok = e.value.IsScalar() && std::find(levels.begin(), levels.end(),
                                                                          e.value.Scalar()) != levels.end();
                          if (ok) {
                              config_.logging.level = e.value.Scalar();
                              return;
                          }
                          std::string message = "must be one of trace, debug, info, warn, error, off";
                          if (e.value.IsScalar())
                              if (const auto hint = did_you_mean(e.value.Scalar(), levels); !hint.empty())
                                  message += "; " + hint;
                          sink.error(e.where(), e.path, message);
                      }},
                     {"access",
                      [&](const MapEntry& e) {
                          if (const auto access = bool_of(e.value))
                              config_.logging.access = *access;
                          else
                              sink.error(e.where(), e.path, "must be true or false");
                      }},
                     {"format",
                      [&](const MapEntry& e) {
                          const std::string text = e.value.IsScalar() ? e.value.Scalar() : "";
                          if (text == "text" || text == "json") {
                              config_.logging.access_json = text == "json";
                              return;
                          }
                          std::string message = "must be text or json";
                          if (const auto hint = did_you_mean(text, {"text", "json"}); !hint.empty())
                              message += "; " + hint;
                          sink.error(e.where(), e.path, message);
                      }},
                 },
                 sink);
    }

    // database: {url: "sqlite:///var/lib/trellis/trellis.db", pool: 8, busy_timeout: 5s}
    void parse_database(const MapEntry& section, DiagnosticSink& sink) {
        DatabaseConfig& database = config_.database;
        walk_map(section.value, section.path,
                 {
                     {"url",
                      [&](const MapEntry& e) {
                          // Only the scheme here; db::parse_url reads the rest when the host opens it.
                          const std::string text = e.value.IsScalar() ? e.value.Scalar() : "";
                          if (text.rfind("sqlite:", 0) == 0 || text.rfind("postgresql:", 0) == 0) {
                              database.url = text;
                              database.file = sink.file();
                              database.line = e.value.Mark().line + 1;
                              database.column = e.value.Mark().column + 1;
                              return;
                          }
                          std::string message =
                              "must be a database URL: sqlite:///absolute/path.db, sqlite://relative/path.db, "
                              "sqlite::memory: or postgresql://user@host:port/dbname";
                          if (const auto colon = text.find(':'); colon != std::string::npos && colon > 0)
                              if (const auto hint = did_you_mean(text.substr(0, colon), {"sqlite", "postgresql"});
                                  !hint.empty())
                                  message += "; " + hint;
                          sink.error(e.where(), e.path, message);
                      }},
                     {"pool",
                      [&](const MapEntry& e) {
                          if (const auto v = integer_in(e, sink, 1, 1024, "database sessions")) database.pool = static_cast<std::size_t>(*v);
                      }},
                     {"busy_timeout",
                      [&](const MapEntry& e) {
                          std::optional<std::chrono::milliseconds> value;
                          if (e.value.IsScalar()) value = parse_duration(e.value.Scalar());
                          if (!value)
                              sink.error(e.where(), e.path,
                                         "must be a duration such as 10s, 500ms or 2m (a plain integer means seconds)");
                          else
                              database.busy_timeout = *value;
                      }},
                 },
                 sink);
    }

    void parse_plugin_path(const MapEntry& e, DiagnosticSink& sink) {
        const auto add = [&](const YAML::Node& item, const std::string& path) {
            if (!item.IsScalar() || item.Scalar().empty()) {
                sink.error(item.IsNull() ? e.key : item, path, "must be a non-empty directory path");
                return;
            }
            const fs::path dir(item.Scalar());
            // Relative entries are relative to the main file, wherever the host was started from.
            config_.plugin_path.push_back(dir.is_absolute() ? dir : (base_dir_ / dir).lexically_normal());
        };
        if (e.value.IsSequence()) {
            for (std::size_t i = 0; i < e.value.size(); ++i)
                add(e.value[i], e.path + "[" + std::to_string(i) + "]");
        } else if (e.value.IsScalar()) {
            add(e.value, e.path);
        } else {
            sink.error(e.where(), e.path, "must be a directory path or a list of them");
        }
    }

    void parse_plugins(const MapEntry& section, DiagnosticSink& sink) {
        if (section.value.IsNull()) return;
        if (!section.value.IsMap()) {
            sink.error(section.where(), section.path, "must be a map from plugin name to its settings");
            return;
        }
        for (const auto& kv : section.value) {
            const YAML::Node& key = kv.first;
            const YAML::Node& value = kv.second;
            const std::string name = key.IsScalar() ? key.Scalar() : std::string();
            const std::string path = name.empty() ? section.path : join_key(section.path, name);
            if (!is_plugin_name(name)) {
                sink.error(key, path, "plugin names may contain only letters, digits, '_' and '-'");
                continue;
            }
            const std::string here = position_text(sink.file(), key);
            if (const auto [it, inserted] = declared_at_.emplace(name, here); !inserted) {
                sink.error(key, path, "plugin '" + name + "' is already declared at " + it->second);
                continue;
            }

            PluginConfig plugin;
            plugin.name = name;
            plugin.file = sink.file();
            plugin.line = key.Mark().line + 1;
            plugin.column = key.Mark().column + 1;
            if (!value.IsNull() && !value.IsMap()) {
                sink.error(value, path, "must be a map (plugin, enabled, mount, settings, isolation) or empty");
                continue;
            }
            walk_map(value, path,
                     {
                         {"plugin",
                          [&](const MapEntry& e) {
                              // Another instance of a library: admin_notes: {plugin: notes, mount: /admin}.
                              const std::string library = e.value.IsScalar() ? e.value.Scalar() : "";
                              if (is_plugin_name(library))
                                  plugin.library = library;
                              else
                                  sink.error(e.where(), e.path,
                                             "must name a plugin library (letters, digits, '_' and '-'), e.g. notes");
                          }},
                         {"enabled",
                          [&](const MapEntry& e) {
                              if (const auto enabled = bool_of(e.value))
                                  plugin.enabled = *enabled;
                              else
                                  sink.error(e.where(), e.path, "must be true or false");
                          }},
                         {"mount",
                          [&](const MapEntry& e) {
                              if (!e.value.IsScalar()) {
                                  sink.error(e.where(), e.path, "must be a path such as /api/notes");
                              } else if (const auto problem = mount_problem(e.value.Scalar()); !problem.empty()) {
                                  sink.error(e.where(), e.path, problem);
                              } else {
                                  plugin.mount = e.value.Scalar();
                              }
                          }},
                         {"isolation",
                          [&](const MapEntry& e) {
                              const std::string text = e.value.IsScalar() ? e.value.Scalar() : "";
                              if (text == "deep" || text == "default") {
                                  plugin.deep_isolation = text == "deep";
                                  return;
                              }
                              std::string message =
                                  "must be default or deep (deep: the plugin's own libraries are searched before "
                                  "the host's)";
                              if (const auto hint = did_you_mean(text, {"default", "deep"}); !hint.empty())
                                  message += "; " + hint;
                              sink.error(e.where(), e.path, message);
                          }},
                         {"settings",
                          [&](const MapEntry& e) {
                              // Checked against the plugin's manifest once the plugin is loaded.
                              if (!e.value.IsNull() && !e.value.IsMap())
                                  sink.error(e.where(), e.path, "must be a map of setting names to values");
                              else
                                  plugin.settings = e.value;
                          }},
                     },
                     sink);
            config_.plugins.push_back(std::move(plugin));
        }
    }

    // errors: {500: {json: {...}}, 503: {text: "..."}, 404: {handler: plugin.symbol}}
    void parse_errors(const MapEntry& section, DiagnosticSink& sink) {
        walk_error_map(section, sink, "a response", [&](const StatusMatch& match, const MapEntry& entry) {
            if (!entry.value.IsMap()) {
                sink.error(entry.where(), entry.path,
                           "must be a map with one of json, text or handler, e.g. {json: {error: internal}}");
                return;
            }
            AppErrorSpec spec;
            spec.match = match;
            spec.file = sink.file();
            spec.line = entry.key.Mark().line + 1;
            spec.column = entry.key.Mark().column + 1;
            bool ok = true;
            std::string first_name;  // the response chosen first: json, text or handler
            const auto response = [&](AppErrorSpec::Kind kind, auto&& read) {
                return [&, kind, read](const MapEntry& e) {
                    if (!first_name.empty()) {
                        sink.error(e.key, e.path,
                                   "only one of json, text or handler may be given; '" + first_name +
                                       "' is already set");
                        ok = false;
                        return;
                    }
                    first_name = e.key.Scalar();
                    spec.kind = kind;
                    if (!read(e)) ok = false;
                };
            };
            walk_map(entry.value, entry.path,
                     {
                         {"json", response(AppErrorSpec::Kind::Json,
                                           [&](const MapEntry& e) {
                                               spec.body = json_text(e.value);
                                               return true;
                                           })},
                         {"text", response(AppErrorSpec::Kind::Text,
                                           [&](const MapEntry& e) {
                                               if (!e.value.IsScalar()) {
                                                   sink.error(e.where(), e.path, "must be a string");
                                                   return false;
                                               }
                                               spec.body = e.value.Scalar();
                                               return true;
                                           })},
                         {"handler", response(AppErrorSpec::Kind::Handler,
                                              [&](const MapEntry& e) { return read_handler(e, spec, sink); })},
                     },
                     sink);
            if (first_name.empty()) {
                sink.error(entry.value, entry.path, "needs one of json, text or handler");
                return;
            }
            if (ok) config_.errors.push_back(std::move(spec));
        });
    }

    // "<plugin>.<symbol>": whether the plugin is enabled and exports the symbol
    // is checked once plugins are loaded.
    static bool read_handler(const MapEntry& e, AppErrorSpec& spec, DiagnosticSink& sink) {
        const std::string text = e.value.IsScalar() ? e.value.Scalar() : "";
        const auto dot = text.find('.');
        if (dot == std::string::npos || dot == 0 || dot + 1 == text.size()) {
            sink.error(e.where(), e.path, "must be <plugin>.<symbol>, e.g. hello.hello_not_found");
            return false;
        }
        const std::string plugin = text.substr(0, dot), symbol = text.substr(dot + 1);
        if (!is_plugin_name(plugin)) {
            sink.error(e.where(), e.path,
                       "plugin name '" + plugin + "' may contain only letters, digits, '_' and '-'");
            return false;
        }
        if (!is_c_identifier(symbol)) {
            sink.error(e.where(), e.path,
                       "'" + symbol + "' must be the name of an exported C function ([A-Za-z_][A-Za-z0-9_]*)");
            return false;
        }
        spec.plugin = plugin;
        spec.handler = symbol;
        return true;
    }

    fs::path base_dir_;
    OperatorConfig config_;
    std::vector<Diagnostic> diagnostics_;
    std::map<std::string, std::string> declared_at_;  // plugin name -> "file:line:col"
};

}  // namespace

OperatorConfig load_operator_config(const fs::path& file) {
    Loader loader(file);
    loader.load_main();
    loader.load_drop_ins();
    return loader.finish();
}

OperatorConfig parse_operator_config(std::string_view text, const fs::path& as_file) {
    Loader loader(as_file);
    loader.load_main(text);
    return loader.finish();
}

unsigned resolved_workers(const OperatorConfig& config) {
    if (config.server.workers) return *config.server.workers;
    if (config.database.url == "sqlite::memory:") return 1;
    return std::max(1u, std::thread::hardware_concurrency());
}

unsigned resolved_threads(const ServerConfig& server) {
    return server.threads ? server.threads : std::max(1u, std::thread::hardware_concurrency());
}

std::optional<std::size_t> parse_byte_size(std::string_view text) {
    const auto number = split_number(text);
    if (!number) return std::nullopt;
    static const std::map<std::string_view, std::uint64_t> units = {
        {"", 1},
        {"B", 1},
        {"KB", 1000},
        {"MB", 1000 * 1000},
        {"GB", 1000 * 1000 * 1000},
        {"KiB", 1024},
        {"MiB", 1024 * 1024},
        {"GiB", 1024 * 1024 * 1024},
    };
    const auto unit = units.find(number->second);
    if (unit == units.end()) return std::nullopt;
    const auto bytes = checked_multiply(number->first, unit->second, std::numeric_limits<std::size_t>::max());
    if (!bytes) return std::nullopt;
    return static_cast<std::size_t>(*bytes);
}

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
    const auto number = split_number(text);
    if (!number) return std::nullopt;
    static const std::map<std::string_view, std::uint64_t> units = {
        {"", 1000},  // a plain integer means seconds
        {"ms", 1},
        {"s", 1000},
        {"m", 60 * 1000},
        {"h", 60 * 60 * 1000},
    };
    const auto unit = units.find(number->second);
    if (unit == units.end()) return std::nullopt;
    constexpr auto limit = static_cast<std::uint64_t>(std::numeric_limits<std::chrono::milliseconds::rep>::max());
    const auto ms = checked_multiply(number->first, unit->second, limit);
    if (!ms) return std::nullopt;
    return std::chrono::milliseconds(static_cast<std::chrono::milliseconds::rep>(*ms));
}

}  // namespace trellis::config
