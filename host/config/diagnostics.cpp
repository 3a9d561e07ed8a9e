#include "config/diagnostics.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <limits>
#include <map>
#include <memory>

#include <nlohmann/json.hpp>

namespace trellis::config {

namespace {

std::string join_lines(const std::vector<Diagnostic>& diagnostics) {
    std::string text;
    for (const auto& d : diagnostics) {
        if (!text.empty()) text += '\n';
        text += d.str();
    }
    return text;
}

// Optimal string alignment distance: Levenshtein plus adjacent transpositions,
// because "prot" for "port" is the typo operators actually make.
std::size_t edit_distance(std::string_view a, std::string_view b) {
    const std::size_t n = a.size(), m = b.size();
    std::vector<std::vector<std::size_t>> d(n + 1, std::vector<std::size_t>(m + 1));
    for (std::size_t i = 0; i <= n; ++i) d[i][0] = i;
    for (std::size_t j = 0; j <= m; ++j) d[0][j] = j;
    for (std::size_t i = 1; i <= n; ++i) {
        for (std::size_t j = 1; j <= m; ++j) {
            const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
        }
    }
    return d[n][m];
}

nlohmann::json to_json(const YAML::Node& node) {
    if (node.IsSequence()) {
        auto array = nlohmann::json::array();
        for (const auto& item : node) array.push_back(to_json(item));
        return array;
    }
    if (node.IsMap()) {
        auto object = nlohmann::json::object();
        for (const auto& kv : node) object[kv.first.as<std::string>()] = to_json(kv.second);
        return object;
    }
    if (!node.IsScalar()) return nullptr;
    if (const auto i = integer_of(node)) return *i;
    if (const auto b = bool_of(node)) return *b;
    return node.Scalar();
}

}  // namespace

std::string Diagnostic::str() const {
    std::string text = file;
    if (line > 0) {
        text += ':' + std::to_string(line);
        if (column > 0) text += ':' + std::to_string(column);
    }
    if (!origin.empty()) text += " (" + origin + ")";
    if (!key_path.empty()) text += ": " + key_path;
    text += ": " + message;
    return text;
}

ConfigError::ConfigError(std::vector<Diagnostic> diagnostics)
    : std::runtime_error(join_lines(diagnostics)), diagnostics_(std::move(diagnostics)) {}

void DiagnosticSink::error_once(const YAML::Node& node, std::string key_path, std::string message) {
    error(node, std::move(key_path), std::move(message));
    const auto& last = diagnostics_.back();
    if (last.line > 0) settled_.insert({last.line, last.column});
}

void DiagnosticSink::error(const YAML::Node& node, std::string key_path, std::string message) {
    // Nodes built in code (not parsed) and zombie nodes have no position.
    int line = 0, column = 0;
    if (node.IsDefined()) {
        const YAML::Mark mark = node.Mark();
        if (mark.line >= 0 && mark.column >= 0) {
            line = mark.line + 1;
            column = mark.column + 1;
        }
    }
    error_at(line, column, std::move(key_path), std::move(message));
}

void DiagnosticSink::error_at(int line, int column, std::string key_path, std::string message) {
    // A value already reported (an unset variable in it) is not reported
    // again by the checks that read it later.
    if (line > 0 && settled_.count({line, column})) return;
    diagnostics_.push_back(Diagnostic{file_, line, column, std::move(key_path), std::move(message), origin_});
}

void DiagnosticSink::throw_if_any() const {
    if (!diagnostics_.empty()) throw ConfigError(diagnostics_);
}

std::string did_you_mean(std::string_view unknown, const std::vector<std::string_view>& known) {
    const std::size_t limit = std::max<std::size_t>(1, unknown.size() / 3);
    std::string_view best;
    std::size_t best_distance = limit + 1;
    for (const auto candidate : known) {
        const std::size_t distance = edit_distance(unknown, candidate);
        if (distance < best_distance) {  // strict: the first of equals wins
            best = candidate;
            best_distance = distance;
        }
    }
    if (best_distance > limit) return {};
    return "did you mean '" + std::string(best) + "'?";
}

std::string join_key(const std::string& path, std::string_view key) {
    if (path.empty()) return std::string(key);
    return path + "." + std::string(key);
}

void walk_map(const YAML::Node& node, const std::string& path, const std::vector<KeyRule>& rules,
              DiagnosticSink& sink) {
    if (!node.IsDefined() || node.IsNull()) {
        // An empty section still has to provide its required keys.
        for (const auto& rule : rules)
            if (rule.required)
                sink.error(node, join_key(path, rule.key), "required key is missing");
        return;
    }
    if (!node.IsMap()) {
        sink.error(node, path, "must be a map");
        return;
    }

    std::map<std::string, YAML::Mark, std::less<>> seen;
    for (const auto& kv : node) {
        const YAML::Node& key = kv.first;
        const YAML::Node& value = kv.second;
        if (!key.IsScalar()) {
            sink.error(key, path, "keys must be plain names");
            continue;
        }
        const std::string& name = key.Scalar();
        const std::string key_path = join_key(path, name);

        if (const auto [it, inserted] = seen.emplace(name, key.Mark()); !inserted) {
            sink.error(key, key_path,
                       "duplicate key; first set at line " + std::to_string(it->second.line + 1) +
                           ", column " + std::to_string(it->second.column + 1));
            continue;
        }

        const auto rule = std::find_if(rules.begin(), rules.end(),
                                       [&](const KeyRule& r) { return r.key == name; });
        if (rule == rules.end()) {
            std::vector<std::string_view> known;
            for (const auto& r : rules) known.push_back(r.key);
            std::string message = "unknown key";
            if (const auto hint = did_you_mean(name, known); !hint.empty()) message += "; " + hint;
            sink.error(key, key_path, message);
            continue;
        }
        rule->parse(MapEntry{key, value, key_path});
    }

    for (const auto& rule : rules)
        if (rule.required && seen.find(rule.key) == seen.end())
            sink.error(node, join_key(path, rule.key), "required key is missing");
}

std::optional<std::int64_t> parse_integer(std::string_view text) {
    bool negative = false;
    if (!text.empty() && (text.front() == '+' || text.front() == '-')) {
        negative = text.front() == '-';
        text.remove_prefix(1);
    }
    if (text.empty() || !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return std::nullopt;
    std::uint64_t magnitude = 0;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), magnitude);
    if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
    constexpr auto max = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    if (!negative) {
        if (magnitude > max) return std::nullopt;
        return static_cast<std::int64_t>(magnitude);
    }
    if (magnitude > max + 1) return std::nullopt;
    return magnitude == max + 1 ? std::numeric_limits<std::int64_t>::min()
                                : -static_cast<std::int64_t>(magnitude);
}

std::optional<std::int64_t> integer_of(const YAML::Node& node) {
    if (!node.IsScalar() || node.Tag() != "?") return std::nullopt;
    return parse_integer(node.Scalar());
}

std::optional<bool> bool_of(const YAML::Node& node) {
    if (!node.IsScalar() || node.Tag() != "?") return std::nullopt;
    const std::string& s = node.Scalar();
    if (s == "true" || s == "True" || s == "TRUE") return true;
    if (s == "false" || s == "False" || s == "FALSE") return false;
    return std::nullopt;
}

bool is_plugin_name(std::string_view name) {
    return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
               c == '-';
    });
}

bool is_c_identifier(std::string_view name) {
    const auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
    const auto digit = [](char c) { return c >= '0' && c <= '9'; };
    return !name.empty() && alpha(name.front()) &&
           std::all_of(name.begin(), name.end(), [&](char c) { return alpha(c) || digit(c); });
}

bool is_timestamp(std::string_view text) {
    std::size_t pos = 0;
    // Reads exactly `n` digits as a number.
    const auto digits = [&](std::size_t n, int& out) {
        if (pos + n > text.size()) return false;
        out = 0;
        for (std::size_t i = 0; i < n; ++i) {
            const char c = text[pos + i];
            if (c < '0' || c > '9') return false;
            out = out * 10 + (c - '0');
        }
        pos += n;
        return true;
    };
    const auto literal = [&](char c) {
        if (pos >= text.size() || text[pos] != c) return false;
        ++pos;
        return true;
    };
    int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
    if (!digits(4, year) || !literal('-') || !digits(2, month) || !literal('-') || !digits(2, day) ||
        !literal('T') || !digits(2, hour) || !literal(':') || !digits(2, minute) || !literal(':') ||
        !digits(2, second))
        return false;
    if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return false;
    static constexpr int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (day < 1 || day > kDays[month - 1] || (month == 2 && day == 29 && !leap)) return false;
    if (literal('.')) {
        const std::size_t start = pos;
        while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') ++pos;
        if (pos == start || pos - start > 9) return false;
    }
    if (literal('Z')) return pos == text.size();
    if (!literal('+') && !literal('-')) return false;
    int zone_hours = 0, zone_minutes = 0;
    if (!digits(2, zone_hours) || !literal(':') || !digits(2, zone_minutes)) return false;
    return zone_hours <= 23 && zone_minutes <= 59 && pos == text.size();
}

std::size_t utf8_length(std::string_view text) {
    // Every code point has exactly one byte that is not a continuation byte (10xxxxxx).
    return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
        return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    }));
}

// YAML scalars may hold any bytes; invalid UTF-8 becomes U+FFFD, as in every
// JSON answer of the host (found by the operator-config fuzz target: dump()
// threw and took the process down).
std::string json_text(const YAML::Node& node) {
    return to_json(node).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

YAML::Node parse_yaml(std::string_view text, const std::string& file, const std::string& origin) {
    try {
        return YAML::Load(std::string(text));
    } catch (const YAML::Exception& e) {
        // yaml-cpp marks are 0-based; an unknown mark is -1.
        const int line = e.mark.line >= 0 ? e.mark.line + 1 : 0;
        const int column = e.mark.column >= 0 ? e.mark.column + 1 : 0;
        throw ConfigError({Diagnostic{file, line, column, "", e.msg, origin}});
    }
}

YAML::Node load_yaml_file(const std::string& path) {
    const auto fail = [&](int error) {
        throw ConfigError({Diagnostic{path, 0, 0, "",
                                      std::string("cannot read configuration file: ") +
                                          std::strerror(error)}});
    };
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> in(std::fopen(path.c_str(), "rb"), &std::fclose);
    if (!in) fail(errno);

    std::string text;
    char buffer[8192];
    std::size_t got = 0;
    while ((got = std::fread(buffer, 1, sizeof buffer, in.get())) > 0) text.append(buffer, got);
    // fopen succeeds on a directory; the read then fails with EISDIR.
    if (std::ferror(in.get())) fail(errno);
    return parse_yaml(text, path);
}

}  // namespace trellis::config
