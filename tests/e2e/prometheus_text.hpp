// A strict reader of the Prometheus text exposition format 0.0.4, written
// for the tests: every line must be a HELP or TYPE comment or a sample with
// well-formed name, labels and value; every sample must belong to a family
// declared by TYPE; histogram buckets must be cumulative and end in +Inf
// equal to _count. Throws std::runtime_error naming the line otherwise.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace e2e {

struct Sample {
    std::string name;
    std::map<std::string, std::string> labels;
    double value = 0;
};

struct Exposition {
    std::map<std::string, std::string> types;  // family -> counter, gauge, histogram, ...
    std::vector<Sample> samples;

    // The value of the sample with exactly these labels (nullopt if absent).
    std::optional<double> value(const std::string& name, const std::map<std::string, std::string>& labels = {}) const;
    // The sum over samples of `name` whose labels include `match`.
    double sum(const std::string& name, const std::map<std::string, std::string>& match = {}) const;
};

Exposition parse_prometheus_text(const std::string& text);

}  // namespace e2e
