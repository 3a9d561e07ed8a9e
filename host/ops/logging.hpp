// Host logging: one spdlog logger writing to stderr (journald picks it up
// under systemd). Plugins log through the ABI and are tagged with their name.
#pragma once

#include <string_view>

#include <spdlog/spdlog.h>
#include <trellis/abi.h>

namespace trellis::ops {

// Installs the default logger; `level` is one of trace, debug, info, warn,
// error, off. `process` tags every line ("supervisor", "worker 1.0") when
// the service runs several processes.
void init_logging(std::string_view level, std::string_view process = {});

spdlog::level::level_enum to_spdlog(trellis_log_level level) noexcept;

// The access log: one line per request, on stderr beside the host log. In
// JSON format a line is the JSON object alone, so a collector can parse it.
// Buffered per thread: lines reach stderr in whole lines, at least once a
// second. Starts the flusher (log_access() does on first use).
void init_access_log();

// What one access-log line says. A request refused before it was routed
// (bad framing, limits) has `refused` set and no method, route or id.
struct AccessEntry {
    std::string_view remote;
    std::string_view method;
    std::string_view path;
    std::string_view route;   // the matched template; empty: none
    std::string_view plugin;  // the owning plugin instance; empty: none
    std::string_view request_id;
    std::string_view refused;  // why it was refused; empty for answered requests
    int status = 0;
    std::size_t bytes = 0;     // body bytes sent
    double duration_ms = 0;
};
// Writes the line, as text or as one JSON object: the one formatter.
void log_access(const AccessEntry& entry, bool json);
void flush_access_log();  // at stop, so that no line is left behind

}  // namespace trellis::ops
