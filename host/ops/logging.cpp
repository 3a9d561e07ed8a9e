#include "ops/logging.hpp"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <iterator>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <fmt/compile.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
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

// The access log, buffered like nginx's `access_log ... buffer= flush=`:
// each thread formats its lines into a buffer of its own (no lock shared
// with the other threads on the request path) and the lines go to stderr
// in whole lines when 32 KiB have gathered or once a second, instead of one
// write(2) per request. Up to a second of lines is lost if the process is
// killed.
constexpr std::size_t kFlushBytes = 32 * 1024;

struct ThreadLines {
    std::mutex mutex;  // taken by its thread per line, by the flusher once a second
    std::string lines;
    std::time_t stamped_second = -1;  // the second `stamp` shows
    char stamp[24] = {};              // "YYYY-MM-DD HH:MM:SS", local time
};

class AccessLog {
public:
    // Never destroyed: threads may still log while the process exits; the
    // lines left are written at exit (and at stop, flush_access_log()).
    static AccessLog& instance() {
        static AccessLog* log = new AccessLog;
        return *log;
    }

    // Starts the once-a-second flusher (a detached thread: it runs until
    // the process ends).
    void start() {
        std::call_once(started_once_, [] {
            std::atexit([] { instance().flush_all(); });
            std::thread([] {
                for (;;) {
                    std::this_thread::sleep_for(std::chrono::seconds(1));
                    instance().flush_all();
                }
            }).detach();
        });
    }

    bool started() const noexcept { return started_.load(std::memory_order_acquire); }
    void mark_started() noexcept { started_.store(true, std::memory_order_release); }

    // The calling thread's buffer, registered on first use.
    ThreadLines& mine() {
        thread_local Holder holder(*this);
        return *holder.lines;
    }

    // Hands a thread's lines over to stderr when enough have gathered.
    void written(ThreadLines& lines, std::unique_lock<std::mutex>& held) {
        if (lines.lines.size() < kFlushBytes) return;
        std::string out;
        out.swap(lines.lines);
        lines.lines.reserve(kFlushBytes + kFlushBytes / 4);
        held.unlock();
        write_out(out);
    }

    void flush_all() {
        std::vector<std::shared_ptr<ThreadLines>> all;
        {
            std::lock_guard lock(registry_mutex_);
            all = registry_;
        }
        for (auto& lines : all) flush(*lines);
    }

private:
    // Registers a thread's buffer; when the thread ends, its lines are
    // written and the buffer forgotten.
    struct Holder {
        explicit Holder(AccessLog& log) : log(log), lines(std::make_shared<ThreadLines>()) {
            std::lock_guard lock(log.registry_mutex_);
            log.registry_.push_back(lines);
        }
        ~Holder() {
            log.flush(*lines);
            std::lock_guard lock(log.registry_mutex_);
            std::erase(log.registry_, lines);
        }
        AccessLog& log;
        std::shared_ptr<ThreadLines> lines;
    };

    void flush(ThreadLines& lines) {
        std::string out;
        {
            std::lock_guard lock(lines.mutex);
            out.swap(lines.lines);
        }
        write_out(out);
    }

    // One writer at a time, so that the threads' blocks of whole lines do
    // not interleave on a pipe or the journal's socket.
    void write_out(const std::string& out) {
        std::lock_guard lock(write_mutex_);
        std::size_t done = 0;
        while (done < out.size()) {
            const ssize_t n = ::write(STDERR_FILENO, out.data() + done, out.size() - done);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) break;  // stderr gone: nothing better to do with the lines
            done += static_cast<std::size_t>(n);
        }
    }

    std::atomic<bool> started_{false};
    std::mutex registry_mutex_;
    std::vector<std::shared_ptr<ThreadLines>> registry_;
    std::mutex write_mutex_;
    std::once_flag started_once_;
};

// Formats at the end of `out`, the format string parsed at compile time
// (FMT_COMPILE): the string grows once per line to `bound` (at least what
// the line can take: the text arguments' sizes plus room for the literal
// text and the numbers), fmt writes through a plain pointer, and the string
// is cut back to what was written.
template <class Format, class... Args>
void append_compiled(std::string& out, std::size_t bound, const Format& format, const Args&... args) {
    const std::size_t old = out.size();
    out.resize(old + bound);
    char* end = fmt::format_to(out.data() + old, format, args...);
    out.resize(static_cast<std::size_t>(end - out.data()));
}

// Room in a line for its literal text and numbers (an int64 is 20 digits).
constexpr std::size_t kLineFixed = 192;

// "YYYY-MM-DD HH:MM:SS.mmm " as the host log writes its time, the date part
// formatted once a second per thread.
void stamp(ThreadLines& lines) {
    const auto now = std::chrono::system_clock::now();
    const auto since = now.time_since_epoch();
    const std::time_t second = std::chrono::duration_cast<std::chrono::seconds>(since).count();
    if (second != lines.stamped_second) {
        std::tm tm{};
        ::localtime_r(&second, &tm);
        std::strftime(lines.stamp, sizeof lines.stamp, "%Y-%m-%d %H:%M:%S", &tm);
        lines.stamped_second = second;
    }
    const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(since).count() % 1000;
    append_compiled(lines.lines, kLineFixed, FMT_COMPILE("{}.{:03} "), std::string_view(lines.stamp), millis);
}

}  // namespace

void init_access_log() {
    auto& log = AccessLog::instance();
    log.start();
    log.mark_started();
}

void flush_access_log() {
    if (AccessLog::instance().started()) AccessLog::instance().flush_all();
}

void log_access(const AccessEntry& e, bool json) {
    auto& log = AccessLog::instance();
    if (!log.started()) init_access_log();
    const auto or_dash = [](std::string_view v) { return v.empty() ? std::string_view("-") : v; };
    ThreadLines& lines = log.mine();
    std::unique_lock held(lines.mutex);
    if (json) {
        nlohmann::ordered_json line = {{"remote", e.remote}};
        if (e.refused.empty()) {
            line.update({{"method", e.method}, {"path", e.path}, {"route", or_dash(e.route)},
                         {"plugin", or_dash(e.plugin)}, {"status", e.status}, {"bytes", e.bytes},
                         {"duration_ms", e.duration_ms}, {"request_id", e.request_id}});
        } else {
            line.update({{"path", e.path}, {"status", e.status}, {"refused", e.refused}});
        }
        const std::string text = line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
        lines.lines.append(text);
        lines.lines.push_back('\n');
    } else if (e.refused.empty()) {
        stamp(lines);
        // Milliseconds with three decimals, from whole microseconds: integer
        // formatting, no floating-point conversion on the request path.
        const auto micros = static_cast<long long>(e.duration_ms * 1000.0 + 0.5);
        const std::size_t bound = kLineFixed + e.remote.size() + e.method.size() + e.path.size() + e.route.size() +
                                  e.plugin.size() + e.request_id.size();
        append_compiled(lines.lines, bound,
                        FMT_COMPILE("access {} \"{} {}\" {} {} {}.{:03}ms route={} plugin={} id={}\n"),
                        e.remote, e.method, e.path, e.status, e.bytes, micros / 1000, micros % 1000, or_dash(e.route),
                        or_dash(e.plugin), e.request_id);
    } else {
        stamp(lines);
        const std::size_t bound = kLineFixed + e.remote.size() + e.path.size() + e.refused.size();
        append_compiled(lines.lines, bound, FMT_COMPILE("access {} \"- {}\" {} refused: {}\n"), e.remote, or_dash(e.path),
                        e.status, e.refused);
    }
    log.written(lines, held);
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
