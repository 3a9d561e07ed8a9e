// Errors in operator configuration and plugin manifests. Each diagnostic names
// file:line:column and the key path, so an operator never has to guess:
//   trellis.yaml:12:5: plugins.notes.mount: must start with '/'
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

namespace trellis::config {

struct Diagnostic {
    std::string file;     // as given to the loader (path or "libx.so:manifest")
    int line = 0;         // 1-based; 0 when unknown
    int column = 0;       // 1-based; 0 when unknown
    std::string key_path; // dotted path, e.g. "plugins.notes.mount"; empty for the document
    std::string message;
    std::string origin{}; // where `file` was found, e.g. "embedded in libnotes.so"; may be empty

    // "file:line:col: key.path: message", or "file:line:col (origin): key.path: message"
    std::string str() const;
};

// Thrown when a document has one or more diagnostics; what() joins them, one per line.
class ConfigError : public std::runtime_error {
public:
    explicit ConfigError(std::vector<Diagnostic> diagnostics);
    const std::vector<Diagnostic>& diagnostics() const noexcept { return diagnostics_; }

private:
    std::vector<Diagnostic> diagnostics_;
};

// Collects diagnostics while a document is validated, so an operator sees
// every mistake at once rather than one per run.
class DiagnosticSink {
public:
    explicit DiagnosticSink(std::string file, std::string origin = {})
        : file_(std::move(file)), origin_(std::move(origin)) {}

    const std::string& file() const noexcept { return file_; }
    // Records a problem located at `node` (yaml-cpp Mark gives 0-based line/column).
    void error(const YAML::Node& node, std::string key_path, std::string message);
    void error_at(int line, int column, std::string key_path, std::string message);
    // Records a problem with `node` and drops any later one at its position:
    // the value is known to be wrong, what is read from it says nothing new.
    void error_once(const YAML::Node& node, std::string key_path, std::string message);
    bool empty() const noexcept { return diagnostics_.empty(); }
    const std::vector<Diagnostic>& diagnostics() const noexcept { return diagnostics_; }
    // Throws ConfigError when anything was recorded.
    void throw_if_any() const;

private:
    std::string file_;
    std::string origin_;
    std::vector<Diagnostic> diagnostics_;
    std::set<std::pair<int, int>> settled_;  // line, column of error_once() values
};

// "did you mean 'mount'?" for an unknown key; empty when nothing is close.
std::string did_you_mean(std::string_view unknown, const std::vector<std::string_view>& known);

// One key of a map schema and what to do with its value. Schemas are tables of
// these, so supporting a new key is one line.
struct MapEntry {
    const YAML::Node& key;
    const YAML::Node& value;
    const std::string& path; // key path of this entry, e.g. "server.port"

    // Where to report a problem with the value. A null value's mark points at
    // the next token, so the key's position is used instead.
    const YAML::Node& where() const { return value.IsNull() ? key : value; }
};
struct KeyRule {
    std::string_view key;
    std::function<void(const MapEntry&)> parse;
    bool required = false;
};

// Walks the map `node` (null counts as empty): runs the rule of every known
// key and reports non-map nodes, unknown keys (with did-you-mean), duplicate
// keys and missing required keys.
void walk_map(const YAML::Node& node, const std::string& path, const std::vector<KeyRule>& rules,
              DiagnosticSink& sink);

// "a.b" + "c" -> "a.b.c"; "" + "c" -> "c".
std::string join_key(const std::string& path, std::string_view key);

// Scalars are read the same way in every document. Only unquoted, untagged
// scalars are numbers or booleans: `port: "8080"` is a string.
std::optional<std::int64_t> parse_integer(std::string_view text); // "-12", "+5", "8080"
std::optional<std::int64_t> integer_of(const YAML::Node& node);
std::optional<bool> bool_of(const YAML::Node& node);              // true/false (True, TRUE)
bool is_plugin_name(std::string_view name);                        // [A-Za-z0-9_-]+
bool is_c_identifier(std::string_view name);                       // [A-Za-z_][A-Za-z0-9_]*

// Values of model fields, checked the same way in a manifest's defaults and
// in request bodies.
// ISO-8601 date and time with a zone: YYYY-MM-DDTHH:MM:SS[.f{1,9}](Z|+HH:MM|-HH:MM),
// with real calendar dates (2023-02-29 is refused).
bool is_timestamp(std::string_view text);
// Length in characters (code points) of UTF-8 text.
std::size_t utf8_length(std::string_view text);

// YAML to JSON text, for list and map settings and operator error bodies:
// integers and booleans keep their type, null stays null, every other scalar
// stays text exactly as it was written ("1.5" is not a float).
std::string json_text(const YAML::Node& node);

// Parses YAML text, turning yaml-cpp's parse exception into a ConfigError
// with the file name and 1-based position.
YAML::Node parse_yaml(std::string_view text, const std::string& file, const std::string& origin = {});
YAML::Node load_yaml_file(const std::string& path);

}  // namespace trellis::config
