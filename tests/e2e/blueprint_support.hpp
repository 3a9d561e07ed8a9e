// Support for the blueprint tests (hooks, error chains, request ids, access
// log, static files, CORS): helpers to read the host's log line by line. The
// hosts are SharedHostTest's, started with HostOptions for the `logging:`
// keys (access, format) and the top-level `errors:` section they need.
#pragma once

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <initializer_list>
#include <regex>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "fixture.hpp"
#include "harness.hpp"
#include "http_client.hpp"

namespace e2e {

// The lines of `text` that contain every one of `needles`.
inline std::vector<std::string> lines_with(const std::string& text, std::initializer_list<std::string_view> needles) {
    std::vector<std::string> out;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        bool all = true;
        for (auto n : needles) all = all && line.find(n) != std::string::npos;
        if (all) out.push_back(line);
    }
    return out;
}

// Polls the host's log until one line contains every one of `needles`.
inline bool wait_for_line(const Host& h, std::initializer_list<std::string_view> needles,
                          std::chrono::milliseconds timeout = std::chrono::seconds(3)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
        if (!lines_with(h.err(), needles).empty()) return true;
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

// The order markers ("order <marker> <path>", logged by the apphooks and
// scoped test plugins) of the request with id `rid`, in log order.
inline std::vector<std::string> order_markers(const std::string& log, std::string_view rid) {
    static const std::regex marker(R"(\border ([A-Za-z0-9_-]+:[a-z0-9]+) )");
    std::vector<std::string> markers;
    for (const auto& line : lines_with(log, {"order ", rid})) {
        std::smatch m;
        if (std::regex_search(line, m, marker)) markers.push_back(m[1]);
    }
    return markers;
}

inline std::string joined(const std::vector<std::string>& items) {
    std::string s;
    for (const auto& i : items) s += (s.empty() ? "" : ",") + i;
    return s;
}

// A fresh request id per call, unique within the test binary's run; the
// ".x" end keeps one id from being a substring of another ("a-1" of "a-10").
inline std::string unique_id(std::string_view prefix) {
    static std::atomic<int> counter{0};
    return std::string(prefix) + "-" + std::to_string(::getpid()) + "-" + std::to_string(++counter) + ".x";
}

// Whether `id` is a sane request id: 1..128 characters of [A-Za-z0-9._:-].
inline bool sane_request_id(std::string_view id) {
    if (id.empty() || id.size() > 128) return false;
    for (char c : id) {
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
                        c == '_' || c == ':' || c == '-';
        if (!ok) return false;
    }
    return true;
}

}  // namespace e2e
