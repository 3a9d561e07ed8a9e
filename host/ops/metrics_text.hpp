// The service's metrics in the Prometheus text exposition format 0.0.4,
// rendered from totals the supervisor has added up over its workers
// (prometheus-cpp's registry and serializer do the format).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "ops/worker_slots.hpp"

namespace trellis::ops {

struct ServiceMetrics {
    MetricTotals totals;                               // every worker, live and exited
    std::int64_t in_flight = 0;
    std::map<std::string, std::uint64_t> workers;      // by state: starting, ready, draining
    std::map<std::string, std::uint64_t> restarts;     // by reason: crash, exit, timeout
    std::map<std::string, std::uint64_t> reloads;      // by result: ok, failed
    std::vector<PluginInfo> plugins;                   // the current generation's
    std::string version, abi;
    // process_*: the supervisor and its workers together
    double cpu_seconds = 0, resident_bytes = 0, start_time_seconds = 0;
    std::uint64_t processes = 0, open_fds = 0;
};

std::string render_metrics(const ServiceMetrics& metrics);

// CPU seconds, resident bytes and open descriptors of one process, added to
// `into` (nothing when the process is gone).
void add_process_usage(int pid, ServiceMetrics& into);
// This process' start, in seconds since the epoch.
double process_start_time_seconds();

}  // namespace trellis::ops
