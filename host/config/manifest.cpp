// A plugin's manifest, identity and entry points: the key table, plugin,
// version, abi, description and parse_manifest; other sections: manifest_*.cpp.
#include "config/manifest.hpp"

#include <algorithm>
#include <charconv>
#include <string>
#include <string_view>
#include <utility>

#include "config/manifest_parser.hpp"

namespace trellis::config {

namespace detail {

ManifestParser::ManifestParser(const std::string& source, const std::string& origin) : sink_(source, origin) {}

Manifest ManifestParser::parse(const YAML::Node& root) {
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
    check_model_tables();     // the default table needs `plugin:`, which may come last
    check_abi_covers_keys();  // `abi` may come after the keys it must cover
    sink_.throw_if_any();
    return std::move(manifest_);
}

// `abi:` is the lowest host ABI the plugin runs on, so it must cover
// every key the manifest uses.
void ManifestParser::since_1_1(const MapEntry& e) { needs_1_1_.push_back({e.key, e.path}); }
void ManifestParser::check_abi_covers_keys() {
    if (manifest_.abi_major != 1 || manifest_.abi_minor >= 1) return;
    for (const auto& [key, path] : needs_1_1_)
        sink_.error(key, path,
                    "needs ABI 1.1, but `abi:` says " + std::to_string(manifest_.abi_major) + "." +
                        std::to_string(manifest_.abi_minor) +
                        " (the lowest host ABI this plugin runs on); declare abi: 1.1");
}

void ManifestParser::parse_plugin(const MapEntry& e) {
    if (!e.value.IsScalar() || !is_plugin_name(e.value.Scalar()))
        sink_.error(e.where(), e.path, "must be a name made of letters, digits, '_' and '-'");
    else
        manifest_.plugin = e.value.Scalar();
}

void ManifestParser::parse_version(const MapEntry& e) {
    // The source text: `version: 1.10` is "1.10", not the float 1.1.
    if (!e.value.IsScalar() || e.value.Scalar().empty())
        sink_.error(e.where(), e.path, "must be a version string such as 1.2.0");
    else
        manifest_.version = e.value.as<std::string>();
}

void ManifestParser::parse_abi(const MapEntry& e) {
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

void ManifestParser::parse_description(const MapEntry& e) {
    if (!e.value.IsScalar())
        sink_.error(e.where(), e.path, "must be a string");
    else
        manifest_.description = e.value.Scalar();
}

}  // namespace detail

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

Manifest parse_manifest(std::string_view yaml_text, const std::string& source, const std::string& origin) {
    return detail::ManifestParser(source, origin).parse(parse_yaml(yaml_text, source, origin));
}

}  // namespace trellis::config
