// One immutable snapshot of the running configuration: the plugins, their
// routes and the router over them. Requests take the current snapshot and
// hold it until they finish, so a plugin is unloaded only when no request
// still uses it.
#pragma once

#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "config/operator_config.hpp"
#include "http/router.hpp"
#include "plugins/loader.hpp"

namespace trellis::plugins {

struct RouteEntry {
    LoadedPlugin* plugin;
    trellis_handler_fn handler;
    std::string method;
    std::string pattern;         // mount + manifest path
    std::string handler_symbol;  // for logs
};

struct Snapshot {
    std::vector<std::shared_ptr<LoadedPlugin>> plugins;  // first member: destroyed last
    std::vector<RouteEntry> routes;                      // Router targets index this
    http::Router router;
    config::ServerConfig server;
};

// Every reason the snapshot could not be built, one per entry.
class LoadError : public std::runtime_error {
public:
    explicit LoadError(std::vector<std::string> problems);
    const std::vector<std::string>& problems() const noexcept { return problems_; }

private:
    std::vector<std::string> problems_;
};

// Loads every enabled plugin, checks and registers its routes under its
// mount, then runs each plugin's init in configuration order. Collects all
// problems before throwing LoadError. `extra_plugin_dirs` come first in the
// search path (from --plugin-path).
std::shared_ptr<const Snapshot> build_snapshot(const config::OperatorConfig& config,
                                               const std::vector<std::filesystem::path>& extra_plugin_dirs);

}  // namespace trellis::plugins
