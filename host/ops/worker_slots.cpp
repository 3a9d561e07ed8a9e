#include "ops/worker_slots.hpp"

#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace trellis::ops {

namespace {

constexpr std::array<std::string_view, 8> kMethods = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other"};

std::size_t header_size() { return offsetof(WorkerBlock, slots); }

void copy_text(char* to, std::size_t capacity, std::string_view text) noexcept {
    const std::size_t n = std::min(text.size(), capacity - 1);
    std::memcpy(to, text.data(), n);
    to[n] = '\0';
}

std::string text_of(const char* from, std::size_t capacity) {
    return std::string(from, strnlen(from, capacity));
}

void* map_block(int fd, std::size_t size) {
    void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) throw std::runtime_error(std::string("cannot map the worker block: ") + std::strerror(errno));
    return p;
}

std::size_t slot_index(std::uint64_t key) noexcept {
    std::uint64_t z = key * 0x9e3779b97f4a7c15ULL;
    return static_cast<std::size_t>(z >> 40) % kSeriesPerThread;
}

}  // namespace

unsigned thread_slots_for(unsigned threads) {
    return std::clamp(threads, 1u, static_cast<unsigned>(kMaxThreadSlots));
}

std::size_t worker_block_size(unsigned threads) {
    const std::size_t raw = header_size() + thread_slots_for(threads) * sizeof(ThreadSlot);
    const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    return (raw + page - 1) / page * page;
}

std::uint32_t method_index(std::string_view method) noexcept {
    for (std::uint32_t i = 0; i + 1 < kMethods.size(); ++i)
        if (kMethods[i] == method) return i;
    return static_cast<std::uint32_t>(kMethods.size() - 1);
}

std::string_view method_name(std::uint32_t index) noexcept {
    return index < kMethods.size() ? kMethods[index] : kMethods.back();
}

std::uint64_t pack_series_key(std::int32_t route, std::int32_t plugin, std::uint32_t method, int status) noexcept {
    const auto r = static_cast<std::uint64_t>(static_cast<std::uint32_t>(route + 1) & 0xFFFFFu);
    const auto p = static_cast<std::uint64_t>(static_cast<std::uint32_t>(plugin + 1) & 0xFFu);
    const auto s = static_cast<std::uint64_t>(static_cast<std::uint32_t>(status) & 0x3FFu);
    return (1ULL << 63) | (r << 32) | (p << 24) | (static_cast<std::uint64_t>(method & 0xFu) << 16) | s;
}

std::uint64_t monotonic_ns() noexcept {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000ULL + static_cast<std::uint64_t>(ts.tv_nsec);
}

// ---- worker side ----

WorkerSlotWriter::WorkerSlotWriter(int fd) {
    const off_t end = ::lseek(fd, 0, SEEK_END);
    if (end <= static_cast<off_t>(header_size())) throw std::runtime_error("the worker block is missing or too small");
    size_ = static_cast<std::size_t>(end);
    block_ = static_cast<WorkerBlock*>(map_block(fd, size_));
    if (block_->magic != WorkerBlock::kMagic) {
        ::munmap(block_, size_);
        throw std::runtime_error("the worker block has no Trellis header");
    }
}

WorkerSlotWriter::~WorkerSlotWriter() {
    if (block_) ::munmap(block_, size_);
}

void WorkerSlotWriter::set_plugins(const std::vector<std::tuple<std::string, std::string, std::string>>& plugins) {
    const std::size_t n = std::min(plugins.size(), kMaxPluginLabels);
    for (std::size_t i = 0; i < n; ++i) {
        auto& label = block_->plugins[i];
        copy_text(label.name, sizeof label.name, std::get<0>(plugins[i]));
        copy_text(label.version, sizeof label.version, std::get<1>(plugins[i]));
        copy_text(label.abi, sizeof label.abi, std::get<2>(plugins[i]));
    }
    block_->plugin_count = static_cast<std::uint32_t>(n);
}

void WorkerSlotWriter::set_routes(const std::vector<std::pair<std::string, std::int32_t>>& routes) {
    const std::size_t n = std::min(routes.size(), kMaxRouteLabels);
    for (std::size_t i = 0; i < n; ++i) {
        copy_text(block_->routes[i].pattern, sizeof block_->routes[i].pattern, routes[i].first);
        block_->routes[i].plugin = routes[i].second;
    }
    block_->route_count = static_cast<std::uint32_t>(n);
}

void WorkerSlotWriter::set_ready() { block_->ready.store(1, std::memory_order_release); }
bool WorkerSlotWriter::service_stopping() const noexcept {
    return block_->service_stopping.load(std::memory_order_acquire) != 0;
}

ThreadSlot& WorkerSlotWriter::slot() noexcept {
    static std::atomic<unsigned> next{0};
    thread_local const unsigned index = next.fetch_add(1, std::memory_order_relaxed);
    return block_->slots[index % block_->thread_slots];
}

void WorkerSlotWriter::begin(ThreadSlot& slot, std::string_view request_id, std::string_view method,
                             std::string_view path) noexcept {
    copy_text(slot.request_id, sizeof slot.request_id, request_id);
    copy_text(slot.method, sizeof slot.method, method);
    copy_text(slot.path, sizeof slot.path, path);
    slot.route.store(-1, std::memory_order_relaxed);
    slot.plugin.store(-1, std::memory_order_relaxed);
    slot.in_flight.fetch_add(1, std::memory_order_relaxed);
    slot.busy_since_ns.store(monotonic_ns(), std::memory_order_release);
}

void WorkerSlotWriter::routed(ThreadSlot& slot, std::int32_t route, std::int32_t plugin) noexcept {
    slot.route.store(route, std::memory_order_relaxed);
    slot.plugin.store(plugin, std::memory_order_release);
}

void WorkerSlotWriter::finish(ThreadSlot& slot, std::uint32_t method, int status, std::uint64_t duration_ns) noexcept {
    const auto route = slot.route.load(std::memory_order_relaxed);
    const auto plugin = slot.plugin.load(std::memory_order_relaxed);
    const std::uint64_t key = pack_series_key(route, plugin, method, status);
    SeriesCell* cell = nullptr;
    for (std::size_t i = slot_index(key), probes = 0; probes < kSeriesPerThread; ++probes, i = (i + 1) % kSeriesPerThread) {
        auto& candidate = slot.series[i];
        std::uint64_t seen = candidate.key.load(std::memory_order_acquire);
        if (seen == key) {
            cell = &candidate;
            break;
        }
        // Threads beyond kMaxThreadSlots share a slot: claim an empty cell atomically.
        if (seen == 0 && candidate.key.compare_exchange_strong(seen, key, std::memory_order_acq_rel)) {
            cell = &candidate;
            break;
        }
        if (seen == key) {
            cell = &candidate;
            break;
        }
    }
    if (cell) {
        const double seconds = static_cast<double>(duration_ns) / 1e9;
        std::size_t bucket = 0;
        while (bucket < kDurationBounds.size() && seconds > kDurationBounds[bucket]) ++bucket;
        cell->buckets[bucket].fetch_add(1, std::memory_order_relaxed);
        cell->sum_ns.fetch_add(duration_ns, std::memory_order_relaxed);
        cell->count.fetch_add(1, std::memory_order_release);
    } else {
        slot.overflow.fetch_add(1, std::memory_order_relaxed);
    }
    slot.busy_since_ns.store(0, std::memory_order_release);
    slot.in_flight.fetch_sub(1, std::memory_order_relaxed);
}

// ---- supervisor side ----

WorkerBlockReader::WorkerBlockReader(unsigned threads) {
    fd_ = ::memfd_create("trellis-worker", MFD_CLOEXEC);
    if (fd_ < 0) throw std::runtime_error(std::string("memfd_create: ") + std::strerror(errno));
    size_ = worker_block_size(threads);
    if (::ftruncate(fd_, static_cast<off_t>(size_)) != 0) {
        ::close(fd_);
        throw std::runtime_error(std::string("cannot size the worker block: ") + std::strerror(errno));
    }
    block_ = static_cast<WorkerBlock*>(map_block(fd_, size_));
    block_->magic = WorkerBlock::kMagic;
    block_->thread_slots = thread_slots_for(threads);
}

WorkerBlockReader::~WorkerBlockReader() {
    if (block_) ::munmap(block_, size_);
    if (fd_ >= 0) ::close(fd_);
}

bool WorkerBlockReader::ready() const noexcept { return block_->ready.load(std::memory_order_acquire) != 0; }
void WorkerBlockReader::set_service_stopping() noexcept { block_->service_stopping.store(1, std::memory_order_release); }

std::int64_t WorkerBlockReader::in_flight() const noexcept {
    std::int64_t total = 0;
    for (std::uint32_t i = 0; i < block_->thread_slots; ++i)
        total += block_->slots[i].in_flight.load(std::memory_order_relaxed);
    return std::max<std::int64_t>(total, 0);
}

std::string WorkerBlockReader::route_label(std::int32_t route) const {
    if (route < 0 || static_cast<std::uint32_t>(route) >= block_->route_count) return "";
    return text_of(block_->routes[static_cast<std::size_t>(route)].pattern, sizeof(RouteLabel::pattern));
}

std::string WorkerBlockReader::plugin_label(std::int32_t plugin) const {
    if (plugin < 0 || static_cast<std::uint32_t>(plugin) >= block_->plugin_count) return "";
    return text_of(block_->plugins[static_cast<std::size_t>(plugin)].name, sizeof(PluginLabel::name));
}

std::vector<BusyRequest> WorkerBlockReader::busy() const {
    std::vector<BusyRequest> out;
    const std::uint64_t now = monotonic_ns();
    for (std::uint32_t i = 0; i < block_->thread_slots; ++i) {
        const ThreadSlot& slot = block_->slots[i];
        const std::uint64_t since = slot.busy_since_ns.load(std::memory_order_acquire);
        if (since == 0) continue;
        BusyRequest r;
        r.request_id = text_of(slot.request_id, sizeof slot.request_id);
        r.method = text_of(slot.method, sizeof slot.method);
        r.path = text_of(slot.path, sizeof slot.path);
        r.route = route_label(slot.route.load(std::memory_order_acquire));
        r.plugin = plugin_label(slot.plugin.load(std::memory_order_acquire));
        r.running_ns = now > since ? now - since : 0;
        out.push_back(std::move(r));
    }
    return out;
}

std::vector<PluginInfo> WorkerBlockReader::plugins() const {
    std::vector<PluginInfo> out;
    if (!ready()) return out;
    for (std::uint32_t i = 0; i < block_->plugin_count; ++i) {
        const auto& label = block_->plugins[i];
        out.push_back({text_of(label.name, sizeof label.name), text_of(label.version, sizeof label.version),
                       text_of(label.abi, sizeof label.abi)});
    }
    return out;
}

std::vector<std::pair<std::string, std::string>> WorkerBlockReader::routes() const {
    std::vector<std::pair<std::string, std::string>> out;
    if (!ready()) return out;
    for (std::uint32_t i = 0; i < block_->route_count; ++i)
        out.emplace_back(route_label(static_cast<std::int32_t>(i)), plugin_label(block_->routes[i].plugin));
    return out;
}

void WorkerBlockReader::add_totals(MetricTotals& into) const {
    for (std::uint32_t t = 0; t < block_->thread_slots; ++t) {
        const ThreadSlot& slot = block_->slots[t];
        into.not_counted += slot.overflow.load(std::memory_order_relaxed);
        for (const auto& cell : slot.series) {
            const std::uint64_t key = cell.key.load(std::memory_order_acquire);
            if (key == 0) continue;
            const std::uint64_t count = cell.count.load(std::memory_order_acquire);
            if (count == 0) continue;
            const auto route = static_cast<std::int32_t>((key >> 32) & 0xFFFFFu) - 1;
            const auto plugin = static_cast<std::int32_t>((key >> 24) & 0xFFu) - 1;
            const auto method = static_cast<std::uint32_t>((key >> 16) & 0xFu);
            const int status = static_cast<int>(key & 0x3FFu);
            std::string route_text = route_label(route);
            if (route_text.empty()) route_text = "(unmatched)";
            into.requests[{std::string(method_name(method)), route_text, std::to_string(status), plugin_label(plugin)}] +=
                count;
            auto& h = into.durations[route_text];
            for (std::size_t b = 0; b < kBuckets; ++b) h.buckets[b] += cell.buckets[b].load(std::memory_order_relaxed);
            h.count += count;
            h.sum_seconds += static_cast<double>(cell.sum_ns.load(std::memory_order_relaxed)) / 1e9;
        }
    }
}

void MetricTotals::add(const MetricTotals& other) {
    for (const auto& [labels, n] : other.requests) requests[labels] += n;
    for (const auto& [route, h] : other.durations) {
        auto& mine = durations[route];
        for (std::size_t b = 0; b < kBuckets; ++b) mine.buckets[b] += h.buckets[b];
        mine.count += h.count;
        mine.sum_seconds += h.sum_seconds;
    }
    not_counted += other.not_counted;
}

std::string BusyRequest::describe() const {
    std::string text = method + " " + path + " (";
    text += route.empty() ? "no route yet" : "route " + route;
    if (!plugin.empty()) text += ", plugin " + plugin;
    text += ", request id " + request_id + ")";
    return text;
}

}  // namespace trellis::ops
