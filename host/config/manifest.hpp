// A plugin's manifest: the YAML the plugin embeds, declaring what it provides.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "config/diagnostics.hpp"

namespace trellis::config {

enum class SettingType { String, Int, Real, Bool, List, Map };

struct SettingSpec {
    std::string name;
    SettingType type = SettingType::String;
    bool required = false;
    bool secret = false;               // never logged
    std::optional<YAML::Node> default_value;
    std::optional<double> min, max;    // Int/Real bounds
};

struct RouteSpec {
    std::string method;   // upper case
    std::string path;     // template relative to the mount, starts with '/'
    std::string handler;  // exported symbol name
    int line = 0, column = 0;
};

// Which failed statuses an error handler (plugin or operator) answers: one
// exact status, or a whole class (4xx / 5xx).
struct StatusMatch {
    int status = 0;        // 400..599, or 0 when `status_class` is used
    int status_class = 0;  // 4 or 5 for "4xx"/"5xx", else 0
    bool matches(int s) const noexcept { return status ? s == status : s / 100 == status_class; }
};

// Manifest `errors`: keys are a status (404), a class ("4xx", "5xx") or a
// kind: validation (422), not_found (404), method_not_allowed (405),
// internal (500). Values are handler symbols.
struct ErrorHandlerSpec {
    StatusMatch match;
    std::string handler;
    int line = 0, column = 0;
};

// Manifest `hooks`: before_request / after_request / teardown, each one
// {handler, scope} or a list of them. scope: plugin (default) or app.
struct HookSpec {
    enum class Kind { BeforeRequest, AfterRequest, Teardown };
    enum class Scope { Plugin, App };
    Kind kind = Kind::BeforeRequest;
    Scope scope = Scope::Plugin;
    std::string handler;
    int line = 0, column = 0;
};

// Manifest `static`: a directory the plugin ships, served under its mount.
// `dir` is relative to "<folder of the .so>/<plugin name>/" (absolute allowed).
struct StaticSpec {
    std::string dir;
    std::string path = "/";  // where under the mount the files appear
    bool spa = false;        // unknown GET paths under `path` serve index.html
    int line = 0, column = 0;
};

struct Manifest {
    std::string plugin;
    std::string version;
    std::uint32_t abi_major = 0, abi_minor = 0;
    std::string description;
    std::vector<SettingSpec> settings;
    std::vector<RouteSpec> routes;
    std::vector<ErrorHandlerSpec> errors;
    std::vector<HookSpec> hooks;  // in declaration order
    std::optional<StaticSpec> static_files;
};

// Walks an `errors` map, the plugin's or the operator's (null counts as empty):
// reads every key as a status (400..599), a class (4xx, 5xx) or a kind
// (validation, not_found, method_not_allowed, internal), reports malformed
// keys and keys that mean the same statuses as an earlier one, and calls
// `parse` for every other entry. `section` is the entry of the map itself;
// `expected_value` ends the message for a non-map section ("a handler symbol").
void walk_error_map(const MapEntry& section, DiagnosticSink& sink, std::string_view expected_value,
                    const std::function<void(const StatusMatch&, const MapEntry&)>& parse);

// Parses and validates a manifest. `source` names it in diagnostics, e.g.
// "/usr/lib/trellis/plugins/libnotes.so (embedded manifest)". Throws ConfigError.
Manifest parse_manifest(std::string_view yaml_text, const std::string& source);

// Validates the operator's settings for one plugin against the manifest's
// schema and applies defaults. Scalars are returned as text ("120", "true"),
// lists and maps as JSON. Problems are reported into `sink` with positions
// inside the operator's file and key paths "plugins.<name>.settings.<key>".
std::map<std::string, std::string> resolve_settings(const Manifest& manifest,
                                                    const YAML::Node& operator_settings,
                                                    const std::string& plugin_name,
                                                    DiagnosticSink& sink);

}  // namespace trellis::config
