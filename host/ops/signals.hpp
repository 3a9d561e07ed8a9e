// Signals and systemd. Pistache installs no signal handlers, so the host
// blocks the stop signals in every thread (call before any thread starts) and
// waits for them synchronously in the main thread.
#pragma once

#include <chrono>
#include <string_view>

namespace trellis::ops {

// Blocks SIGINT, SIGTERM and SIGHUP for this thread and every thread it starts.
void block_stop_signals();

// Waits for SIGINT or SIGTERM and returns its number. SIGHUP is consumed and
// logged (a single process does not reload; the supervisor does). Under a
// systemd watchdog (WATCHDOG_USEC), pings it meanwhile.
int wait_for_stop_signal();

// Tells systemd our state ("READY=1", "STOPPING=1"); a no-op outside systemd.
void notify_systemd(std::string_view state);
// "RELOADING=1" with MONOTONIC_USEC=, as systemd 253+ expects (252 ignores it).
void notify_systemd_reloading();
// Half of WATCHDOG_USEC when systemd's watchdog is on for this process, else 0.
std::chrono::milliseconds watchdog_interval();

}  // namespace trellis::ops
