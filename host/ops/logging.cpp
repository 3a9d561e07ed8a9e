#include "ops/logging.hpp"

#include <unistd.h>

#include <mutex>
#include <string>

#include <nlohmann/json.hpp>
#include <spdlog/sinks/base_sink.h>
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

// The access log, buffered like nginx's `access_log ... buffer= flush=`:
// lines collect in memory and go to stderr in whole lines, when 32 KiB have
// gathered or once a second (spdlog::flush_every), instead of one write(2)
// per request. Up to a second of lines is lost if the process is killed.
class BufferedStderrSink final : public spdlog::sinks::base_sink<std::mutex> {
public:
    ~BufferedStderrSink() override { write_out(); }

protected:
    void sink_it_(const spdlog::details::log_msg& msg) override {
        spdlog::memory_buf_t formatted;
        formatter_->format(msg, formatted);
        buffer_.append(formatted.data(), formatted.size());
        if (buffer_.size() >= 32 * 1024) write_out();
    }
    void flush_() override { write_out(); }

private:
    void write_out() {
        std::size_t done = 0;
        while (done < buffer_.size()) {
            const ssize_t n = ::write(STDERR_FILENO, buffer_.data() + done, buffer_.size() - done);
            if (n <= 0) break;  // stderr gone: nothing better to do with the lines
            done += static_cast<std::size_t>(n);
        }
        buffer_.clear();
    }
    std::string buffer_;
};
}  // namespace

void init_access_log(bool json) {
    spdlog::drop("access");
    g_access = std::make_shared<spdlog::logger>("access", std::make_shared<BufferedStderrSink>());
    spdlog::register_logger(g_access);
    g_access->set_pattern(json ? "%v" : "%Y-%m-%d %H:%M:%S.%e %v");
    g_access->set_level(spdlog::level::info);
    spdlog::flush_every(std::chrono::seconds(1));
}

void flush_access_log() {
    if (g_access) g_access->flush();
}

void log_access(const AccessEntry& e, bool json) {
    if (!g_access) init_access_log(json);
    const auto or_dash = [](std::string_view v) { return v.empty() ? std::string_view("-") : v; };
    if (json) {
        nlohmann::ordered_json line = {{"remote", e.remote}};
        if (e.refused.empty()) {
            line.update({{"method", e.method}, {"path", e.path}, {"route", or_dash(e.route)},
                         {"plugin", or_dash(e.plugin)}, {"status", e.status}, {"bytes", e.bytes},
                         {"duration_ms", e.duration_ms}, {"request_id", e.request_id}});
        } else {
            line.update({{"path", e.path}, {"status", e.status}, {"refused", e.refused}});
        }
        g_access->info("{}", line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
    } else if (e.refused.empty()) {
        g_access->info("access {} \"{} {}\" {} {} {:.3f}ms route={} plugin={} id={}", e.remote, e.method, e.path,
                       e.status, e.bytes, e.duration_ms, or_dash(e.route), or_dash(e.plugin), e.request_id);
    } else {
        g_access->info("access {} \"- {}\" {} refused: {}", e.remote, or_dash(e.path), e.status, e.refused);
    }
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
