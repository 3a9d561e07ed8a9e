// Loading one plugin library and checking it against the ABI and its own
// manifest before any of its code other than the entry symbol runs.
#pragma once

#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/dll/shared_library.hpp>
#include <trellis/abi.h>

#include "config/manifest.hpp"
#include "config/operator_config.hpp"
#include "plugins/plugin_ctx.hpp"

namespace trellis::plugins {

// A refused plugin. The message names the file, the plugin and what to do.
class PluginError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class LoadedPlugin {
public:
    LoadedPlugin() = default;
    LoadedPlugin(const LoadedPlugin&) = delete;
    LoadedPlugin& operator=(const LoadedPlugin&) = delete;
    // Runs the plugin's shutdown if init succeeded; the library is unmapped
    // after that, when the last reference to this object is gone.
    ~LoadedPlugin();

    // Runs the plugin's init (once) with the host's function table, which
    // shutdown gets too. Throws PluginError if it fails.
    void init(const trellis_host_api* host_table);

    const std::string& name() const noexcept { return ctx.name; }        // the instance
    const std::string& plugin_name() const noexcept { return ctx.library; }  // the plugin it is an instance of

    boost::dll::shared_library library;  // first member: destroyed last
    const trellis_plugin_descriptor* descriptor = nullptr;
    config::Manifest manifest;
    std::vector<trellis_handler_fn> route_handlers;  // parallel to manifest.routes

    struct Hook {
        config::HookSpec spec;
        trellis_handler_fn fn;
    };
    std::vector<Hook> hooks;  // manifest order

    struct ErrorHandler {
        config::ErrorHandlerSpec spec;
        trellis_handler_fn fn;
    };
    std::vector<ErrorHandler> error_handlers;
    // The handler for a failed status: an exact status wins over a class.
    const ErrorHandler* error_handler_for(int status) const noexcept;
    trellis_plugin_ctx ctx;
    bool initialized = false;
    const trellis_host_api* host = nullptr;  // set by init; the host's, outlives the plugin
};

// Where plugin `name` lives: lib<name>.so in the first directory of
// `search_path` that has it. Throws PluginError listing the directories.
std::filesystem::path find_plugin(const std::string& name,
                                  const std::vector<std::filesystem::path>& search_path);

// Loads and checks a library as a plugin, without an operator's settings:
// entry symbol, descriptor size, ABI version, names, manifest, handler
// symbols. `entry` names the instance (and the plugin it must be). Runs no
// plugin code but the entry symbol; throws PluginError. `trellis inspect`.
std::shared_ptr<LoadedPlugin> open_plugin(const config::PluginConfig& entry, const std::filesystem::path& file);

// open_plugin(), then the operator's settings checked against the
// manifest's schema, and a warning for symbols that clash with the host's.
// Does not run init. Throws PluginError.
std::shared_ptr<LoadedPlugin> load_plugin(const config::PluginConfig& entry,
                                          const std::filesystem::path& file);

}  // namespace trellis::plugins
