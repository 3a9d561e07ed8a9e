// The commands of the `trellis` executable, apart from parsing the command
// line (main.cpp): check, migrate, serve (one process, or the supervisor),
// and the hidden `worker` that the supervisor starts.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/operator_config.hpp"

namespace trellis::app {
struct Snapshot;
}

namespace trellis::service {

struct CommandOptions {
    std::string config = "/etc/trellis/trellis.yaml";
    std::vector<std::string> plugin_dirs;
    std::string format = "text";  // check, routes, plugins: text | json
};

struct WorkerOptions {
    int listen_fd = -1;  // the supervisor's serving socket
    int block_fd = -1;   // the worker's shared-memory block
    std::string name;    // "<generation>.<index>", for logs
};

int check(const CommandOptions& options);  // --format json: {ok, problems: [{file, line, column, path, message}]}
int migrate(const CommandOptions& options);
int serve(const CommandOptions& options);
int worker(const CommandOptions& options, const WorkerOptions& worker);

// For the other commands (tools.cpp): the operator configuration, and the
// configuration with its plugins loaded as `check` loads them; both print
// every problem on stderr and return nothing on failure.
std::optional<config::OperatorConfig> read_operator_config(const CommandOptions& options);
std::shared_ptr<const app::Snapshot> load_quietly(const CommandOptions& options);

// What a single serving process (serve with workers: 0, lambda) does before
// it serves: configuration and plugins loaded, pending migrations applied,
// every problem logged (and added to `problems` when given); null on failure.
std::shared_ptr<const app::Snapshot> load_for_serving(const CommandOptions& options,
                                                      std::string_view process_name = {},
                                                      std::vector<std::string>* problems = nullptr);

}  // namespace trellis::service
