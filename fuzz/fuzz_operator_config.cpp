// libFuzzer: the operator's configuration file. Anything is either a
// configuration or a ConfigError with positions; no other exception may
// escape (an operator must never see a library's exception text).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "config/operator_config.hpp"

namespace {
std::filesystem::path scratch_file() {
    static const std::filesystem::path dir = [] {
        auto d = std::filesystem::temp_directory_path() / ("trellis-fuzz-config-" + std::to_string(::getpid()));
        std::filesystem::create_directories(d);
        return d;
    }();
    return dir / "trellis.yaml";
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto file = scratch_file();
    {
        std::ofstream out(file, std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    }
    try {
        const auto config = trellis::config::load_operator_config(file);
        (void)trellis::config::resolved_workers(config);
    } catch (const trellis::config::ConfigError& e) {
        for (const auto& d : e.diagnostics())
            if (d.message.empty()) __builtin_trap();
    }
    return 0;
}
