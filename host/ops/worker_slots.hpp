// The memory a worker process shares with its supervisor: one block per
// worker (a memfd the supervisor creates and the worker maps), written only
// by the worker and read by the supervisor, for metrics and for what a
// worker was doing when it crashed or hung.
//
// Each server thread of a worker writes only its own ThreadSlot (its own
// cache lines), so counting costs the request path no shared cache line;
// the supervisor adds the slots up when /metrics is scraped, and keeps the
// totals of a worker that exited so that counters never go backwards.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace trellis::ops {

// Upper bounds (seconds) of http_request_duration_seconds, +Inf implied.
inline constexpr std::array<double, 14> kDurationBounds = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                           0.1,    0.25,  0.5,    1.0,   2.5,   5.0,   10.0};
inline constexpr std::size_t kBuckets = kDurationBounds.size() + 1;

inline constexpr std::size_t kMaxThreadSlots = 64;   // threads beyond share slots (atomics keep it exact)
inline constexpr std::size_t kSeriesPerThread = 512; // distinct (route, method, status) per thread
inline constexpr std::size_t kMaxRouteLabels = 1024;
inline constexpr std::size_t kMaxPluginLabels = 64;

// One (route, plugin, method, status) series of one thread.
struct SeriesCell {
    std::atomic<std::uint64_t> key{0};  // 0: unused; see pack_series_key
    std::atomic<std::uint64_t> count{0};
    std::atomic<std::uint64_t> sum_ns{0};
    std::array<std::atomic<std::uint64_t>, kBuckets> buckets{};
};

// What one server thread is doing now, and what it has done.
struct alignas(64) ThreadSlot {
    std::atomic<std::uint64_t> busy_since_ns{0};  // CLOCK_MONOTONIC at dispatch; 0 while idle
    std::atomic<std::int32_t> route{-1};          // route label index once routed
    std::atomic<std::int32_t> plugin{-1};         // plugin label index once known
    std::atomic<std::int64_t> in_flight{0};
    std::atomic<std::uint64_t> overflow{0};       // requests not counted: the series table was full
    char request_id[72]{};
    char method[16]{};
    char path[200]{};
    std::array<SeriesCell, kSeriesPerThread> series;
};

struct RouteLabel {
    char pattern[192];
    std::int32_t plugin;  // plugin label index
};
struct PluginLabel {
    char name[64];
    char version[32];
    char abi[16];
};

// The block's layout. The supervisor creates it zeroed; the worker fills the
// labels once its plugins are loaded, then sets `ready`.
struct WorkerBlock {
    static constexpr std::uint64_t kMagic = 0x74726c73626c6b31ULL;  // "trlsblk1"
    std::uint64_t magic;
    std::uint32_t thread_slots;  // slots that follow
    std::atomic<std::uint32_t> ready;
    std::atomic<std::uint32_t> service_stopping;  // set by the supervisor: readiness fails from now on
    std::uint32_t route_count;
    std::uint32_t plugin_count;
    std::array<RouteLabel, kMaxRouteLabels> routes;
    std::array<PluginLabel, kMaxPluginLabels> plugins;
    ThreadSlot slots[1];  // thread_slots of them
};

std::size_t worker_block_size(unsigned threads);
unsigned thread_slots_for(unsigned threads);

// Methods the metrics name; anything else is "other".
std::uint32_t method_index(std::string_view method) noexcept;
std::string_view method_name(std::uint32_t index) noexcept;

// A series key: never 0; route and plugin are label indexes (-1: none).
std::uint64_t pack_series_key(std::int32_t route, std::int32_t plugin, std::uint32_t method, int status) noexcept;

std::uint64_t monotonic_ns() noexcept;

// The worker's side.
class WorkerSlotWriter {
public:
    // Maps the block behind `fd` (created by the supervisor). Throws
    // std::runtime_error when it cannot.
    explicit WorkerSlotWriter(int fd);
    ~WorkerSlotWriter();
    WorkerSlotWriter(const WorkerSlotWriter&) = delete;
    WorkerSlotWriter& operator=(const WorkerSlotWriter&) = delete;

    // Before ready: the labels the series refer to (truncated to fit).
    void set_plugins(const std::vector<std::tuple<std::string, std::string, std::string>>& name_version_abi);
    void set_routes(const std::vector<std::pair<std::string, std::int32_t>>& pattern_plugin);
    void set_ready();
    // The supervisor is stopping the service (readiness fails before the drain).
    bool service_stopping() const noexcept;

    // The calling thread's slot.
    ThreadSlot& slot() noexcept;
    // Dispatch: what a crash or a hang report names.
    static void begin(ThreadSlot& slot, std::string_view request_id, std::string_view method,
                      std::string_view path) noexcept;
    static void routed(ThreadSlot& slot, std::int32_t route, std::int32_t plugin) noexcept;
    // The answer was sent: counts it and marks the thread idle.
    static void finish(ThreadSlot& slot, std::uint32_t method, int status, std::uint64_t duration_ns) noexcept;

private:
    WorkerBlock* block_ = nullptr;
    std::size_t size_ = 0;
};

// The supervisor's side: sums and crash reports.
struct SeriesLabels {
    std::string method, route, status, plugin;
    auto operator<=>(const SeriesLabels&) const = default;
};
struct HistogramTotals {
    std::array<std::uint64_t, kBuckets> buckets{};  // not cumulative
    std::uint64_t count = 0;
    double sum_seconds = 0;
};
struct MetricTotals {
    std::map<SeriesLabels, std::uint64_t> requests;
    std::map<std::string, HistogramTotals> durations;  // by route
    std::uint64_t not_counted = 0;
    void add(const MetricTotals& other);
};

// A request a worker thread is running.
struct BusyRequest {
    std::string request_id, method, path, route, plugin;
    std::uint64_t running_ns = 0;
    std::string describe() const;  // "GET /crash (route /crash, plugin crashy, request id ab12)"
};

struct PluginInfo {
    std::string name, version, abi;
    auto operator<=>(const PluginInfo&) const = default;
};

class WorkerBlockReader {
public:
    // Creates a zeroed block for a worker with `threads` server threads; the
    // fd is what the worker maps (inherited across exec).
    explicit WorkerBlockReader(unsigned threads);
    ~WorkerBlockReader();
    WorkerBlockReader(const WorkerBlockReader&) = delete;
    WorkerBlockReader& operator=(const WorkerBlockReader&) = delete;

    int fd() const noexcept { return fd_; }
    bool ready() const noexcept;
    void set_service_stopping() noexcept;
    std::int64_t in_flight() const noexcept;
    std::vector<BusyRequest> busy() const;
    std::vector<PluginInfo> plugins() const;
    // The route labels (template, plugin name), once ready.
    std::vector<std::pair<std::string, std::string>> routes() const;
    void add_totals(MetricTotals& into) const;

private:
    std::string route_label(std::int32_t route) const;
    std::string plugin_label(std::int32_t plugin) const;

    int fd_ = -1;
    WorkerBlock* block_ = nullptr;
    std::size_t size_ = 0;
};

}  // namespace trellis::ops
