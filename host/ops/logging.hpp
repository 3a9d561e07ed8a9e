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
// Buffered: lines reach stderr in whole lines, at least once a second.
spdlog::logger& access_logger();
void init_access_log(bool json);
void flush_access_log();  // at stop, so that no line is left behind

}  // namespace trellis::ops
