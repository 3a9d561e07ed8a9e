#include "ops/signals.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <ctime>
#include <string>

#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

namespace trellis::ops {

namespace {
sigset_t stop_signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    return set;
}
}  // namespace

void block_stop_signals() {
    sigset_t set = stop_signals();
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    // A client that disconnects mid-write must not kill the host.
    std::signal(SIGPIPE, SIG_IGN);
}

int wait_for_stop_signal() {
    sigset_t set = stop_signals();
    // Alone (server.workers: 0) under a systemd watchdog, this thread pings it.
    const auto interval = watchdog_interval();
    for (;;) {
        int sig = 0;
        if (interval.count() > 0) {
            const timespec wait{static_cast<time_t>(interval.count() / 1000),
                                static_cast<long>(interval.count() % 1000) * 1000000L};
            sig = sigtimedwait(&set, nullptr, &wait);
            if (sig < 0) {
                if (errno == EAGAIN) notify_systemd("WATCHDOG=1");
                continue;
            }
        } else if (sigwait(&set, &sig) != 0) {
            continue;
        }
        if (sig == SIGHUP) {
            spdlog::warn("SIGHUP received: reload needs the supervisor (server.workers > 0); this single process keeps its configuration");
            continue;
        }
        return sig;
    }
}

void notify_systemd(std::string_view state) {
    sd_notify(0, std::string(state).c_str());
}

void notify_systemd_reloading() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    const auto usec = static_cast<unsigned long long>(ts.tv_sec) * 1000000ULL + static_cast<unsigned long long>(ts.tv_nsec) / 1000ULL;
    notify_systemd("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec));
}

std::chrono::milliseconds watchdog_interval() {
    std::uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return std::chrono::milliseconds(0);
    return std::chrono::milliseconds(std::max<std::uint64_t>(usec / 2000, 1));
}

}  // namespace trellis::ops
