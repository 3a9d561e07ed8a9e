// Internal to host/config: the manifest parser behind parse_manifest, whose
// methods are defined by section in manifest.cpp (identity, the key table),
// manifest_settings.cpp, manifest_http.cpp and manifest_data.cpp.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "config/diagnostics.hpp"
#include "config/manifest.hpp"

namespace trellis::config::detail {

// A number as YAML writes it: "12", "-0.5", "1e3"; not "inf", "0x10" or a quoted "12".
std::optional<double> real_of(const YAML::Node& node);

// A MapEntry that outlives the walk (MapEntry refers to the walk's nodes).
struct KeptEntry {
    explicit KeptEntry(const MapEntry& e) : key(e.key), value(e.value), path(e.path) {}
    YAML::Node key, value;
    std::string path;
    const YAML::Node& where() const { return value.IsNull() ? key : value; }
};

class ManifestParser {
public:
    ManifestParser(const std::string& source, const std::string& origin);

    Manifest parse(const YAML::Node& root);

private:
    // manifest.cpp: identity.
    void since_1_1(const MapEntry& e);
    void check_abi_covers_keys();
    std::vector<std::pair<YAML::Node, std::string>> needs_1_1_;  // key, path (MapEntry only borrows them)

    void parse_plugin(const MapEntry& e);
    void parse_version(const MapEntry& e);
    void parse_abi(const MapEntry& e);
    void parse_description(const MapEntry& e);

    // manifest_settings.cpp: the settings schema.
    void parse_settings(const MapEntry& section);
    void parse_setting(const std::string& name, const MapEntry& entry);

    // manifest_http.cpp: the HTTP surface.
    void parse_routes(const MapEntry& section);
    void route_text(const MapEntry& e, std::string& out, bool one_line);
    void route_schema(const MapEntry& e, std::string& out);
    void parse_errors(const MapEntry& section);
    void parse_hooks(const MapEntry& section);
    void parse_hook_list(HookSpec::Kind kind, const MapEntry& e);
    void parse_hook(HookSpec::Kind kind, const YAML::Node& item, const std::string& path);
    void parse_static(const MapEntry& section);

    // manifest_data.cpp: the data model.
    void parse_models(const MapEntry& section);
    void parse_model(const std::string& name, const MapEntry& entry);
    bool parse_fields(ModelSpec& model, const MapEntry& section);
    std::optional<FieldSpec> parse_field(const std::string& name, const MapEntry& entry,
                                         const std::string& primary_key);
    void parse_migrations(const MapEntry& section);
    void parse_resources(const MapEntry& section);
    bool parse_resource_limit(ResourceSpec& resource, const MapEntry& entry);
    bool parse_resource_methods(ResourceSpec& resource, const MapEntry& entry);
    void check_resource_models();
    void check_model_tables();

    DiagnosticSink sink_;
    Manifest manifest_;
    std::vector<KeptEntry> resource_models_;  // per resource: its `model` entry
    std::set<std::string> declared_models_;                              // every model name, even refused ones
    std::map<std::string, KeptEntry> table_entries_;                     // model -> its `table` entry, when given
};

}  // namespace trellis::config::detail
