// libFuzzer: a plugin manifest. Either a manifest or a ConfigError.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "config/manifest.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    try {
        (void)trellis::config::parse_manifest(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz");
    } catch (const trellis::config::ConfigError& e) {
        for (const auto& d : e.diagnostics())
            if (d.message.empty()) __builtin_trap();
    }
    return 0;
}
