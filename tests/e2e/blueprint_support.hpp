// Support for the blueprint tests (hooks, error chains, request ids, access
// log, static files, CORS): a host started with a full configuration and
// helpers to read the host's log line by line.
//
// Host::start only takes the plugins block and extra `server:` lines; these
// tests also need `logging:` keys (access, format) and a top-level `errors:`
// section, so ConfiguredHost writes the whole file through config_yaml().
#pragma once

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <initializer_list>
#include <memory>
#include <optional>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "fixture.hpp"
#include "harness.hpp"
#include "http_client.hpp"

namespace e2e {

class ConfiguredHost {
public:
    // `logging_extra`: lines appended to the `logging:` block (indented by two
    // spaces, e.g. "  format: json\n"); `top_level_extra`: whole top-level
    // sections after it (e.g. "errors:\n  500: {text: x}\n").
    static std::unique_ptr<ConfiguredHost> start(std::string_view plugins_block, std::string_view logging_extra = "",
                                                 std::string_view top_level_extra = "") {
        std::unique_ptr<ConfiguredHost> h(new ConfiguredHost);
        h->dir_ = std::make_unique<TempDir>();
        const fs::path out = h->dir_->path() / "stdout", err = h->dir_->path() / "stderr";
        h->err_file_ = err;
        const std::string extra = std::string(logging_extra) + std::string(top_level_extra);
        std::string last_error;
        for (int attempt = 0; attempt < 3; ++attempt) {
            h->port_ = free_port();
            const auto config = h->dir_->write("trellis.yaml", config_yaml(h->port_, plugins_block, "", extra));
            std::vector<std::string> argv{trellis_binary().string(), "serve", "--config", config.string()};
            for (const auto& a : default_plugin_args()) argv.push_back(a);
            h->process_ = std::make_unique<Process>(argv, out, err);
            const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
            last_error.clear();
            while (std::chrono::steady_clock::now() < deadline) {
                if (auto s = h->process_->poll()) {
                    last_error = "trellis serve exited before listening (" + s->describe() + ")\n--- stderr ---\n" +
                                 h->err() + "--- config ---\n" + read_file(config);
                    break;
                }
                if (port_accepts(h->port_)) return h;
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
            }
            if (last_error.empty()) {
                last_error = "trellis serve did not listen within 10 s\n--- stderr ---\n" + h->err();
                break;
            }
            if (h->err().find("in use") == std::string::npos) break;  // not a port race
        }
        throw std::runtime_error(last_error);
    }

    int port() const noexcept { return port_; }
    std::string err() const { return read_file(err_file_); }
    Process& process() noexcept { return *process_; }

    bool wait_for_log(std::string_view text, std::chrono::milliseconds timeout = std::chrono::seconds(3)) const {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (true) {
            if (err().find(text) != std::string::npos) return true;
            if (std::chrono::steady_clock::now() >= deadline) return false;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    }

    ExitStatus stop(int sig) {
        process_->signal(sig);
        if (auto s = process_->wait_for(std::chrono::seconds(10))) return *s;
        process_->signal(SIGKILL);
        (void)process_->wait_for(std::chrono::seconds(5));
        ExitStatus hung;
        hung.signal = SIGKILL;
        return hung;
    }

private:
    ConfiguredHost() = default;
    std::unique_ptr<TempDir> dir_;
    std::unique_ptr<Process> process_;
    fs::path err_file_;
    int port_ = 0;
};

// Like SharedHostTest, with a ConfiguredHost: derived suites call
// start(plugins, logging_extra, top_level_extra) from SetUpTestSuite().
template <class Derived>
class ConfiguredHostTest : public ::testing::Test {
protected:
    static void start(std::string_view plugins_block, std::string_view logging_extra = "",
                      std::string_view top_level_extra = "") {
        error_.clear();
        try {
            host_ = ConfiguredHost::start(plugins_block, logging_extra, top_level_extra);
        } catch (const std::exception& e) {
            error_ = e.what();
        }
    }

    static void TearDownTestSuite() {
        if (!host_) return;
        ExitStatus s = host_->stop(SIGTERM);
        if (!s.exited || s.code != 0)
            ADD_FAILURE() << "host did not exit 0 on SIGTERM: " << s.describe() << "\n--- stderr ---\n"
                          << host_->err();
        host_.reset();
    }

    void SetUp() override {
        if (!host_) GTEST_FAIL() << "the suite's host is not running:\n" << error_;
    }

    void TearDown() override {
        if (host_ && !host_->process().running()) {
            auto status = host_->process().poll();
            ADD_FAILURE() << "the host died during this test (" << (status ? status->describe() : "?")
                          << ")\n--- stderr ---\n" << host_->err();
            error_ = "the host died in an earlier test";
            host_.reset();
        }
    }

    static int port() { return host_->port(); }
    static ConfiguredHost& host() { return *host_; }

    static inline std::unique_ptr<ConfiguredHost> host_;
    static inline std::string error_;
};

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
inline bool wait_for_line(const ConfiguredHost& h, std::initializer_list<std::string_view> needles,
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
