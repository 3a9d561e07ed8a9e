// Signals and systemd. Pistache installs no signal handlers, so the host
// blocks the stop signals in every thread (call before any thread starts) and
// waits for them synchronously in the main thread.
#pragma once

#include <string_view>

namespace trellis::ops {

// Blocks SIGINT, SIGTERM and SIGHUP for this thread and every thread it starts.
void block_stop_signals();

// Waits for SIGINT or SIGTERM and returns its number. (SIGHUP is consumed and
// logged until configuration reload exists.)
int wait_for_stop_signal();

// Tells systemd our state ("READY=1", "STOPPING=1"); a no-op outside systemd.
void notify_systemd(std::string_view state);

}  // namespace trellis::ops
