#include "ops/signals.hpp"

#include <csignal>
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
    for (;;) {
        int sig = 0;
        if (sigwait(&set, &sig) != 0) continue;
        if (sig == SIGHUP) {
            spdlog::warn("SIGHUP received: configuration reload is not supported yet; ignoring");
            continue;
        }
        return sig;
    }
}

void notify_systemd(std::string_view state) {
    sd_notify(0, std::string(state).c_str());
}

}  // namespace trellis::ops
