#include "prometheus_text.hpp"

#include <cmath>
#include <cstdlib>
#include <sstream>
#include <stdexcept>

namespace e2e {

namespace {

bool name_char(char c, bool first) {
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    return alpha || (!first && c >= '0' && c <= '9');
}

bool valid_name(const std::string& name) {
    if (name.empty()) return false;
    for (std::size_t i = 0; i < name.size(); ++i)
        if (!name_char(name[i], i == 0)) return false;
    return true;
}

double parse_value(const std::string& text, const std::string& line) {
    if (text == "+Inf") return INFINITY;
    if (text == "-Inf") return -INFINITY;
    if (text == "NaN") return NAN;
    char* end = nullptr;
    const double v = std::strtod(text.c_str(), &end);
    if (text.empty() || *end != '\0') throw std::runtime_error("bad sample value in: " + line);
    return v;
}

// The family a sample belongs to: histogram samples carry a suffix.
std::string family_of(const std::string& name, const std::map<std::string, std::string>& types) {
    if (types.count(name)) return name;
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
        const std::string s(suffix);
        if (name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0) {
            const std::string base = name.substr(0, name.size() - s.size());
            const auto it = types.find(base);
            if (it != types.end() && (it->second == "histogram" || it->second == "summary")) return base;
        }
    }
    return {};
}

Sample parse_sample(const std::string& line) {
    Sample s;
    std::size_t i = 0;
    while (i < line.size() && name_char(line[i], i == 0)) ++i;
    s.name = line.substr(0, i);
    if (!valid_name(s.name)) throw std::runtime_error("bad metric name in: " + line);
    if (i < line.size() && line[i] == '{') {
        ++i;
        while (true) {
            if (i < line.size() && line[i] == '}') {
                ++i;
                break;
            }
            std::size_t start = i;
            while (i < line.size() && name_char(line[i], i == start)) ++i;
            const std::string label = line.substr(start, i - start);
            if (!valid_name(label) || i + 1 >= line.size() || line[i] != '=' || line[i + 1] != '"')
                throw std::runtime_error("bad label in: " + line);
            i += 2;
            std::string value;
            while (true) {
                if (i >= line.size()) throw std::runtime_error("unterminated label value in: " + line);
                const char c = line[i++];
                if (c == '"') break;
                if (c == '\\') {
                    if (i >= line.size()) throw std::runtime_error("bad escape in: " + line);
                    const char e = line[i++];
                    if (e == 'n') value += '\n';
                    else if (e == '\\' || e == '"') value += e;
                    else throw std::runtime_error("bad escape in: " + line);
                } else {
                    value += c;
                }
            }
            if (!s.labels.emplace(label, value).second) throw std::runtime_error("label repeated in: " + line);
            if (i < line.size() && line[i] == ',') ++i;
        }
    }
    if (i >= line.size() || line[i] != ' ') throw std::runtime_error("no value in: " + line);
    std::string rest = line.substr(i + 1);
    const auto space = rest.find(' ');  // an optional timestamp follows
    s.value = parse_value(rest.substr(0, space), line);
    return s;
}

}  // namespace

Exposition parse_prometheus_text(const std::string& text) {
    Exposition out;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty()) continue;
        if (line[0] == '#') {
            std::istringstream words(line);
            std::string hash, kind, name, type;
            words >> hash >> kind >> name;
            if (kind == "TYPE") {
                words >> type;
                static const char* known[] = {"counter", "gauge", "histogram", "summary", "untyped"};
                bool ok = false;
                for (const char* k : known) ok = ok || type == k;
                if (!valid_name(name) || !ok) throw std::runtime_error("bad TYPE line: " + line);
                if (!out.types.emplace(name, type).second) throw std::runtime_error("TYPE repeated: " + line);
            } else if (kind == "HELP") {
                if (!valid_name(name)) throw std::runtime_error("bad HELP line: " + line);
            }
            continue;
        }
        Sample s = parse_sample(line);
        if (family_of(s.name, out.types).empty()) throw std::runtime_error("sample without a TYPE: " + line);
        out.samples.push_back(std::move(s));
    }
    // Histograms: cumulative buckets, +Inf == _count, per label set.
    for (const auto& [family, type] : out.types) {
        if (type != "histogram") continue;
        std::map<std::map<std::string, std::string>, std::vector<std::pair<double, double>>> buckets;
        for (const auto& s : out.samples) {
            if (s.name != family + "_bucket") continue;
            auto labels = s.labels;
            const auto le = labels.find("le");
            if (le == labels.end()) throw std::runtime_error(family + "_bucket without le");
            const double bound = parse_value(le->second, family);
            labels.erase(le);
            buckets[labels].emplace_back(bound, s.value);
        }
        for (const auto& [labels, list] : buckets) {
            double last_bound = -INFINITY, last_count = 0;
            for (const auto& [bound, count] : list) {
                if (bound <= last_bound || count < last_count)
                    throw std::runtime_error(family + ": buckets not ascending and cumulative");
                last_bound = bound;
                last_count = count;
            }
            if (!std::isinf(last_bound)) throw std::runtime_error(family + ": no +Inf bucket");
            const auto count = out.value(family + "_count", labels);
            if (!count || *count != last_count) throw std::runtime_error(family + ": +Inf bucket differs from _count");
        }
    }
    return out;
}

std::optional<double> Exposition::value(const std::string& name, const std::map<std::string, std::string>& labels) const {
    for (const auto& s : samples)
        if (s.name == name && s.labels == labels) return s.value;
    return std::nullopt;
}

double Exposition::sum(const std::string& name, const std::map<std::string, std::string>& match) const {
    double total = 0;
    for (const auto& s : samples) {
        if (s.name != name) continue;
        bool all = true;
        for (const auto& [k, v] : match) {
            const auto it = s.labels.find(k);
            all = all && it != s.labels.end() && it->second == v;
        }
        if (all) total += s.value;
    }
    return total;
}

}  // namespace e2e
