// What a plugin instance is to the host behind the ABI's opaque
// trellis_plugin_ctx handle: its name, version, file and validated settings.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <string>

// One loaded plugin instance, as plugins see it (opaque to them).
struct trellis_plugin_ctx {
    std::string name;
    std::string version;
    std::filesystem::path file;
    std::map<std::string, std::string, std::less<>> settings; // validated, defaults applied
};
