#include "ops/logging.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>

namespace trellis::ops {

void init_logging(std::string_view level, std::string_view process) {
    spdlog::drop("trellis");
    auto logger = spdlog::stderr_color_mt("trellis");
    // Under systemd the journal adds its own timestamp; the level and the
    // message are what operators grep for.
    const std::string tag = process.empty() ? std::string() : "[" + std::string(process) + "] ";
    logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%-5l%$ " + tag + "%v");
    logger->set_level(spdlog::level::from_str(std::string(level)));
    spdlog::set_default_logger(std::move(logger));
}

namespace {
std::shared_ptr<spdlog::logger> g_access;
}

void init_access_log(bool json) {
    g_access = spdlog::stderr_color_mt("access");
    g_access->set_pattern(json ? "%v" : "%Y-%m-%d %H:%M:%S.%e %v");
    g_access->set_level(spdlog::level::info);
}

spdlog::logger& access_logger() {
    if (!g_access) init_access_log(false);
    return *g_access;
}

spdlog::level::level_enum to_spdlog(trellis_log_level level) noexcept {
    switch (level) {
        case TRELLIS_LOG_TRACE: return spdlog::level::trace;
        case TRELLIS_LOG_DEBUG: return spdlog::level::debug;
        case TRELLIS_LOG_INFO: return spdlog::level::info;
        case TRELLIS_LOG_WARN: return spdlog::level::warn;
        case TRELLIS_LOG_ERROR: return spdlog::level::err;
    }
    return spdlog::level::err;  // an out-of-range level from a plugin is still logged
}

}  // namespace trellis::ops
