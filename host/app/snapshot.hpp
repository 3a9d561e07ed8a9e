// One immutable snapshot of the running configuration: the plugins, their
// routes and the router over them. Requests take the current snapshot and
// hold it until they finish, so a plugin is unloaded only when no request
// still uses it.
#pragma once

#include <array>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "config/operator_config.hpp"
#include "app/router.hpp"
#include "db/database.hpp"
#include "db/migrations.hpp"
#include "app/resources.hpp"
#include "app/static_files.hpp"
#include "plugins/loader.hpp"

namespace trellis::app {

using plugins::LoadedPlugin;

// A hook or error handler bound to the plugin that exports it.
struct BoundHandler {
    LoadedPlugin* plugin = nullptr;
    trellis_handler_fn fn = nullptr;
    std::string symbol;  // for logs
};

using HookKind = config::HookSpec::Kind;
inline constexpr std::size_t kHookKinds = 3;  // before_request, after_request, teardown
using HookLists = std::array<std::vector<BoundHandler>, kHookKinds>;
inline std::size_t hook_index(HookKind kind) noexcept { return static_cast<std::size_t>(kind); }

// One enabled plugin where the operator mounted it.
struct Mount {
    LoadedPlugin* plugin;
    std::string prefix;      // "/" or "/api/notes"
    HookLists own_hooks;     // scope: plugin
    std::shared_ptr<const StaticSite> site;  // the plugin's `static` directory, if any
    std::string site_prefix;                       // where the site appears: mount + static.path
    // True when `path` is under this mount ("/api/notes" and "/api/notes/..." are).
    bool contains(std::string_view path) const noexcept;
};

// An operator `errors` entry, resolved.
struct AppError {
    config::AppErrorSpec spec;
    BoundHandler handler;  // Kind::Handler only
};

struct RouteEntry {
    LoadedPlugin* plugin;
    const Mount* mount;
    trellis_handler_fn handler;
    std::string method;
    std::string pattern;         // mount + manifest path
    std::string handler_symbol;  // for logs
    std::shared_ptr<const Resource> resource;  // resource routes: the collection they serve
    const config::RouteSpec* spec = nullptr;   // manifest routes: their declaration (in plugin->manifest)
};

struct Snapshot {
    std::vector<std::shared_ptr<LoadedPlugin>> plugins;  // first member: destroyed last
    std::vector<Mount> mounts;                           // configuration order
    std::vector<RouteEntry> routes;                      // Router targets index this
    Router router;
    HookLists app_hooks;                                 // scope: app, configuration order
    std::vector<AppError> app_errors;
    config::ServerConfig server;
    config::LoggingConfig logging;
    std::shared_ptr<db::Database> database;  // shared with later snapshots
    std::vector<db::PluginSchema> schemas;   // migrations of every plugin, configuration order
    config::OpenApiConfig openapi;
    std::string openapi_json;                // the OpenAPI document (app/openapi.hpp), serialized once
                                             // when openapi.enabled: served at openapi.path

    // The mount that owns a path no route matched: the longest prefix.
    const Mount* owner_of(std::string_view path) const noexcept;
    // The operator's answer for a failed status: exact status before class.
    const AppError* app_error_for(int status) const noexcept;
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

}  // namespace trellis::app
