// What a plugin instance is to the host behind the ABI's opaque
// trellis_plugin_ctx handle: its names, version, file, validated settings
// and the state pointer the plugin handed over.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <string>

// One loaded plugin instance, as plugins see it (opaque to them).
struct trellis_plugin_ctx {
    std::string name;     // the instance: its key under the operator's `plugins:`
    std::string library;  // the plugin itself (its manifest's `plugin:`); equals name unless mounted twice
    std::string version;
    std::filesystem::path file;
    std::map<std::string, std::string, std::less<>> settings; // validated, defaults applied
    std::string last_error;  // the last line it logged at error level (init failures quote it)
    void* state = nullptr;  // ABI 1.2: the plugin's own, set with plugin_set_state; never touched by the host
};
