#include "app/request_id.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <functional>

namespace trellis::app {

bool is_sane_request_id(std::string_view id) noexcept {
    return !id.empty() && id.size() <= 128 && std::all_of(id.begin(), id.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == ':' || c == '-';
    });
}

std::string request_id_for(const Request& request) {
    if (const auto given = request.header("X-Request-Id"); given && is_sane_request_id(*given))
        return std::string(*given);
    static std::atomic<std::uint64_t> counter{0};
    static const std::uint64_t seed =
        std::hash<std::uint64_t>{}(
            static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count())) ^
        (static_cast<std::uint64_t>(::getpid()) << 40);
    // Each thread takes counter values in blocks, so that server threads do
    // not share one hot cache line per request.
    static constexpr std::uint64_t kBlock = 1024;
    thread_local std::uint64_t next = 0, end = 0;
    if (next == end) {
        next = counter.fetch_add(kBlock, std::memory_order_relaxed);
        end = next + kBlock;
    }
    // splitmix64 of a counter: unique, cheap, and not guessable in order.
    std::uint64_t z = seed + 0x9e3779b97f4a7c15ULL * (next++ + 1);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    static constexpr char hex[] = "0123456789abcdef";
    std::string id(16, '0');
    for (int i = 15; i >= 0; --i, z >>= 4) id[static_cast<std::size_t>(i)] = hex[z & 0xF];
    return id;
}

}  // namespace trellis::app
