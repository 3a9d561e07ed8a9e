// A plugin's manifest: the YAML the plugin embeds, declaring what it provides.
#pragma once

#include <cstdint>
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

struct Manifest {
    std::string plugin;
    std::string version;
    std::uint32_t abi_major = 0, abi_minor = 0;
    std::string description;
    std::vector<SettingSpec> settings;
    std::vector<RouteSpec> routes;
};

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
