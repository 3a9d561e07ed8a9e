// The operator dashboard of the admin listener: one HTML page (GET / and
// /dashboard) whose static parts are rendered here, so they read without
// JavaScript, and the JSON it polls (GET /dashboard.json) to update the
// per-route rates and a chart of the last minutes. Both are made from the
// same figures as /metrics (the supervisor's totals over its workers); the
// page loads nothing from elsewhere and works offline.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ops/worker_slots.hpp"

namespace trellis::ops {

struct DashboardWorker {
    std::string name;  // "<generation>.<index>", as the logs name it
    int pid = 0;
    unsigned generation = 0;
    std::string state;  // starting, ready, draining
    double uptime_seconds = 0;
    std::uint64_t restarts = 0;  // replacements of this slot so far
};

struct DashboardReload {
    double at_unix_seconds = 0;
    bool ok = false;
    std::string message;
};

struct DashboardPlugin {
    std::string name, version, abi;
    std::vector<std::string> routes;  // templates, each once
};

struct DashboardData {
    std::string version, abi;
    double now_unix_seconds = 0, uptime_seconds = 0;
    unsigned generation = 0;  // the serving one; 0 before the first is ready
    std::int64_t in_flight = 0;
    std::vector<DashboardWorker> workers;
    std::map<std::string, std::uint64_t> restarts;  // by reason
    std::map<std::string, std::uint64_t> reloads;   // by result: ok, failed
    std::optional<DashboardReload> last_reload;
    std::vector<DashboardPlugin> plugins;
    MetricTotals totals;
};

// The state as JSON: workers, reloads, plugins, and per route its plugin,
// requests, 4xx and 5xx answers and latency quantiles (p50, p90, p99 in
// milliseconds, estimated from the duration histogram as Prometheus'
// histogram_quantile does).
std::string dashboard_json(const DashboardData& data);

// The page, with the state of `data` already in it.
std::string dashboard_html(const DashboardData& data);

// The q-quantile (0 < q < 1) of a histogram in seconds, by linear
// interpolation inside the bucket that holds it; the top bucket's upper
// bound when it falls into +Inf; nullopt without observations.
std::optional<double> histogram_quantile(const HistogramTotals& histogram, double q);

}  // namespace trellis::ops
