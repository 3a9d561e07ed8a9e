#include "config/environment.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace trellis::config {

namespace {

using Lookup = std::function<std::optional<std::string>(const std::string&)>;

bool is_name_start(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }

std::optional<std::string> read_secret_file(const std::string& path, std::string& problem) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        problem = "cannot read " + path + " (from ${file:...}): " + (path.empty() ? "empty path" : "no such file or not readable");
        return std::nullopt;
    }
    std::ostringstream text;
    text << in.rdbuf();
    std::string value = text.str();
    while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
    return value;
}

// The text of one reference, between "${" and its matching "}".
std::optional<std::string> resolve(std::string_view inner, const Lookup& lookup, std::string& problem) {
    if (inner.substr(0, 5) == "file:") {
        const auto path = substitute_text(inner.substr(5), lookup, problem);
        if (!path) return std::nullopt;
        return read_secret_file(*path, problem);
    }
    std::size_t end = 0;
    while (end < inner.size() && is_name_char(inner[end])) ++end;
    const std::string name(inner.substr(0, end));
    if (name.empty() || !is_name_start(name.front()) ||
        (end < inner.size() && inner.substr(end, 2) != ":-")) {
        problem = "malformed reference '${" + std::string(inner) +
                  "}': write ${NAME}, ${NAME:-default} or ${file:PATH} (NAME: letters, digits, '_'; $$ for a '$')";
        return std::nullopt;
    }
    const auto value = lookup(name);
    if (end == inner.size()) {
        if (!value) {
            problem = "environment variable " + name + " is not set (write ${" + name + ":-default} for a default)";
            return std::nullopt;
        }
        return value;
    }
    if (value && !value->empty()) return value;
    return substitute_text(inner.substr(end + 2), lookup, problem);
}

void walk(YAML::Node node, const std::string& path, DiagnosticSink& sink, const Lookup& lookup) {
    if (node.IsScalar()) {
        const std::string& text = node.Scalar();
        if (text.find('$') == std::string::npos) return;
        std::string problem;
        if (auto value = substitute_text(text, lookup, problem))
            node = *value;  // yaml-cpp keeps the node's mark and tag
        else
            sink.error_once(node, path, problem);
        return;
    }
    if (node.IsSequence()) {
        for (std::size_t i = 0; i < node.size(); ++i) walk(node[i], path + "[" + std::to_string(i) + "]", sink, lookup);
        return;
    }
    if (node.IsMap())
        for (auto it = node.begin(); it != node.end(); ++it)
            walk(it->second, join_key(path, it->first.IsScalar() ? it->first.Scalar() : "?"), sink, lookup);
}

}  // namespace

std::optional<std::string> substitute_text(std::string_view text, const Lookup& lookup, std::string& problem) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c != '$' || i + 1 == text.size()) {
            out.push_back(c);
            continue;
        }
        if (text[i + 1] == '$') {
            out.push_back('$');
            ++i;
            continue;
        }
        if (text[i + 1] != '{') {
            out.push_back(c);
            continue;
        }
        // The matching '}': references may nest in defaults and paths.
        std::size_t depth = 1, j = i + 2;
        for (; j < text.size() && depth; ++j) {
            if (text[j] == '{') ++depth;
            if (text[j] == '}') --depth;
        }
        if (depth) {
            problem = "unterminated reference '" + std::string(text.substr(i)) + "': missing '}'";
            return std::nullopt;
        }
        const auto value = resolve(text.substr(i + 2, j - 1 - (i + 2)), lookup, problem);
        if (!value) return std::nullopt;
        out += *value;
        i = j - 1;
    }
    return out;
}

void substitute_environment(YAML::Node& root, DiagnosticSink& sink) {
    walk(root, "", sink, [](const std::string& name) -> std::optional<std::string> {
        const char* value = std::getenv(name.c_str());
        if (!value) return std::nullopt;
        return std::string(value);
    });
}

}  // namespace trellis::config
