// The commands of the `trellis` executable, apart from parsing the command
// line (main.cpp): check, migrate, serve (one process, or the supervisor),
// and the hidden `worker` that the supervisor starts.
#pragma once

#include <string>
#include <vector>

namespace trellis::service {

struct CommandOptions {
    std::string config = "/etc/trellis/trellis.yaml";
    std::vector<std::string> plugin_dirs;
};

struct WorkerOptions {
    int listen_fd = -1;  // the supervisor's serving socket
    int block_fd = -1;   // the worker's shared-memory block
    std::string name;    // "<generation>.<index>", for logs
};

int check(const CommandOptions& options);
int migrate(const CommandOptions& options);
int serve(const CommandOptions& options);
int worker(const CommandOptions& options, const WorkerOptions& worker);

}  // namespace trellis::service
