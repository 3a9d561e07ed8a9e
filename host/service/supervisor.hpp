// `trellis serve` with server.workers > 0: the supervisor. It never loads
// plugin code. It owns the serving socket and the admin listener, runs the
// workers (each a `trellis worker` process that loads the plugins and
// serves), replaces a worker that dies, kills one whose request runs past
// server.worker_timeout, reloads on SIGHUP by starting a new generation of
// workers and draining the old one, stops gracefully on SIGTERM/SIGINT and
// talks to systemd. docs/architecture.md ("Processes") tells the whole story.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "config/operator_config.hpp"

namespace trellis::service {

struct SupervisorOptions {
    std::filesystem::path config_file;
    std::vector<std::string> plugin_dirs;  // --plugin-path, handed to every child
};

// Runs until stopped; returns the process exit code (0 after a graceful
// stop, 1 when the first generation could not be started).
int run_supervisor(const SupervisorOptions& options, config::OperatorConfig config);

}  // namespace trellis::service
