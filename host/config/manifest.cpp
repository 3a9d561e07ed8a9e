#include "config/manifest.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <set>
#include <utility>

#include <nlohmann/json.hpp>

namespace trellis::config {

namespace {

struct TypeName {
    std::string_view name;
    SettingType type;
};
constexpr TypeName kTypes[] = {
    {"string", SettingType::String}, {"int", SettingType::Int},   {"real", SettingType::Real},
    {"bool", SettingType::Bool},     {"list", SettingType::List}, {"map", SettingType::Map},
};

std::string_view type_name(SettingType type) {
    for (const auto& t : kTypes)
        if (t.type == type) return t.name;
    return "?";
}

constexpr std::string_view kSymbolRule = "must be the name of an exported C function ([A-Za-z_][A-Za-z0-9_]*)";

// Error kinds a plugin or operator may name instead of a status.
struct ErrorKind {
    std::string_view name;
    int status;
};
constexpr ErrorKind kErrorKinds[] = {
    {"validation", 422}, {"not_found", 404}, {"method_not_allowed", 405}, {"internal", 500}};

// A number as YAML writes it: "12", "-0.5", "1e3"; not "inf", "0x10" or a quoted "12".
std::optional<double> real_of(const YAML::Node& node) {
    if (!node.IsScalar() || node.Tag() != "?") return std::nullopt;
    std::string_view text = node.Scalar();
    const bool negative = !text.empty() && text.front() == '-';
    if (!text.empty() && (text.front() == '+' || text.front() == '-')) text.remove_prefix(1);
    // from_chars would also accept "inf" and "nan", which YAML spells differently.
    if (text.empty() || !(std::isdigit(static_cast<unsigned char>(text.front())) || text.front() == '.'))
        return std::nullopt;
    double value = 0;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
    return negative ? -value : value;
}

// 200 rather than 200.000000 in messages.
std::string number_text(double value) {
    char buffer[64];
    const auto [ptr, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
    return ec == std::errc() ? std::string(buffer, ptr) : std::to_string(value);
}

// Why `value` does not fit the setting; empty when it does.
std::string value_problem(const SettingSpec& spec, const YAML::Node& value) {
    std::optional<double> number;
    switch (spec.type) {
    case SettingType::String:
        return value.IsScalar() ? "" : "must be a string";
    case SettingType::Bool:
        return bool_of(value) ? "" : "must be true or false";
    case SettingType::List:
        return value.IsSequence() ? "" : "must be a list";
    case SettingType::Map:
        return value.IsMap() ? "" : "must be a map";
    case SettingType::Int:
        if (const auto i = integer_of(value)) number = static_cast<double>(*i);
        else return "must be an integer";
        break;
    case SettingType::Real:
        number = real_of(value);
        if (!number) return "must be a number";
        break;
    }
    if (spec.min && *number < *spec.min) return "must be at least " + number_text(*spec.min);
    if (spec.max && *number > *spec.max) return "must be at most " + number_text(*spec.max);
    return "";
}

// The text a plugin receives for a setting's value.
std::string setting_text(const SettingSpec& spec, const YAML::Node& value) {
    switch (spec.type) {
    case SettingType::List:
    case SettingType::Map:
        return json_text(value);
    case SettingType::Bool:
        return *bool_of(value) ? "true" : "false";  // "True" and "TRUE" become one spelling
    case SettingType::Int:
        return std::to_string(*integer_of(value));  // "+5" becomes "5"
    default:
        return value.Scalar();
    }
}

// ---- Models ----

struct FieldTypeName {
    std::string_view name;
    FieldType type;
};
constexpr FieldTypeName kFieldTypes[] = {
    {"integer", FieldType::Integer},     {"real", FieldType::Real}, {"text", FieldType::Text},
    {"boolean", FieldType::Boolean},     {"timestamp", FieldType::Timestamp}, {"json", FieldType::Json},
};

// Spellings other tools use (and settings use: int, bool, string), for a hint.
constexpr std::pair<std::string_view, std::string_view> kFieldTypeAliases[] = {
    {"int", "integer"},  {"bigint", "integer"}, {"float", "real"},   {"double", "real"},
    {"number", "real"},  {"string", "text"},    {"varchar", "text"}, {"bool", "boolean"},
    {"datetime", "timestamp"}, {"date", "timestamp"}, {"object", "json"},
};

std::string_view field_type_name(FieldType type) {
    for (const auto& t : kFieldTypes)
        if (t.type == type) return t.name;
    return "?";
}

// Names that would make hand-written SQL against the table painful (the host
// quotes identifiers, plugin authors writing migrations and queries may not).
constexpr std::string_view kSqlKeywords[] = {
    "all",    "alter",   "and",    "as",      "asc",     "between", "by",      "case",     "check",
    "column", "constraint", "create", "default", "delete", "desc",   "distinct", "drop",   "else",
    "end",    "exists",  "foreign", "from",   "group",   "having",  "in",      "index",    "insert",
    "into",   "is",      "join",   "key",     "like",    "limit",   "not",     "null",     "offset",
    "on",     "or",      "order",  "primary", "references", "select", "set",   "table",    "then",
    "union",  "unique",  "update", "user",    "values",  "when",    "where",
};

bool is_sql_name(std::string_view name) {
    const auto lower = [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; };
    const auto digit = [](char c) { return c >= '0' && c <= '9'; };
    return !name.empty() && lower(name.front()) &&
           std::all_of(name.begin(), name.end(), [&](char c) { return lower(c) || digit(c); });
}

// Why `name` cannot name a model or field ("model" / "field"); empty when it can.
std::string sql_name_problem(std::string_view name, std::string_view what) {
    if (!is_sql_name(name))
        return std::string(what) + " names must be lower-case letters, digits and '_', not starting with a digit";
    if (std::find(std::begin(kSqlKeywords), std::end(kSqlKeywords), name) != std::end(kSqlKeywords))
        return "'" + std::string(name) + "' is an SQL keyword; choose another " + std::string(what) + " name";
    return {};
}

// Why `value` cannot be the default of a field of `type`; empty when it can.
// On success `json` holds the default as JSON text.
std::string field_default_problem(const FieldSpec& field, const YAML::Node& value, std::string& json) {
    switch (field.type) {
    case FieldType::Integer:
        if (const auto i = integer_of(value)) {
            json = std::to_string(*i);
            return {};
        }
        return "must be an integer";
    case FieldType::Real:
        if (const auto r = real_of(value); r && std::isfinite(*r)) {
            json = nlohmann::json(*r).dump();
            return {};
        }
        return "must be a number";
    case FieldType::Boolean:
        if (const auto b = bool_of(value)) {
            json = *b ? "true" : "false";
            return {};
        }
        return "must be true or false";
    case FieldType::Text:
        if (!value.IsScalar()) return "must be a string";
        if (field.max && utf8_length(value.Scalar()) > *field.max)
            return "is longer than max (" + std::to_string(*field.max) + " characters)";
        // Invalid UTF-8 becomes U+FFFD (found by fuzz/fuzz_manifest.cpp: dump() threw).
        json = nlohmann::json(value.Scalar()).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        return {};
    case FieldType::Timestamp:
        if (!value.IsScalar() || !is_timestamp(value.Scalar()))
            return "must be an ISO-8601 timestamp such as 2024-05-01T12:00:00Z";
        json = nlohmann::json(value.Scalar()).dump();
        return {};
    case FieldType::Json:
        if (!value.IsDefined() || value.IsNull()) return "must be a JSON value other than null";
        json = json_text(value);
        return {};
    }
    return "has an unknown type";
}

// A MapEntry that outlives the walk (MapEntry refers to the walk's nodes).
struct KeptEntry {
    explicit KeptEntry(const MapEntry& e) : key(e.key), value(e.value), path(e.path) {}
    YAML::Node key, value;
    std::string path;
    const YAML::Node& where() const { return value.IsNull() ? key : value; }
};

class ManifestParser {
public:
    explicit ManifestParser(const std::string& source) : sink_(source) {}

    Manifest parse(const YAML::Node& root) {
        if (!root.IsNull() && !root.IsMap()) {
            sink_.error(root, "", "a manifest must be a map (plugin, version, abi, ...)");
            sink_.throw_if_any();
        }
        // One line per key.
        walk_map(root, "",
                 {
                     {"plugin", [&](const MapEntry& e) { parse_plugin(e); }, true},
                     {"version", [&](const MapEntry& e) { parse_version(e); }, true},
                     {"abi", [&](const MapEntry& e) { parse_abi(e); }, true},
                     {"description", [&](const MapEntry& e) { parse_description(e); }},
                     {"settings", [&](const MapEntry& e) { parse_settings(e); }},
                     {"routes", [&](const MapEntry& e) { parse_routes(e); }},
                     {"errors", [&](const MapEntry& e) { since_1_1(e); parse_errors(e); }},
                     {"hooks", [&](const MapEntry& e) { since_1_1(e); parse_hooks(e); }},
                     {"static", [&](const MapEntry& e) { parse_static(e); }},
                     {"models", [&](const MapEntry& e) { since_1_1(e); parse_models(e); }},
                     {"migrations", [&](const MapEntry& e) { since_1_1(e); parse_migrations(e); }},
                     {"resources", [&](const MapEntry& e) { since_1_1(e); parse_resources(e); }},
                 },
                 sink_);
        check_resource_models();  // models may be declared after resources
        check_abi_covers_keys();  // `abi` may come after the keys it must cover
        sink_.throw_if_any();
        return std::move(manifest_);
    }

private:
    // `abi:` is the lowest host ABI the plugin runs on, so it must cover
    // every key the manifest uses.
    void since_1_1(const MapEntry& e) { needs_1_1_.push_back({e.key, e.path}); }
    void check_abi_covers_keys() {
        if (manifest_.abi_major != 1 || manifest_.abi_minor >= 1) return;
        for (const auto& [key, path] : needs_1_1_)
            sink_.error(key, path,
                        "needs ABI 1.1, but `abi:` says " + std::to_string(manifest_.abi_major) + "." +
                            std::to_string(manifest_.abi_minor) +
                            " (the lowest host ABI this plugin runs on); declare abi: 1.1");
    }
    std::vector<std::pair<YAML::Node, std::string>> needs_1_1_;  // key, path (MapEntry only borrows them)

    void parse_plugin(const MapEntry& e) {
        if (!e.value.IsScalar() || !is_plugin_name(e.value.Scalar()))
            sink_.error(e.where(), e.path, "must be a name made of letters, digits, '_' and '-'");
        else
            manifest_.plugin = e.value.Scalar();
    }

    void parse_version(const MapEntry& e) {
        // The source text: `version: 1.10` is "1.10", not the float 1.1.
        if (!e.value.IsScalar() || e.value.Scalar().empty())
            sink_.error(e.where(), e.path, "must be a version string such as 1.2.0");
        else
            manifest_.version = e.value.as<std::string>();
    }

    void parse_abi(const MapEntry& e) {
        const std::string text = e.value.IsScalar() ? e.value.Scalar() : "";
        const auto dot = text.find('.');
        std::uint32_t major = 0, minor = 0;
        const auto read = [](std::string_view part, std::uint32_t& out) {
            if (part.empty() || !std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; }))
                return false;
            const auto [ptr, ec] = std::from_chars(part.data(), part.data() + part.size(), out);
            return ec == std::errc() && ptr == part.data() + part.size();
        };
        if (dot == std::string::npos || !read(std::string_view(text).substr(0, dot), major) ||
            !read(std::string_view(text).substr(dot + 1), minor)) {
            sink_.error(e.where(), e.path, "must be MAJOR.MINOR, e.g. 1.0");
            return;
        }
        manifest_.abi_major = major;
        manifest_.abi_minor = minor;
    }

    void parse_description(const MapEntry& e) {
        if (!e.value.IsScalar())
            sink_.error(e.where(), e.path, "must be a string");
        else
            manifest_.description = e.value.Scalar();
    }

    void parse_settings(const MapEntry& section) {
        if (section.value.IsNull()) return;
        if (!section.value.IsMap()) {
            sink_.error(section.where(), section.path, "must be a map from setting name to its schema");
            return;
        }
        std::set<std::string> seen;
        for (const auto& kv : section.value) {
            const std::string name = kv.first.IsScalar() ? kv.first.Scalar() : "";
            const std::string path = join_key(section.path, name);
            if (!is_plugin_name(name)) {
                sink_.error(kv.first, path, "setting names may contain only letters, digits, '_' and '-'");
                continue;
            }
            if (!seen.insert(name).second) {
                sink_.error(kv.first, path, "setting declared twice");
                continue;
            }
            parse_setting(name, MapEntry{kv.first, kv.second, path});
        }
    }

    void parse_setting(const std::string& name, const MapEntry& entry) {
        SettingSpec spec;
        spec.name = name;
        bool type_ok = false;
        // Nodes checked once the type is known, whatever the key order.
        std::optional<YAML::Node> default_node, min_node, max_node;
        std::string min_path, max_path, default_path;

        const auto bound = [&](std::optional<double>& target, std::optional<YAML::Node>& node, std::string& path) {
            return [&](const MapEntry& e) {
                target = real_of(e.value);
                if (!target) sink_.error(e.where(), e.path, "must be a number");
                node = e.where();
                path = e.path;
            };
        };
        const auto flag = [&](bool& target) {
            return [&](const MapEntry& e) {
                if (const auto b = bool_of(e.value)) target = *b;
                else sink_.error(e.where(), e.path, "must be true or false");
            };
        };
        if (!entry.value.IsMap()) {
            sink_.error(entry.where(), entry.path, "must be a map such as {type: int, default: 10}");
            return;
        }
        walk_map(entry.value, entry.path,
                 {
                     {"type",
                      [&](const MapEntry& e) {
                          const std::string text = e.value.IsScalar() ? e.value.Scalar() : "";
                          for (const auto& t : kTypes) {
                              if (t.name == text) {
                                  spec.type = t.type;
                                  type_ok = true;
                              }
                          }
                          if (type_ok) return;
                          std::string message = "must be one of string, int, real, bool, list, map";
                          std::vector<std::string_view> names;
                          for (const auto& t : kTypes) names.push_back(t.name);
                          if (const auto hint = did_you_mean(text, names); !hint.empty() && !text.empty())
                              message += "; " + hint;
                          sink_.error(e.where(), e.path, message);
                      },
                      true},
                     {"default",
                      [&](const MapEntry& e) {
                          default_node = e.value;
                          default_path = e.path;
                      }},
                     {"required", flag(spec.required)},
                     {"secret", flag(spec.secret)},
                     {"min", bound(spec.min, min_node, min_path)},
                     {"max", bound(spec.max, max_node, max_path)},
                 },
                 sink_);
        if (!type_ok) return;  // nothing more can be checked meaningfully

        const bool numeric = spec.type == SettingType::Int || spec.type == SettingType::Real;
        if (!numeric && min_node)
            sink_.error(*min_node, min_path, "applies only to int and real settings");
        if (!numeric && max_node)
            sink_.error(*max_node, max_path, "applies only to int and real settings");
        if (!numeric) spec.min = spec.max = std::nullopt;
        if (spec.min && spec.max && *spec.min > *spec.max)
            sink_.error(*max_node, max_path, "must not be less than min (" + number_text(*spec.min) + ")");

        if (default_node) {
            if (spec.required) {
                // A default would make `required` meaningless; say which one the author meant.
                sink_.error(*default_node, default_path, "a required setting cannot have a default");
            } else if (const auto problem = value_problem(spec, *default_node); !problem.empty()) {
                sink_.error(default_node->IsNull() ? entry.key : *default_node, default_path,
                            "default " + problem + " (type " + std::string(type_name(spec.type)) + ")");
            } else {
                spec.default_value = *default_node;
            }
        }
        manifest_.settings.push_back(std::move(spec));
    }

    void parse_routes(const MapEntry& section) {
        if (section.value.IsNull()) return;
        if (!section.value.IsSequence()) {
            sink_.error(section.where(), section.path, "must be a list of {method, path, handler}");
            return;
        }
        static const std::vector<std::string_view> methods = {"GET", "HEAD", "POST", "PUT",
                                                              "PATCH", "DELETE", "OPTIONS"};
        for (std::size_t i = 0; i < section.value.size(); ++i) {
            const YAML::Node item = section.value[i];
            const std::string path = section.path + "[" + std::to_string(i) + "]";
            if (!item.IsMap()) {
                sink_.error(item, path, "must be a map {method, path, handler}");
                continue;
            }
            RouteSpec route;
            route.line = item.Mark().line + 1;
            route.column = item.Mark().column + 1;
            bool ok = true;
            const auto fail = [&](const MapEntry& e, const std::string& message) {
                sink_.error(e.where(), e.path, message);
                ok = false;
            };
            const auto text_of = [](const MapEntry& e) { return e.value.IsScalar() ? e.value.Scalar() : ""; };
            walk_map(item, path,
                     {
                         {"method",
                          [&](const MapEntry& e) {
                              std::string method = text_of(e);
                              std::transform(method.begin(), method.end(), method.begin(),
                                             [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
                              if (std::find(methods.begin(), methods.end(), method) == methods.end())
                                  fail(e, "must be one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS");
                              else
                                  route.method = method;
                          },
                          true},
                         {"path",
                          [&](const MapEntry& e) {
                              const std::string text = text_of(e);
                              if (text.empty() || text.front() != '/')
                                  fail(e, "must start with '/'");
                              else
                                  route.path = text;
                          },
                          true},
                         {"handler",
                          [&](const MapEntry& e) {
                              const std::string text = text_of(e);
                              if (!is_c_identifier(text))
                                  fail(e, std::string(kSymbolRule));
                              else
                                  route.handler = text;
                          },
                          true},
                     },
                     sink_);
            if (ok && !route.method.empty() && !route.path.empty() && !route.handler.empty())
                manifest_.routes.push_back(std::move(route));
        }
    }

    void parse_errors(const MapEntry& section) {
        walk_error_map(section, sink_, "a handler symbol", [&](const StatusMatch& match, const MapEntry& e) {
            if (!e.value.IsScalar() || !is_c_identifier(e.value.Scalar())) {
                sink_.error(e.where(), e.path, std::string(kSymbolRule));
                return;
            }
            ErrorHandlerSpec spec;
            spec.match = match;
            spec.handler = e.value.Scalar();
            spec.line = e.key.Mark().line + 1;
            spec.column = e.key.Mark().column + 1;
            manifest_.errors.push_back(std::move(spec));
        });
    }

    void parse_hooks(const MapEntry& section) {
        const auto kind = [&](HookSpec::Kind k) { return [this, k](const MapEntry& e) { parse_hook_list(k, e); }; };
        // walk_map visits keys as written, so hooks keep their declaration order.
        walk_map(section.value, section.path,
                 {
                     {"before_request", kind(HookSpec::Kind::BeforeRequest)},
                     {"after_request", kind(HookSpec::Kind::AfterRequest)},
                     {"teardown", kind(HookSpec::Kind::Teardown)},
                 },
                 sink_);
    }

    // One {handler, scope} or a list of them.
    void parse_hook_list(HookSpec::Kind kind, const MapEntry& e) {
        if (e.value.IsMap()) {
            parse_hook(kind, e.value, e.path);
        } else if (e.value.IsSequence()) {
            for (std::size_t i = 0; i < e.value.size(); ++i)
                parse_hook(kind, e.value[i], e.path + "[" + std::to_string(i) + "]");
        } else {
            sink_.error(e.where(), e.path, "must be {handler, scope} or a list of them");
        }
    }

    void parse_hook(HookSpec::Kind kind, const YAML::Node& item, const std::string& path) {
        if (!item.IsMap()) {
            sink_.error(item, path, "must be a map {handler, scope}");
            return;
        }
        HookSpec hook;
        hook.kind = kind;
        hook.line = item.Mark().line + 1;
        hook.column = item.Mark().column + 1;
        bool ok = true;
        walk_map(item, path,
                 {
                     {"handler",
                      [&](const MapEntry& e) {
                          if (e.value.IsScalar() && is_c_identifier(e.value.Scalar())) {
                              hook.handler = e.value.Scalar();
                              return;
                          }
                          sink_.error(e.where(), e.path, std::string(kSymbolRule));
                          ok = false;
                      },
                      true},
                     {"scope",
                      [&](const MapEntry& e) {
                          const std::string text = e.value.IsScalar() ? e.value.Scalar() : "";
                          if (text == "plugin") {
                              hook.scope = HookSpec::Scope::Plugin;
                          } else if (text == "app") {
                              hook.scope = HookSpec::Scope::App;
                          } else {
                              std::string message = "must be plugin (its own routes) or app (every route)";
                              if (const auto hint = did_you_mean(text, {"plugin", "app"}); !hint.empty())
                                  message += "; " + hint;
                              sink_.error(e.where(), e.path, message);
                              ok = false;
                          }
                      }},
                 },
                 sink_);
        if (ok && !hook.handler.empty()) manifest_.hooks.push_back(std::move(hook));
    }

    void parse_static(const MapEntry& section) {
        if (!section.value.IsMap()) {
            sink_.error(section.where(), section.path, "must be a map such as {dir: public, path: /, spa: false}");
            return;
        }
        StaticSpec spec;
        spec.line = section.key.Mark().line + 1;
        spec.column = section.key.Mark().column + 1;
        bool ok = true;
        const auto fail = [&](const MapEntry& e, const std::string& message) {
            sink_.error(e.where(), e.path, message);
            ok = false;
        };
        walk_map(section.value, section.path,
                 {
                     {"dir",
                      [&](const MapEntry& e) {
                          if (!e.value.IsScalar() || e.value.Scalar().empty())
                              fail(e, "must be a non-empty directory path");
                          else
                              spec.dir = e.value.Scalar();
                      },
                      true},
                     {"path",
                      [&](const MapEntry& e) {
                          const std::string text = e.value.IsScalar() ? e.value.Scalar() : "";
                          if (text.empty() || text.front() != '/')
                              fail(e, "must start with '/'");
                          else if (text.size() > 1 && text.back() == '/')
                              fail(e, "must not end with '/' (use \"/\" for the root)");
                          else if (text.find_first_of("{}") != std::string::npos)
                              fail(e, "must not contain '{' or '}' (static files take no parameters)");
                          else
                              spec.path = text;
                      }},
                     {"spa",
                      [&](const MapEntry& e) {
                          if (const auto spa = bool_of(e.value))
                              spec.spa = *spa;
                          else
                              fail(e, "must be true or false");
                      }},
                 },
                 sink_);
        if (ok && !spec.dir.empty()) manifest_.static_files = std::move(spec);
    }

    // models: {note: {fields: {id: {type: integer, primary_key: true}, title: {type: text}}}}
    void parse_models(const MapEntry& section) {
        if (section.value.IsNull()) return;
        if (!section.value.IsMap()) {
            sink_.error(section.where(), section.path, "must be a map from model name to {fields: {...}}");
            return;
        }
        std::map<std::string, YAML::Mark> seen;
        for (const auto& kv : section.value) {
            const std::string name = kv.first.IsScalar() ? kv.first.Scalar() : "";
            const std::string path = join_key(section.path, name);
            if (const auto problem = sql_name_problem(name, "model"); !problem.empty()) {
                sink_.error(kv.first, path, problem);
                continue;
            }
            if (name.rfind("trellis_", 0) == 0) {
                sink_.error(kv.first, path, "names starting with 'trellis_' are reserved for the host's tables");
                continue;
            }
            declared_models_.insert(name);
            if (const auto [it, inserted] = seen.emplace(name, kv.first.Mark()); !inserted) {
                sink_.error(kv.first, path,
                            "model declared twice; first declared at line " + std::to_string(it->second.line + 1) +
                                ", column " + std::to_string(it->second.column + 1));
                continue;
            }
            parse_model(name, MapEntry{kv.first, kv.second, path});
        }
    }

    void parse_model(const std::string& name, const MapEntry& entry) {
        if (!entry.value.IsMap()) {
            sink_.error(entry.where(), entry.path,
                        "must be a map such as {fields: {id: {type: integer, primary_key: true}}}");
            return;
        }
        ModelSpec model;
        model.name = name;
        model.line = entry.key.Mark().line + 1;
        model.column = entry.key.Mark().column + 1;
        bool ok = true, fields_given = false;
        walk_map(entry.value, entry.path,
                 {
                     {"fields",
                      [&](const MapEntry& e) {
                          fields_given = true;
                          if (!parse_fields(model, e)) ok = false;
                      },
                      true},
                 },
                 sink_);
        if (!fields_given) return;  // reported as a missing key
        if (ok && !model.primary_key())
            sink_.error(entry.key, join_key(entry.path, "fields"),
                        "needs a primary key: mark one integer or text field with primary_key: true");
        if (ok) manifest_.models.push_back(std::move(model));
    }

    // Returns false when a problem was reported.
    bool parse_fields(ModelSpec& model, const MapEntry& section) {
        if (!section.value.IsMap() || section.value.size() == 0) {
            sink_.error(section.where(), section.path, "must be a map from field name to {type, ...}");
            return false;
        }
        bool ok = true;
        std::map<std::string, YAML::Mark> seen;
        std::string primary_key;  // name of the first field marked primary_key
        for (const auto& kv : section.value) {
            const std::string name = kv.first.IsScalar() ? kv.first.Scalar() : "";
            const std::string path = join_key(section.path, name);
            if (const auto problem = sql_name_problem(name, "field"); !problem.empty()) {
                sink_.error(kv.first, path, problem);
                ok = false;
                continue;
            }
            if (const auto [it, inserted] = seen.emplace(name, kv.first.Mark()); !inserted) {
                sink_.error(kv.first, path,
                            "field declared twice; first declared at line " + std::to_string(it->second.line + 1) +
                                ", column " + std::to_string(it->second.column + 1));
                ok = false;
                continue;
            }
            std::optional<FieldSpec> field = parse_field(name, MapEntry{kv.first, kv.second, path}, primary_key);
            if (!field) {
                ok = false;
                continue;
            }
            if (field->primary_key && primary_key.empty()) primary_key = field->name;
            model.fields.push_back(std::move(*field));
        }
        return ok;
    }

    std::optional<FieldSpec> parse_field(const std::string& name, const MapEntry& entry,
                                         const std::string& primary_key) {
        if (!entry.value.IsMap()) {
            sink_.error(entry.where(), entry.path, "must be a map such as {type: text, max: 200, required: true}");
            return std::nullopt;
        }
        FieldSpec field;
        field.name = name;
        field.line = entry.key.Mark().line + 1;
        field.column = entry.key.Mark().column + 1;
        bool ok = true, type_ok = false;
        // MapEntry refers into the walk; keep copies of the entries checked once the type is known.
        std::optional<KeptEntry> max_entry, default_entry, primary_entry;
        const auto flag = [&](bool& target) {
            return [&](const MapEntry& e) {
                if (const auto b = bool_of(e.value)) {
                    target = *b;
                } else {
                    sink_.error(e.where(), e.path, "must be true or false");
                    ok = false;
                }
            };
        };
        walk_map(entry.value, entry.path,
                 {
                     {"type",
                      [&](const MapEntry& e) {
                          const std::string text = e.value.IsScalar() ? e.value.Scalar() : "";
                          for (const auto& t : kFieldTypes) {
                              if (t.name == text) {
                                  field.type = t.type;
                                  type_ok = true;
                              }
                          }
                          if (type_ok) return;
                          std::string message = "must be one of integer, real, text, boolean, timestamp, json";
                          std::string hint;
                          for (const auto& [alias, type] : kFieldTypeAliases)
                              if (alias == text) hint = "did you mean '" + std::string(type) + "'?";
                          if (hint.empty() && !text.empty()) {
                              std::vector<std::string_view> names;
                              for (const auto& t : kFieldTypes) names.push_back(t.name);
                              hint = did_you_mean(text, names);
                          }
                          if (!hint.empty()) message += "; " + hint;
                          sink_.error(e.where(), e.path, message);
                      },
                      true},
                     {"primary_key",
                      [&](const MapEntry& e) {
                          primary_entry.emplace(e);
                          flag(field.primary_key)(e);
                      }},
                     {"unique", flag(field.unique)},
                     {"index", flag(field.index)},
                     {"required", flag(field.required)},
                     {"max",
                      [&](const MapEntry& e) {
                          max_entry.emplace(e);
                          const auto max = integer_of(e.value);
                          if (!max || *max <= 0) {
                              sink_.error(e.where(), e.path, "must be an integer greater than 0");
                              ok = false;
                          } else {
                              field.max = static_cast<std::size_t>(*max);
                          }
                      }},
                     {"default", [&](const MapEntry& e) { default_entry.emplace(e); }},
                 },
                 sink_);
        if (!type_ok) return std::nullopt;  // reported above or as a missing key

        if (field.max && field.type != FieldType::Text) {
            sink_.error(max_entry->where(), max_entry->path, "applies only to text fields");
            ok = false;
        }
        if (field.primary_key) {
            if (!primary_key.empty()) {
                sink_.error(primary_entry->where(), primary_entry->path,
                            "a model has one primary key and '" + primary_key + "' already is");
                ok = false;
            } else if (field.type != FieldType::Integer && field.type != FieldType::Text) {
                sink_.error(primary_entry->where(), primary_entry->path,
                            "a primary key must be an integer or text field, not " +
                                std::string(field_type_name(field.type)));
                ok = false;
            }
        } else if (name == "id") {
            // Resources bind the key of the addressed row as :id; another field
            // of that name would be confused with it.
            sink_.error(entry.key, entry.path,
                        "a field named 'id' must be the primary key (add primary_key: true or rename it)");
            ok = false;
        }
        if (default_entry) {
            std::string json;
            if (field.primary_key) {
                sink_.error(default_entry->where(), default_entry->path, "a primary key cannot have a default");
                ok = false;
            } else if (const auto problem = field_default_problem(field, default_entry->value, json); !problem.empty()) {
                sink_.error(default_entry->where(), default_entry->path,
                            "default " + problem + " (type " + std::string(field_type_name(field.type)) + ")");
                ok = false;
            } else {
                field.default_json = json;
            }
        }
        if (!ok) return std::nullopt;
        return field;
    }

    // migrations: [{id: 001_x, sql: "..."}, {id: 002_y, sqlite: "...", postgresql: "..."}]
    void parse_migrations(const MapEntry& section) {
        if (section.value.IsNull()) return;
        if (!section.value.IsSequence()) {
            sink_.error(section.where(), section.path, "must be a list of {id, sql} (or {id, sqlite, postgresql})");
            return;
        }
        std::map<std::string, std::string> seen;  // id -> its key path
        for (std::size_t i = 0; i < section.value.size(); ++i) {
            const YAML::Node item = section.value[i];
            const std::string path = section.path + "[" + std::to_string(i) + "]";
            if (!item.IsMap()) {
                sink_.error(item, path, "must be a map {id, sql} (or {id, sqlite, postgresql})");
                continue;
            }
            MigrationSpec migration;
            migration.line = item.Mark().line + 1;
            migration.column = item.Mark().column + 1;
            bool ok = true, any_sql = false;
            const auto sql = [&](std::string* target, std::string backend) {
                return [&, target, backend](const MapEntry& e) {
                    any_sql = true;
                    if (!e.value.IsScalar() || e.value.Scalar().find_first_not_of(" \t\r\n") == std::string::npos) {
                        sink_.error(e.where(), e.path, "must be non-empty SQL text");
                        ok = false;
                    } else if (target) {
                        *target = e.value.Scalar();
                    } else {
                        migration.by_backend[backend] = e.value.Scalar();
                    }
                };
            };
            walk_map(item, path,
                     {
                         {"id",
                          [&](const MapEntry& e) {
                              const std::string text = e.value.IsScalar() ? e.value.Scalar() : "";
                              const bool valid = !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
                                  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' ||
                                         c == '-';
                              });
                              if (!valid) {
                                  sink_.error(e.where(), e.path,
                                              "must be made of letters, digits, '_', '.' and '-', e.g. 002_add_tag");
                                  ok = false;
                              } else if (const auto [it, inserted] = seen.emplace(text, path); !inserted) {
                                  sink_.error(e.where(), e.path,
                                              "migration '" + text + "' is already declared at " + it->second);
                                  ok = false;
                              } else {
                                  migration.id = text;
                              }
                          },
                          true},
                         {"sql", sql(&migration.sql, "")},
                         {"sqlite", sql(nullptr, "sqlite")},
                         {"postgresql", sql(nullptr, "postgresql")},
                     },
                     sink_);
            if (!any_sql) {
                sink_.error(item, path, "needs sql (every backend) or sqlite and/or postgresql");
                ok = false;
            }
            if (ok && !migration.id.empty()) manifest_.migrations.push_back(std::move(migration));
        }
    }

    // resources: [{model: note, path: /}]
    void parse_resources(const MapEntry& section) {
        if (section.value.IsNull()) return;
        if (!section.value.IsSequence()) {
            sink_.error(section.where(), section.path, "must be a list of {model, path}");
            return;
        }
        std::map<std::string, std::string> paths;  // path -> key path of the resource using it
        for (std::size_t i = 0; i < section.value.size(); ++i) {
            const YAML::Node item = section.value[i];
            const std::string path = section.path + "[" + std::to_string(i) + "]";
            if (!item.IsMap()) {
                sink_.error(item, path, "must be a map {model, path}");
                continue;
            }
            ResourceSpec resource;
            resource.line = item.Mark().line + 1;
            resource.column = item.Mark().column + 1;
            bool ok = true;
            std::optional<KeptEntry> model_entry, path_entry;
            walk_map(item, path,
                     {
                         {"model",
                          [&](const MapEntry& e) {
                              if (!e.value.IsScalar() || !is_sql_name(e.value.Scalar())) {
                                  sink_.error(e.where(), e.path, "must be the name of a model of this manifest");
                                  ok = false;
                                  return;
                              }
                              resource.model = e.value.Scalar();
                              model_entry.emplace(e);
                          },
                          true},
                         {"path",
                          [&](const MapEntry& e) {
                              const std::string text = e.value.IsScalar() ? e.value.Scalar() : "";
                              std::string problem;
                              if (text.empty() || text.front() != '/')
                                  problem = "must start with '/'";
                              else if (text.size() > 1 && text.back() == '/')
                                  problem = "must not end with '/' (use \"/\" for the root)";
                              else if (text.find("//") != std::string::npos)
                                  problem = "must not contain '//'";
                              else if (text.find_first_of("{}") != std::string::npos)
                                  problem = "must not contain '{' or '}' (the resource adds /{id} itself)";
                              if (!problem.empty()) {
                                  sink_.error(e.where(), e.path, problem);
                                  ok = false;
                              } else {
                                  resource.path = text;
                                  path_entry.emplace(e);
                              }
                          }},
                     },
                     sink_);
            if (ok) {
                // Two resources at one path would answer the same requests.
                if (const auto [it, inserted] = paths.emplace(resource.path, path); !inserted) {
                    sink_.error(path_entry ? path_entry->value : item, path_entry ? path_entry->path : path,
                                "'" + resource.path + "' is already the path of " + it->second);
                    ok = false;
                }
            }
            if (ok && !resource.model.empty()) {
                manifest_.resources.push_back(std::move(resource));
                resource_models_.push_back(std::move(*model_entry));
            }
        }
    }

    void check_resource_models() {
        std::vector<std::string_view> names;
        for (const auto& model : manifest_.models) names.push_back(model.name);
        std::vector<ResourceSpec> kept;
        for (std::size_t i = 0; i < manifest_.resources.size(); ++i) {
            const std::string& name = manifest_.resources[i].model;
            if (std::find(names.begin(), names.end(), name) != names.end()) {
                kept.push_back(std::move(manifest_.resources[i]));
                continue;
            }
            // A model that was declared but refused has its own diagnostic already.
            if (declared_models_.count(name)) continue;
            std::string message = "'" + name + "' is not a model of this manifest";
            if (const auto hint = did_you_mean(name, names); !hint.empty()) message += "; " + hint;
            sink_.error(resource_models_[i].value, resource_models_[i].path, message);
        }
        manifest_.resources = std::move(kept);
    }

    DiagnosticSink sink_;
    Manifest manifest_;
    std::vector<KeptEntry> resource_models_;  // per resource: its `model` entry
    std::set<std::string> declared_models_;                              // every model name, even refused ones
};

}  // namespace

void walk_error_map(const MapEntry& section, DiagnosticSink& sink, std::string_view expected_value,
                    const std::function<void(const StatusMatch&, const MapEntry&)>& parse) {
    if (section.value.IsNull()) return;
    if (!section.value.IsMap()) {
        sink.error(section.where(), section.path,
                   "must be a map from status (404, 4xx) or error kind (not_found) to " + std::string(expected_value));
        return;
    }
    struct Seen {
        StatusMatch match;
        std::string key;
        YAML::Mark mark;
    };
    std::vector<Seen> seen;
    for (const auto& kv : section.value) {
        const YAML::Node& key = kv.first;
        if (!key.IsScalar()) {
            sink.error(key, section.path, "keys must be plain names");
            continue;
        }
        const std::string& name = key.Scalar();
        const std::string path = join_key(section.path, name);

        // A quoted "404" is accepted too: a key is a name, it cannot mean anything else.
        std::optional<StatusMatch> match;
        if (const auto status = parse_integer(name)) {
            if (*status < 400 || *status > 599) {
                sink.error(key, path, "must be a status from 400 to 599");
                continue;
            }
            match = StatusMatch{static_cast<int>(*status), 0};
        } else if (name == "4xx" || name == "5xx") {
            match = StatusMatch{0, name[0] - '0'};
        } else {
            for (const auto& kind : kErrorKinds)
                if (kind.name == name) match = StatusMatch{kind.status, 0};
        }
        if (!match) {
            std::string message =
                "must be a status from 400 to 599, 4xx, 5xx or one of validation, not_found, "
                "method_not_allowed, internal";
            std::vector<std::string_view> kinds;
            for (const auto& kind : kErrorKinds) kinds.push_back(kind.name);
            if (const auto hint = did_you_mean(name, kinds); !hint.empty()) message += "; " + hint;
            sink.error(key, path, message);
            continue;
        }

        const auto first = std::find_if(seen.begin(), seen.end(), [&](const Seen& s) {
            return s.match.status == match->status && s.match.status_class == match->status_class;
        });
        if (first != seen.end()) {
            const std::string where =
                "line " + std::to_string(first->mark.line + 1) + ", column " + std::to_string(first->mark.column + 1);
            sink.error(key, path,
                       first->key == name ? "duplicate key; first set at " + where
                                          : "means the same status as '" + first->key + "', first set at " + where);
            continue;
        }
        seen.push_back(Seen{*match, name, key.Mark()});
        parse(*match, MapEntry{key, kv.second, path});
    }
}

const FieldSpec* ModelSpec::primary_key() const noexcept {
    for (const auto& f : fields)
        if (f.primary_key) return &f;
    return nullptr;
}

const FieldSpec* ModelSpec::field(std::string_view name) const noexcept {
    for (const auto& f : fields)
        if (f.name == name) return &f;
    return nullptr;
}

const std::string* MigrationSpec::sql_for(std::string_view backend) const noexcept {
    if (const auto it = by_backend.find(std::string(backend)); it != by_backend.end()) return &it->second;
    return sql.empty() ? nullptr : &sql;
}

Manifest parse_manifest(std::string_view yaml_text, const std::string& source) {
    return ManifestParser(source).parse(parse_yaml(yaml_text, source));
}

std::map<std::string, std::string> resolve_settings(const Manifest& manifest,
                                                    const YAML::Node& operator_settings,
                                                    const std::string& plugin_name,
                                                    DiagnosticSink& sink) {
    const std::string base = "plugins." + plugin_name + ".settings";
    const bool present = operator_settings.IsDefined() && !operator_settings.IsNull();
    std::map<std::string, std::string> resolved;
    std::set<std::string> given;

    if (present && !operator_settings.IsMap()) {
        sink.error(operator_settings, base, "must be a map of setting names to values");
        return resolved;
    }
    if (present) {
        std::vector<std::string_view> known;
        for (const auto& spec : manifest.settings) known.push_back(spec.name);
        for (const auto& kv : operator_settings) {
            const std::string name = kv.first.IsScalar() ? kv.first.Scalar() : "";
            const std::string path = base + "." + name;
            const auto spec = std::find_if(manifest.settings.begin(), manifest.settings.end(),
                                           [&](const SettingSpec& s) { return s.name == name; });
            if (spec == manifest.settings.end()) {
                std::string message = "unknown setting of plugin '" + plugin_name + "'";
                if (const auto hint = did_you_mean(name, known); !hint.empty()) message += "; " + hint;
                sink.error(kv.first, path, message);
                continue;
            }
            if (!given.insert(name).second) {
                sink.error(kv.first, path, "setting given twice");
                continue;
            }
            const YAML::Node& value = kv.second;
            if (const auto problem = value_problem(*spec, value); !problem.empty()) {
                sink.error(value.IsNull() ? kv.first : value, path, problem);
                continue;
            }
            resolved[name] = setting_text(*spec, value);
        }
    }

    for (const auto& spec : manifest.settings) {
        if (given.count(spec.name)) continue;
        if (spec.default_value) {
            resolved[spec.name] = setting_text(spec, *spec.default_value);
        } else if (spec.required) {
            // Without settings in the operator's file there is no position to point at
            // (a null node's mark points at whatever follows it).
            const std::string path = base + "." + spec.name;
            const std::string message = "required by plugin '" + plugin_name + "' but not set";
            if (present)
                sink.error(operator_settings, path, message);
            else
                sink.error_at(0, 0, path, message);
        }
    }
    return resolved;
}

}  // namespace trellis::config
