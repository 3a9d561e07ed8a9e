// The production service: a supervisor and its worker processes, for real.
// Reload under load, crashing and hanging plugins, graceful stop, the admin
// listener's health and metrics, and sd_notify through a real socket.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <regex>
#include <set>
#include <thread>

#include "harness.hpp"
#include "http_client.hpp"
#include "load_client.hpp"
#include "prometheus_text.hpp"

namespace e2e {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kHelloAndCrashy = "  hello: {mount: /}\n  crashy: {mount: /}\n";

HostOptions two_workers(std::string extra = {}) {
    HostOptions options;
    options.server_extra = "  workers: 2\n" + extra;
    return options;
}

// Polls /readyz until it answers 200; how long that took, or nullopt.
std::optional<std::chrono::milliseconds> wait_ready(const Host& host, std::chrono::milliseconds timeout = 10s) {
    const auto start = Clock::now();
    while (Clock::now() - start < timeout) {
        try {
            if (get(host.admin_port(), "/readyz").status == 200)
                return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
        } catch (const std::exception&) {
        }
        std::this_thread::sleep_for(10ms);
    }
    return std::nullopt;
}

Exposition scrape(const Host& host) {
    const Response r = get(host.admin_port(), "/metrics");
    EXPECT_EQ(r.status, 200) << r.dump();
    EXPECT_EQ(r.header("Content-Type").value_or(""), "text/plain; version=0.0.4; charset=utf-8");
    return parse_prometheus_text(r.body);
}

// A request that kills or hangs its worker gets no answer: the connection
// closes under it.
bool request_gets_no_answer(int port, const std::string& target) {
    try {
        Connection c(port);
        (void)c.request("GET", target);
        return false;
    } catch (const std::exception&) {
        return true;
    }
}

TEST(Service, AdminListenerAnswersHealthAndRefusesOtherPaths) {
    auto host = Host::start("  hello: {mount: /}\n", two_workers());
    ASSERT_TRUE(wait_ready(*host));
    const Response live = get(host->admin_port(), "/livez");
    EXPECT_EQ(live.status, 200);
    EXPECT_EQ(live.json()["status"], "alive");
    const Response ready = get(host->admin_port(), "/readyz");
    EXPECT_EQ(ready.status, 200) << ready.dump();
    const Response other = get(host->admin_port(), "/hello/x");
    EXPECT_EQ(other.status, 404);
    EXPECT_EQ(other.header("Content-Type").value_or(""), "application/problem+json");
    // The serving port does not answer the admin paths: no plugin mounts there either.
    EXPECT_EQ(get(host->port(), "/livez").status, 404);
    EXPECT_TRUE(host->wait_for_log("[supervisor] admin listening on http://127.0.0.1:" +
                                   std::to_string(host->admin_port())));
    EXPECT_TRUE(host->wait_for_log("[worker 1.0]"));
    EXPECT_TRUE(host->wait_for_log("[worker 1.1]"));
}

TEST(Service, ReloadUnderLoadFiveTimesLosesNoRequest) {
    TempDir release_dir;  // where the test puts librelease.so, v1 then v2
    const auto install_release = [&](const std::string& build) {
        const fs::path from = test_plugin_dir() / ("release-" + build) / "librelease.so";
        const fs::path staged = release_dir.path() / "librelease.so.new";
        fs::copy_file(from, staged, fs::copy_options::overwrite_existing);
        // A new inode: the running generation keeps its mapping of the old file.
        fs::rename(staged, release_dir.path() / "librelease.so");
    };
    install_release("v1");
    HostOptions options = two_workers();
    options.plugin_args.insert(options.plugin_args.begin(), {"--plugin-path", release_dir.path().string()});
    const std::string hello = "  hello: {mount: /}\n";
    const std::string with_release = hello + "  release: {mount: /rel}\n";

    auto host = Host::start(hello, options);
    ASSERT_TRUE(wait_ready(*host));
    LoadClient load(host->port(), "/hello/load", 8);
    std::this_thread::sleep_for(300ms);

    const auto reload_to = [&](int generation) {
        host->process().signal(SIGHUP);
        ASSERT_TRUE(host->wait_for_log("reloaded: generation " + std::to_string(generation), 20s)) << host->err();
        std::this_thread::sleep_for(300ms);
    };

    // 1. a plugin added
    host->rewrite_config(with_release, options);
    reload_to(2);
    EXPECT_EQ(get(host->port(), "/rel/version").json()["release"], "v1");
    // 2. the plugin's .so replaced by a new build: the answer changes
    install_release("v2");
    reload_to(3);
    EXPECT_EQ(get(host->port(), "/rel/version").json()["release"], "v2");
    // 3. the plugin removed
    host->rewrite_config(hello, options);
    reload_to(4);
    EXPECT_EQ(get(host->port(), "/rel/version").status, 404);
    // 4. a broken configuration: refused with its position, generation 4 keeps serving
    HostOptions broken = options;
    broken.server_extra += "  prot: 9\n";
    host->rewrite_config(hello, broken);
    host->process().signal(SIGHUP);
    ASSERT_TRUE(host->wait_for_log("reload failed", 20s)) << host->err();
    EXPECT_TRUE(host->wait_for_log(host->config_path().string() + ":6:3: server.prot: unknown key; did you mean 'port'?"))
        << host->err();
    EXPECT_TRUE(host->wait_for_log("generation 4 keeps serving"));
    EXPECT_EQ(get(host->port(), "/hello/after").status, 200);
    // 5. a no-op reload
    host->rewrite_config(hello, options);
    reload_to(5);

    const LoadCounts counts = load.stop();
    EXPECT_GT(counts.ok, 1000u) << counts.describe();
    EXPECT_EQ(counts.failed, 0u) << counts.describe();
    EXPECT_EQ(counts.refused, 0u) << counts.describe();
    EXPECT_EQ(counts.non_2xx, 0u) << counts.describe();
    std::cout << "[reload under load] " << counts.describe() << "\n";

    const Exposition m = scrape(*host);
    EXPECT_EQ(m.value("trellis_reloads_total", {{"result", "ok"}}), 4);
    EXPECT_EQ(m.value("trellis_reloads_total", {{"result", "failed"}}), 1);
    EXPECT_EQ(m.value("trellis_workers", {{"state", "ready"}}), 2);
    // Every answered request is counted, across five generations of workers.
    EXPECT_GE(m.sum("http_requests_total", {{"route", "/hello/{name}"}, {"status", "200"}}),
              static_cast<double>(counts.ok));
    EXPECT_FALSE(m.value("trellis_plugin_info", {{"plugin", "release"}, {"version", "2.0.0"}, {"abi", "1.3"}}))
        << "the removed plugin is no longer listed";
}

TEST(Service, ReloadsThatShrinkAndGrowTheWorkersLoseNoRequest) {
    HostOptions three;
    three.server_extra = "  workers: 3\n";
    auto host = Host::start("  hello: {mount: /}\n", three);
    ASSERT_TRUE(wait_ready(*host));
    LoadClient load(host->port(), "/hello/load", 12);
    std::this_thread::sleep_for(300ms);
    int generation = 1;
    for (const char* workers : {"1", "2", "1", "3"}) {
        HostOptions next;
        next.server_extra = std::string("  workers: ") + workers + "\n";
        host->rewrite_config("  hello: {mount: /}\n", next);
        host->process().signal(SIGHUP);
        ++generation;
        ASSERT_TRUE(host->wait_for_log("reloaded: generation " + std::to_string(generation) + " serves with " + workers +
                                       " workers", 20s))
            << host->err();
        std::this_thread::sleep_for(400ms);
    }
    const LoadCounts counts = load.stop();
    EXPECT_GT(counts.ok, 1000u) << counts.describe();
    EXPECT_EQ(counts.failed, 0u) << counts.describe();
    EXPECT_EQ(counts.refused, 0u) << counts.describe();
    EXPECT_EQ(counts.non_2xx, 0u) << counts.describe();
    std::cout << "[shrink and grow] " << counts.describe() << "\n";
    EXPECT_EQ(scrape(*host).value("trellis_workers", {{"state", "ready"}}), 3);
}

TEST(Service, AReloadThatEnablesADataPluginMigratesBeforeItServes) {
    HostOptions options = two_workers();
    options.top_level_extra = "database:\n  url: \"sqlite://trellis.db\"\n";
    auto host = Host::start("  hello: {mount: /}\n", options);
    ASSERT_TRUE(wait_ready(*host));
    EXPECT_EQ(get(host->port(), "/api/notes").status, 404);

    host->rewrite_config("  hello: {mount: /}\n  notes: {mount: /api/notes}\n", options);
    host->process().signal(SIGHUP);
    ASSERT_TRUE(host->wait_for_log("reloaded: generation 2", 20s)) << host->err();
    // The preparation process created the table and applied the step before any worker served.
    const std::string err = host->err();
    const auto migrated = err.find("migration steps applied");
    const auto reloaded = err.find("reloaded: generation 2");
    ASSERT_NE(migrated, std::string::npos) << err;
    EXPECT_LT(migrated, reloaded);
    const Response created = http(host->port(), "POST", "/api/notes", {{"Content-Type", "application/json"}},
                                  std::string(R"({"title":"written after a reload"})"));
    ASSERT_EQ(created.status, 201) << created.dump();
    const auto id = created.json()["id"].get<long long>();
    // Every worker of the new generation reads it.
    for (int i = 0; i < 10; ++i)
        EXPECT_EQ(get(host->port(), "/api/notes/" + std::to_string(id)).json()["title"], "written after a reload");
}

TEST(Service, ReloadWithARefusedPluginKeepsTheOldGeneration) {
    auto host = Host::start("  hello: {mount: /}\n", two_workers());
    ASSERT_TRUE(wait_ready(*host));
    host->rewrite_config("  hello: {mount: /}\n  missinghandler: {mount: /m}\n", two_workers());
    host->process().signal(SIGHUP);
    ASSERT_TRUE(host->wait_for_log("reload failed", 20s)) << host->err();
    EXPECT_TRUE(host->wait_for_log("missinghandler_gone")) << host->err();
    EXPECT_EQ(get(host->port(), "/hello/still").status, 200);
    EXPECT_EQ(get(host->admin_port(), "/readyz").status, 200);
    EXPECT_EQ(scrape(*host).value("trellis_reloads_total", {{"result", "failed"}}), 1);
}

// The operator dashboard on the admin listener: its page carries the
// workers and plugins without JavaScript, its JSON counts what was served,
// and it says how the last reload went.
TEST(Service, DashboardShowsWorkersPluginsReloadsAndCounts) {
    auto host = Host::start(kHelloAndCrashy, two_workers());
    ASSERT_TRUE(wait_ready(*host));
    const Response page = get(host->admin_port(), "/");
    ASSERT_EQ(page.status, 200) << page.dump();
    EXPECT_EQ(page.header("Content-Type"), "text/html; charset=utf-8");
    for (const char* part : {"<td>1.0</td>", "<td>1.1</td>", "<td>hello</td>", "<td>crashy</td>", "<code>/hello/{name}</code>",
                             "none since start"})
        EXPECT_NE(page.body.find(part), std::string::npos) << part << "\n" << page.body;
    EXPECT_EQ(get(host->admin_port(), "/dashboard").body.substr(0, 15), "<!doctype html>");

    const auto hello_requests = [&] {
        const auto j = get(host->admin_port(), "/dashboard.json").json();
        for (const auto& route : j["routes"])
            if (route["route"] == "/hello/{name}") return route["requests"].get<long long>();
        return 0LL;
    };
    const long long before = hello_requests();
    for (int i = 0; i < 7; ++i) ASSERT_EQ(get(host->port(), "/hello/dash").status, 200);
    EXPECT_EQ(hello_requests(), before + 7);

    host->process().signal(SIGHUP);
    ASSERT_TRUE(host->wait_for_log("reloaded: generation 2", 20s)) << host->err();
    nlohmann::json j;
    for (int i = 0; i < 100; ++i) {  // the supervisor's loop updates the serving generation after the log line
        j = get(host->admin_port(), "/dashboard.json").json();
        if (j["generation"] == 2) break;
        std::this_thread::sleep_for(20ms);
    }
    EXPECT_EQ(j["generation"], 2);
    EXPECT_EQ(j["reloads"]["ok"], 1);
    EXPECT_EQ(j["last_reload"]["ok"], true);
    EXPECT_EQ(j["last_reload"]["message"], "generation 2 serves with 2 workers");
    // A worker's crash shows as a restart of its slot.
    EXPECT_TRUE(request_gets_no_answer(host->port(), "/crashy/segv"));
    std::uint64_t restarts = 0;
    for (int i = 0; i < 100 && restarts == 0; ++i) {
        const auto state = get(host->admin_port(), "/dashboard.json").json();
        for (const auto& w : state["workers"]) restarts += w["restarts"].get<std::uint64_t>();
        if (restarts == 0) std::this_thread::sleep_for(50ms);
    }
    EXPECT_EQ(restarts, 1u) << get(host->admin_port(), "/dashboard.json").body;
    EXPECT_EQ(get(host->admin_port(), "/dashboard.json").json()["restarts"]["crash"], 1);
}

TEST(Service, CrashingHandlersTakeDownOnlyTheirWorker) {
    auto host = Host::start(kHelloAndCrashy, two_workers());
    ASSERT_TRUE(wait_ready(*host));
    LoadClient load(host->port(), "/hello/load", 8);
    std::this_thread::sleep_for(300ms);

    ASSERT_TRUE(request_gets_no_answer(host->port(), "/crashy/segv"));
    // Every request the worker was running is named (another thread may have been busy too).
    ASSERT_TRUE(host->wait_for_log("killed by SIGSEGV while running ", 10s)) << host->err();
    EXPECT_TRUE(host->wait_for_log("GET /crashy/segv (route /crashy/segv, plugin crashy, request id ")) << host->err();
    const auto segv_ready = wait_ready(*host);
    ASSERT_TRUE(segv_ready) << host->err();

    ASSERT_TRUE(request_gets_no_answer(host->port(), "/crashy/abort"));
    // Every request the worker was running is named (another thread may have been busy too).
    ASSERT_TRUE(host->wait_for_log("killed by SIGABRT while running ", 10s)) << host->err();
    EXPECT_TRUE(host->wait_for_log("GET /crashy/abort (route /crashy/abort, plugin crashy, request id ")) << host->err();
    const auto abort_ready = wait_ready(*host);
    ASSERT_TRUE(abort_ready) << host->err();
    std::cout << "[crash] replacement serving after " << segv_ready->count() << " ms (SIGSEGV), "
              << abort_ready->count() << " ms (SIGABRT)\n";
    EXPECT_LT(*segv_ready, 3s);
    EXPECT_LT(*abort_ready, 3s);

    // Once the replacements serve, nothing fails any more.
    const LoadCounts before = load.snapshot();
    std::this_thread::sleep_for(1s);
    const LoadCounts after = load.stop();
    EXPECT_EQ(after.failed, before.failed) << after.describe();
    EXPECT_GT(after.ok, before.ok);
    // Failures only on connections that a dead worker held: at most every
    // load connection once per crash; every new connection succeeded.
    EXPECT_LE(after.failed, 16u) << after.describe();
    EXPECT_EQ(after.refused, 0u) << after.describe();
    EXPECT_EQ(after.non_2xx, 0u) << after.describe();
    std::cout << "[crash] load: " << after.describe() << "\n";

    const Exposition m = scrape(*host);
    EXPECT_EQ(m.value("trellis_worker_restarts_total", {{"reason", "crash"}}), 2);
    EXPECT_EQ(m.value("trellis_workers", {{"state", "ready"}}), 2);
}

TEST(Service, AWorkerThatCrashesInInitBacksOffAndRecovers) {
    TempDir flags;
    const fs::path trigger = flags.path() / "crash-now";
    const std::string plugins = "  hello: {mount: /}\n  crashy:\n    mount: /\n    settings: {crash_in_init_if_exists: " +
                                trigger.string() + "}\n";
    auto host = Host::start(plugins, two_workers());
    ASSERT_TRUE(wait_ready(*host));

    flags.write("crash-now", "");
    ASSERT_TRUE(request_gets_no_answer(host->port(), "/crashy/segv"));
    // Replacements now die while loading: the supervisor backs off instead of forking in a loop.
    ASSERT_TRUE(host->wait_for_log("killed by SIGSEGV before it was ready", 10s)) << host->err();
    ASSERT_TRUE(host->wait_for_log("backing off: 3 workers in a row died within 5.0 s of starting; next start in 1.0 s", 10s))
        << host->err();
    const Response ready = get(host->admin_port(), "/readyz");
    EXPECT_EQ(ready.status, 503);
    EXPECT_NE(ready.json().value("detail", "").find("backing off"), std::string::npos) << ready.dump();
    // The other worker serves throughout.
    EXPECT_EQ(get(host->port(), "/hello/meanwhile").status, 200);

    fs::remove(trigger);
    const auto recovered = wait_ready(*host, 40s);
    ASSERT_TRUE(recovered) << host->err();
    EXPECT_EQ(get(host->port(), "/crashy/pid").status, 200);
}

TEST(Service, AHungHandlerIsKilledAfterWorkerTimeout) {
    auto host = Host::start(kHelloAndCrashy, two_workers("  worker_timeout: 1s\n"));
    ASSERT_TRUE(wait_ready(*host));
    ASSERT_TRUE(request_gets_no_answer(host->port(), "/crashy/loop"));
    EXPECT_TRUE(host->wait_for_log("GET /crashy/loop (route /crashy/loop, plugin crashy, request id ")) << host->err();
    EXPECT_TRUE(host->wait_for_log("longer than server.worker_timeout (1.0 s): killing the worker")) << host->err();
    // Reaped (readiness alone may still count the killed worker as serving).
    ASSERT_TRUE(host->wait_for_log("was killed after server.worker_timeout", 10s)) << host->err();
    ASSERT_TRUE(wait_ready(*host)) << host->err();
    const Exposition m = scrape(*host);
    EXPECT_EQ(m.value("trellis_worker_restarts_total", {{"reason", "timeout"}}), 1);
    EXPECT_EQ(get(host->port(), "/hello/again").status, 200);
}

TEST(Service, SigtermDrainsRequestsInFlightAndExitsZero) {
    HostOptions options = two_workers("  shutdown_grace: 5s\n  drain_delay: 300ms\n");
    auto host = Host::start(kHelloAndCrashy, options);
    ASSERT_TRUE(wait_ready(*host));

    // Slow requests in flight when the signal arrives.
    std::vector<std::thread> slow;
    std::atomic<int> slow_ok{0}, slow_failed{0};
    for (int i = 0; i < 4; ++i)
        slow.emplace_back([&] {
            try {
                Connection c(host->port());
                const Response r = c.request("GET", "/crashy/slow?ms=1500");
                (r.status == 200 ? slow_ok : slow_failed)++;
            } catch (const std::exception&) {
                slow_failed++;
            }
        });
    LoadClient load(host->port(), "/hello/load", 4);
    std::this_thread::sleep_for(400ms);

    // Watch readiness and the port while stopping.
    std::atomic<bool> watching{true};
    std::atomic<long long> first_503_us{-1}, first_refused_us{-1};
    const auto t0 = Clock::now();
    const auto since = [&] { return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count(); };
    std::thread readiness([&] {
        while (watching && first_503_us < 0) {
            try {
                if (get(host->admin_port(), "/readyz").status == 503) first_503_us = since();
            } catch (const std::exception&) {
            }
        }
    });
    std::thread port([&] {
        while (watching && first_refused_us < 0) {
            if (!port_accepts(host->port())) first_refused_us = since();
            std::this_thread::sleep_for(1ms);
        }
    });

    // From now on the load behaves like a client behind a balancer: a
    // connection the server closes is not reopened here (new connections
    // are refused once the port closes; what counts is that every request
    // already sent on an open connection is answered).
    load.stop_reconnecting();
    host->process().signal(SIGTERM);
    const auto status = host->process().wait_for(8s);
    watching = false;
    readiness.join();
    port.join();
    for (auto& t : slow) t.join();
    const LoadCounts counts = load.stop();

    ASSERT_TRUE(status) << "still running 8 s after SIGTERM\n" << host->err();
    EXPECT_TRUE(status->exited && status->code == 0) << status->describe() << "\n" << host->err();
    EXPECT_EQ(slow_ok, 4) << host->err();
    EXPECT_EQ(slow_failed, 0);
    // Requests already sent all got their answer.
    EXPECT_EQ(counts.failed, 0u) << counts.describe();
    EXPECT_EQ(counts.refused, 0u) << counts.describe();
    EXPECT_EQ(counts.non_2xx, 0u) << counts.describe();
    ASSERT_GE(first_503_us.load(), 0) << "readiness never failed";
    ASSERT_GE(first_refused_us.load(), 0) << "the port never closed";
    // Readiness failed first, and the port kept serving for server.drain_delay.
    EXPECT_LT(first_503_us.load() + 200000, first_refused_us.load());
    EXPECT_TRUE(host->wait_for_log("readiness fails; draining starts in 0.3 s (server.drain_delay)"));
    EXPECT_TRUE(host->wait_for_log("[supervisor] stopped")) << host->err();
}

// sd_notify through a real datagram socket, as systemd would read it.
class NotifySocket {
public:
    explicit NotifySocket(const fs::path& path) : path_(path) {
        fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) throw std::runtime_error("bind notify");
        timeval tv{0, 100000};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        reader_ = std::thread([this] {
            char buf[4096];
            while (running_) {
                const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
                if (n <= 0) continue;
                std::lock_guard lock(mutex_);
                messages_.push_back({Clock::now(), std::string(buf, static_cast<std::size_t>(n))});
            }
        });
    }
    ~NotifySocket() {
        running_ = false;
        reader_.join();
        ::close(fd_);
    }
    struct Message {
        Clock::time_point at;
        std::string text;
    };
    std::vector<Message> messages() const {
        std::lock_guard lock(mutex_);
        return messages_;
    }
    bool wait_for(const std::string& needle, std::chrono::milliseconds timeout = 10s) const {
        const auto deadline = Clock::now() + timeout;
        while (Clock::now() < deadline) {
            for (const auto& m : messages())
                if (m.text.find(needle) != std::string::npos) return true;
            std::this_thread::sleep_for(10ms);
        }
        return false;
    }
    std::size_t count(const std::string& text) const {
        std::size_t n = 0;
        for (const auto& m : messages()) n += m.text == text;
        return n;
    }

private:
    fs::path path_;
    int fd_ = -1;
    std::atomic<bool> running_{true};
    mutable std::mutex mutex_;
    std::vector<Message> messages_;
    std::thread reader_;
};

TEST(Service, TalksToSystemdThroughNotifySocket) {
    TempDir dir;
    NotifySocket notify(dir.path() / "notify.sock");
    ::setenv("NOTIFY_SOCKET", (dir.path() / "notify.sock").c_str(), 1);
    ::setenv("WATCHDOG_USEC", "400000", 1);  // a WATCHDOG=1 every 200 ms
    auto host = Host::start("  hello: {mount: /}\n", two_workers());
    ::unsetenv("NOTIFY_SOCKET");
    ::unsetenv("WATCHDOG_USEC");

    ASSERT_TRUE(notify.wait_for("READY=1")) << host->err();
    EXPECT_TRUE(notify.wait_for("STATUS=generation 1: 2/2 workers ready"));
    const std::size_t pings_before = notify.count("WATCHDOG=1");
    std::this_thread::sleep_for(2s);
    const std::size_t pings = notify.count("WATCHDOG=1") - pings_before;
    // About 10 in 2 s; the lower bound leaves room for a loaded machine (a
    // full -j2 run once saw fewer than 6), it only has to show they repeat.
    EXPECT_GE(pings, 3u) << "about 10 expected in 2 s";
    EXPECT_LE(pings, 14u) << "about 10 expected in 2 s";

    host->process().signal(SIGHUP);
    ASSERT_TRUE(notify.wait_for("RELOADING=1")) << host->err();
    const auto messages = notify.messages();
    bool monotonic = false;
    for (const auto& m : messages)
        if (m.text.find("RELOADING=1") != std::string::npos)
            monotonic = std::regex_search(m.text, std::regex("\nMONOTONIC_USEC=[0-9]+$"));
    EXPECT_TRUE(monotonic) << "RELOADING=1 comes with MONOTONIC_USEC";
    ASSERT_TRUE(host->wait_for_log("reloaded: generation 2", 20s)) << host->err();
    EXPECT_TRUE(notify.wait_for("STATUS=generation 2: 2/2 workers ready"));
    EXPECT_GE(notify.count("READY=1"), 2u);

    EXPECT_TRUE(host->stop(SIGTERM).exited);
    EXPECT_TRUE(notify.wait_for("STOPPING=1"));
}

TEST(Service, MetricsAddUpAcrossWorkersAndRestarts) {
    auto host = Host::start(kHelloAndCrashy, two_workers());
    ASSERT_TRUE(wait_ready(*host));
    // Fresh connections, so that both workers take some.
    std::set<int> pids;
    for (int i = 0; i < 40; ++i) {
        const Response r = get(host->port(), "/crashy/pid");
        ASSERT_EQ(r.status, 200);
        pids.insert(r.json()["pid"].get<int>());
    }
    for (int i = 0; i < 30; ++i) ASSERT_EQ(get(host->port(), "/hello/a").status, 200);
    for (int i = 0; i < 10; ++i) ASSERT_EQ(get(host->port(), "/nope").status, 404);
    for (int i = 0; i < 5; ++i) ASSERT_EQ(http(host->port(), "DELETE", "/hello/a").status, 405);
    // A request is counted just after its answer is sent: let the last ones
    // be counted before a crash takes their worker (and its thread) down.
    for (int i = 0; i < 200 && scrape(*host).sum("http_requests_total", {}) < 85; ++i)
        std::this_thread::sleep_for(10ms);
    ASSERT_TRUE(request_gets_no_answer(host->port(), "/crashy/segv"));
    ASSERT_TRUE(host->wait_for_log("killed by SIGSEGV")) << host->err();
    ASSERT_TRUE(wait_ready(*host));
    for (int i = 0; i < 20; ++i) ASSERT_EQ(get(host->port(), "/hello/b").status, 200);
    std::cout << "[metrics] /crashy/pid answered by " << pids.size() << " worker(s)\n";

    const Exposition m = scrape(*host);
    EXPECT_EQ(m.value("http_requests_total",
                      {{"method", "GET"}, {"route", "/hello/{name}"}, {"status", "200"}, {"plugin", "hello"}}),
              50);
    EXPECT_EQ(m.value("http_requests_total",
                      {{"method", "GET"}, {"route", "/crashy/pid"}, {"status", "200"}, {"plugin", "crashy"}}),
              40);
    EXPECT_EQ(m.value("http_requests_total",
                      {{"method", "GET"}, {"route", "(unmatched)"}, {"status", "404"}, {"plugin", "hello"}}),
              10);
    EXPECT_EQ(m.value("http_requests_total",
                      {{"method", "DELETE"}, {"route", "(unmatched)"}, {"status", "405"}, {"plugin", "hello"}}),
              5);
    // The crashed request never finished: it is in no counter.
    EXPECT_EQ(m.sum("http_requests_total", {{"route", "/crashy/segv"}}), 0);
    EXPECT_EQ(m.value("http_request_duration_seconds_count", {{"route", "/hello/{name}"}}), 50);
    EXPECT_EQ(m.value("http_request_duration_seconds_bucket", {{"route", "/hello/{name}"}, {"le", "+Inf"}}), 50);
    EXPECT_EQ(m.value("http_requests_in_flight"), 0);
    EXPECT_EQ(m.value("trellis_worker_restarts_total", {{"reason", "crash"}}), 1);
    EXPECT_EQ(m.value("trellis_workers", {{"state", "ready"}}), 2);
    EXPECT_EQ(m.value("trellis_plugin_info", {{"plugin", "crashy"}, {"version", "0.1.0"}, {"abi", "1.3"}}), 1);
    EXPECT_EQ(m.value("trellis_build_info", {{"version", "0.1.0"}, {"abi", "1.3"}}), 1);
    EXPECT_EQ(m.value("trellis_processes"), 3);
    EXPECT_GT(m.value("process_resident_memory_bytes").value_or(0), 0);
    EXPECT_EQ(m.types.at("http_requests_total"), "counter");
    EXPECT_EQ(m.types.at("http_request_duration_seconds"), "histogram");
}

TEST(Service, ReadinessFailsWhileTheDatabaseDoesNotAnswer) {
    HostOptions options = two_workers();
    // A database the host cannot open: its folder does not exist. (hello
    // has no models, so the service starts; only readiness can tell.)
    options.top_level_extra = "database:\n  url: \"sqlite:///nonexistent-trellis-dir/x.db\"\n";
    auto host = Host::start("  hello: {mount: /}\n", options);
    std::this_thread::sleep_for(500ms);
    const Response ready = get(host->admin_port(), "/readyz");
    EXPECT_EQ(ready.status, 503) << ready.dump();
    EXPECT_EQ(ready.header("Content-Type").value_or(""), "application/problem+json");
    EXPECT_NE(ready.json().value("detail", "").find("the database does not answer"), std::string::npos) << ready.dump();
    EXPECT_EQ(get(host->admin_port(), "/livez").status, 200);
    EXPECT_EQ(get(host->port(), "/hello/anyway").status, 200);
}

TEST(Service, ReadinessOnTheServingPortWhenConfigured) {
    auto host = Host::start("  hello: {mount: /}\n", two_workers("  readiness_path: /ready\n"));
    ASSERT_TRUE(wait_ready(*host));
    const Response r = get(host->port(), "/ready");
    EXPECT_EQ(r.status, 200) << r.dump();
    EXPECT_EQ(r.json()["status"], "ready");
}

TEST(Service, DuringDrainDelayReadinessFailsButRequestsAreServed) {
    auto host = Host::start("  hello: {mount: /}\n", two_workers("  readiness_path: /ready\n  drain_delay: 1s\n"));
    ASSERT_TRUE(wait_ready(*host));
    ASSERT_EQ(get(host->port(), "/ready").status, 200);
    host->process().signal(SIGTERM);
    ASSERT_TRUE(host->wait_for_log("readiness fails; draining starts in 1.0 s")) << host->err();
    const Response ready = get(host->port(), "/ready");
    EXPECT_EQ(ready.status, 503) << ready.dump();
    EXPECT_NE(ready.body.find("the service is stopping"), std::string::npos) << ready.body;
    EXPECT_EQ(get(host->admin_port(), "/readyz").status, 503);
    EXPECT_EQ(get(host->port(), "/hello/still").status, 200) << "balancers are given time: requests are still served";
    const auto status = host->process().wait_for(10s);
    ASSERT_TRUE(status);
    EXPECT_TRUE(status->exited && status->code == 0) << status->describe();
}

TEST(Service, WorkersZeroServesInOneProcess) {
    HostOptions options;
    options.server_extra = "  workers: 0\n";
    auto host = Host::start("  hello: {mount: /}\n", options);
    EXPECT_EQ(get(host->port(), "/hello/solo").status, 200);
    EXPECT_FALSE(host->wait_for_log("[supervisor]", 300ms)) << host->err();
    EXPECT_FALSE(port_accepts(host->admin_port())) << "no supervisor, no admin listener";
    EXPECT_TRUE(host->stop(SIGTERM).exited);
}

TEST(Service, AnAdminPortInUseIsRefusedAtStart) {
    const int busy = free_port();
    // Occupy the port for the duration of the test.
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(busy));
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ASSERT_EQ(::listen(fd, 8), 0);
    HostOptions options = two_workers();
    options.admin_port = busy;
    auto host = Host::launch("  hello: {mount: /}\n", options);
    const auto status = host->process().wait_for(10s);
    ::close(fd);
    ASSERT_TRUE(status);
    EXPECT_TRUE(status->exited && status->code == 1) << status->describe();
    EXPECT_NE(host->err().find("admin: cannot listen on 127.0.0.1:" + std::to_string(busy)), std::string::npos)
        << host->err();
}

}  // namespace
}  // namespace e2e
