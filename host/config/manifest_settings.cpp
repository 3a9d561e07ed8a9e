// A plugin's manifest, the settings schema (`settings:`) and the operator's
// values checked against it (resolve_settings).
#include "config/manifest.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/manifest_parser.hpp"

namespace trellis::config {

namespace detail {

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

}  // namespace detail

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
        number = detail::real_of(value);
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

}  // namespace

namespace detail {

void ManifestParser::parse_settings(const MapEntry& section) {
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

void ManifestParser::parse_setting(const std::string& name, const MapEntry& entry) {
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

}  // namespace detail

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
