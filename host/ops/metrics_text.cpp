#include "ops/metrics_text.hpp"

#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

namespace trellis::ops {

std::string render_metrics(const ServiceMetrics& m) {
    using namespace prometheus;
    // A fresh registry per scrape: the sums are computed elsewhere, the
    // registry only carries them to the serializer.
    Registry registry;
    auto& requests = BuildCounter()
                         .Name("http_requests_total")
                         .Help("HTTP requests answered, by method, matched route template, status and plugin")
                         .Register(registry);
    for (const auto& [labels, count] : m.totals.requests)
        requests
            .Add({{"method", labels.method}, {"route", labels.route}, {"status", labels.status}, {"plugin", labels.plugin}})
            .Increment(static_cast<double>(count));

    auto& durations = BuildHistogram()
                          .Name("http_request_duration_seconds")
                          .Help("Time from dispatch to the answer being sent, by matched route template")
                          .Register(registry);
    const Histogram::BucketBoundaries bounds(kDurationBounds.begin(), kDurationBounds.end());
    for (const auto& [route, h] : m.totals.durations) {
        std::vector<double> increments(h.buckets.begin(), h.buckets.end());
        durations.Add({{"route", route}}, bounds).ObserveMultiple(increments, h.sum_seconds);
    }

    BuildGauge()
        .Name("http_requests_in_flight")
        .Help("Requests being handled now")
        .Register(registry)
        .Add({})
        .Set(static_cast<double>(m.in_flight));
    BuildCounter()
        .Name("trellis_requests_not_counted_total")
        .Help("Requests left out of http_requests_total because a thread's series table was full")
        .Register(registry)
        .Add({})
        .Increment(static_cast<double>(m.totals.not_counted));

    // Families with a fixed set of label values: every value is written, 0 included.
    const auto fixed = [](auto& family, const char* label, std::initializer_list<const char*> values,
                          const std::map<std::string, std::uint64_t>& counts, auto set) {
        for (const char* value : values) {
            const auto it = counts.find(value);
            set(family.Add({{label, value}}), it == counts.end() ? 0.0 : static_cast<double>(it->second));
        }
    };
    const auto set_gauge = [](Gauge& g, double v) { g.Set(v); };
    const auto add_counter = [](Counter& c, double v) { c.Increment(v); };
    fixed(BuildGauge().Name("trellis_workers").Help("Worker processes by state").Register(registry), "state",
          {"starting", "ready", "draining"}, m.workers, set_gauge);
    fixed(BuildCounter()
              .Name("trellis_worker_restarts_total")
              .Help("Workers replaced after they died, by reason: crash (signal), exit, timeout")
              .Register(registry),
          "reason", {"crash", "exit", "timeout"}, m.restarts, add_counter);
    fixed(BuildCounter().Name("trellis_reloads_total").Help("Configuration reloads, by result").Register(registry),
          "result", {"ok", "failed"}, m.reloads, add_counter);
    auto& plugin_info = BuildGauge()
                            .Name("trellis_plugin_info")
                            .Help("Plugins the current generation serves (value 1)")
                            .Register(registry);
    for (const auto& p : m.plugins)
        plugin_info.Add({{"plugin", p.name}, {"version", p.version}, {"abi", p.abi}}).Set(1);
    BuildGauge()
        .Name("trellis_build_info")
        .Help("The host's version and plugin ABI (value 1)")
        .Register(registry)
        .Add({{"version", m.version}, {"abi", m.abi}})
        .Set(1);

    BuildCounter()
        .Name("process_cpu_seconds_total")
        .Help("CPU time of the supervisor and its live workers")
        .Register(registry)
        .Add({})
        .Increment(m.cpu_seconds);
    BuildGauge()
        .Name("process_resident_memory_bytes")
        .Help("Resident memory of the supervisor and its workers, added up")
        .Register(registry)
        .Add({})
        .Set(m.resident_bytes);
    BuildGauge()
        .Name("process_open_fds")
        .Help("Open file descriptors of the supervisor and its workers, added up")
        .Register(registry)
        .Add({})
        .Set(static_cast<double>(m.open_fds));
    BuildGauge()
        .Name("process_start_time_seconds")
        .Help("Start of the supervisor, in seconds since the epoch")
        .Register(registry)
        .Add({})
        .Set(m.start_time_seconds);
    BuildGauge()
        .Name("trellis_processes")
        .Help("Processes counted in process_* (supervisor and workers)")
        .Register(registry)
        .Add({})
        .Set(static_cast<double>(m.processes));

    return TextSerializer().Serialize(registry.Collect());
}

namespace {

// Fields of /proc/PID/stat after the command name: index 0 is field 3 (state).
std::vector<std::string> stat_fields(int pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    std::getline(in, line);
    const auto close = line.rfind(')');
    if (close == std::string::npos) return {};
    std::istringstream rest(line.substr(close + 2));
    std::vector<std::string> fields;
    for (std::string f; rest >> f;) fields.push_back(f);
    return fields;
}

}  // namespace

void add_process_usage(int pid, ServiceMetrics& into) {
    const auto f = stat_fields(pid);
    if (f.size() < 22) return;
    const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
    into.cpu_seconds += (std::stod(f[11]) + std::stod(f[12])) / ticks;  // utime, stime
    into.resident_bytes += std::stod(f[21]) * static_cast<double>(::sysconf(_SC_PAGESIZE));
    into.processes += 1;
    std::error_code ec;
    for (auto it = std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
        ++into.open_fds;
}

double process_start_time_seconds() {
    const auto f = stat_fields(::getpid());
    if (f.size() < 20) return 0;
    std::ifstream uptime_file("/proc/uptime");
    double uptime = 0;
    uptime_file >> uptime;
    const double started_after_boot = std::stod(f[19]) / static_cast<double>(::sysconf(_SC_CLK_TCK));
    return static_cast<double>(std::time(nullptr)) - uptime + started_after_boot;
}

}  // namespace trellis::ops
