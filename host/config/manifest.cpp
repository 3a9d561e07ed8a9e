#include "config/manifest.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <set>

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

class ManifestParser {
public:
    explicit ManifestParser(const std::string& source) : sink_(source) {}

    Manifest parse(const YAML::Node& root) {
        if (!root.IsNull() && !root.IsMap()) {
            sink_.error(root, "", "a manifest must be a map (plugin, version, abi, ...)");
            sink_.throw_if_any();
        }
        // One line per key: later issues add models, migrations and resources here.
        walk_map(root, "",
                 {
                     {"plugin", [&](const MapEntry& e) { parse_plugin(e); }, true},
                     {"version", [&](const MapEntry& e) { parse_version(e); }, true},
                     {"abi", [&](const MapEntry& e) { parse_abi(e); }, true},
                     {"description", [&](const MapEntry& e) { parse_description(e); }},
                     {"settings", [&](const MapEntry& e) { parse_settings(e); }},
                     {"routes", [&](const MapEntry& e) { parse_routes(e); }},
                     {"errors", [&](const MapEntry& e) { parse_errors(e); }},
                     {"hooks", [&](const MapEntry& e) { parse_hooks(e); }},
                     {"static", [&](const MapEntry& e) { parse_static(e); }},
                 },
                 sink_);
        sink_.throw_if_any();
        return std::move(manifest_);
    }

private:
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

    DiagnosticSink sink_;
    Manifest manifest_;
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
