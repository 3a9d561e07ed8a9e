// The supervisor: one poll loop over signals, worker pipes, the admin
// listener and timers, and the state machine of generations and worker
// slots it drives (start, readiness, reload, drain, crash back-off, stop).
// Over 600 lines on purpose: every function here reads or changes that one
// loop's state, and cutting it in two would turn private state into an
// interface between files. docs/architecture.md ("Processes") walks through it.
#include "service/supervisor.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <list>
#include <memory>
#include <mutex>
#include <optional>

#include <nlohmann/json.hpp>
#include <soci/soci.h>
#include <spdlog/fmt/fmt.h>
#include <spdlog/spdlog.h>
#include <trellis/abi.h>

#include "db/database.hpp"
#include "front/admin_server.hpp"
#include "front/listen_socket.hpp"
#include "app/problem.hpp"
#include "ops/dashboard.hpp"
#include "ops/metrics_text.hpp"
#include "ops/signals.hpp"
#include "ops/worker_slots.hpp"

extern char** environ;

namespace trellis::service {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr int kListenFd = 3;  // where a worker finds the serving socket
constexpr int kBlockFd = 4;   // and its shared-memory block
constexpr milliseconds kTick{50};
constexpr milliseconds kHealthyAfter{5000};    // a worker that served this long resets the crash streak
constexpr milliseconds kBackoffFirst{500};
constexpr milliseconds kBackoffCap{30000};
constexpr milliseconds kStartTimeout{60000};   // a new generation must be ready within this
constexpr milliseconds kKillMargin{3000};      // past shutdown_grace, a draining worker is killed
constexpr milliseconds kSteerDelay{250};       // a slot steered away from is drained this much later

std::string signal_name(int sig) {
    const char* abbrev = sigabbrev_np(sig);
    return abbrev ? std::string("SIG") + abbrev : "signal " + std::to_string(sig);
}

std::string describe_exit(int status) {
    if (WIFSIGNALED(status)) return "killed by " + signal_name(WTERMSIG(status));
    return "exited with code " + std::to_string(WEXITSTATUS(status));
}

std::string seconds_text(milliseconds ms) {
    return fmt::format("{:.1f} s", static_cast<double>(ms.count()) / 1000.0);
}

// argv and envp prepared before fork: after fork only async-signal-safe calls.
struct ChildCommand {
    std::vector<std::string> args;
    std::vector<std::string> env;

    pid_t spawn(const std::vector<std::pair<int, int>>& fds) const {
        std::vector<char*> argv, envp;
        for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
        envp.push_back(nullptr);
        const pid_t parent = ::getpid();
        const pid_t pid = ::fork();
        if (pid != 0) return pid;
        // Child. A worker must not outlive its supervisor.
        ::prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (::getppid() != parent) ::_exit(127);
        // Its own process group: a terminal's Ctrl-C reaches the supervisor,
        // which drains the workers in order.
        ::setpgid(0, 0);
        for (const auto& [from, to] : fds) {
            if (from == to) {
                ::fcntl(from, F_SETFD, 0);  // keep it across exec
            } else if (::dup2(from, to) < 0) {
                ::_exit(127);
            }
        }
        ::close_range(static_cast<unsigned>(kBlockFd + 1), ~0U, 0);
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        ::execve("/proc/self/exe", argv.data(), envp.data());
        ::_exit(127);
    }
};

// Children get the supervisor's environment without systemd's notify and
// watchdog variables: only the supervisor talks to systemd.
std::vector<std::string> child_environment() {
    std::vector<std::string> env;
    for (char** e = environ; e && *e; ++e) {
        const std::string_view entry(*e);
        if (entry.starts_with("NOTIFY_SOCKET=") || entry.starts_with("WATCHDOG_USEC=") ||
            entry.starts_with("WATCHDOG_PID=") || entry.starts_with("LISTEN_"))
            continue;
        env.emplace_back(entry);
    }
    return env;
}

struct Worker {
    pid_t pid = -1;
    unsigned generation = 0;
    unsigned index = 0;  // its place in the generation (a replacement takes the same)
    std::unique_ptr<ops::WorkerBlockReader> block;
    Clock::time_point started;
    enum class State { Starting, Ready, Draining } state = State::Starting;
    std::optional<Clock::time_point> drain_at;  // SIGTERM due (no new connections are steered to it meanwhile)
    Clock::time_point drain_deadline;
    bool killed_for_timeout = false;
};

const char* state_name(Worker::State s) {
    switch (s) {
        case Worker::State::Starting: return "starting";
        case Worker::State::Ready: return "ready";
        case Worker::State::Draining: return "draining";
    }
    return "starting";
}

struct Generation {
    unsigned number = 0;
    config::OperatorConfig config;
    unsigned workers = 0;
    unsigned threads = 0;
    std::shared_ptr<front::ReusePortGroup> listeners;  // shared with the other generations on the same address
    bool promoted = false;              // it is (or was) the serving generation
    Clock::time_point start_deadline;
};

class Supervisor {
public:
    Supervisor(const SupervisorOptions& options, config::OperatorConfig config)
        : options_(options), env_(child_environment()), pending_config_(std::move(config)) {}

    int run();

private:
    // ---- children ----
    std::vector<std::string> common_args() const {
        std::vector<std::string> args{"--config", options_.config_file.string()};
        for (const auto& dir : options_.plugin_dirs) {
            args.push_back("--plugin-path");
            args.push_back(dir);
        }
        return args;
    }

    // The check code path plus migrations, in a process that does not serve.
    void start_prepare() {
        ChildCommand cmd{{"trellis", "migrate"}, env_};
        auto common = common_args();
        cmd.args.insert(cmd.args.end(), common.begin(), common.end());
        prepare_pid_ = cmd.spawn({});
        if (prepare_pid_ < 0) {
            spdlog::error("cannot start the preparation process: {}", std::strerror(errno));
            finish_prepare(false);
        }
    }

    void spawn_worker(Generation& gen, unsigned index) {
        Worker w;
        w.generation = gen.number;
        w.index = index;
        try {
            w.block = std::make_unique<ops::WorkerBlockReader>(gen.threads);
        } catch (const std::exception& e) {
            spdlog::error("cannot start worker {}.{}: {}", gen.number, index, e.what());
            return;
        }
        int listener = -1;
        try {
            listener = gen.listeners->socket(index);
        } catch (const std::exception& e) {
            spdlog::error("cannot start worker {}.{}: {}", gen.number, index, e.what());
            return;
        }
        ChildCommand cmd{{"trellis", "worker"}, env_};
        auto common = common_args();
        cmd.args.insert(cmd.args.end(), common.begin(), common.end());
        cmd.args.insert(cmd.args.end(), {"--listen-fd", std::to_string(kListenFd), "--block-fd", std::to_string(kBlockFd),
                                         "--name", std::to_string(gen.number) + "." + std::to_string(index)});
        w.pid = cmd.spawn({{listener, kListenFd}, {w.block->fd(), kBlockFd}});
        if (w.pid < 0) {
            spdlog::error("cannot start worker {}.{}: fork: {}", gen.number, index, std::strerror(errno));
            return;
        }
        w.started = Clock::now();
        spdlog::debug("worker {}.{} started as pid {}", gen.number, index, w.pid);
        std::lock_guard lock(mutex_);
        workers_.push_back(std::move(w));
    }

    // ---- generations ----
    void begin_generation(config::OperatorConfig config) {
        auto gen = std::make_unique<Generation>();
        gen->number = ++generation_counter_;
        gen->workers = std::max(1u, config::resolved_workers(config));
        gen->threads = config::resolved_threads(config.server);
        gen->start_deadline = Clock::now() + kStartTimeout;
        const bool same_address = current_ && current_->config.server.listen == config.server.listen &&
                                  current_->config.server.port == config.server.port;
        if (same_address) {
            gen->listeners = current_->listeners;
        } else {
            try {
                gen->listeners = std::make_shared<front::ReusePortGroup>(config.server.listen, config.server.port);
            } catch (const std::exception& e) {
                spdlog::error("{}", e.what());
                generation_failed(e.what());
                return;
            }
        }
        gen->config = std::move(config);
        next_ = std::move(gen);
        for (unsigned i = 0; i < next_->workers; ++i) spawn_worker(*next_, i);
        if (!current_)
            spdlog::info("listening on http://{}:{} with {} workers x {} threads", next_->config.server.listen,
                         next_->listeners->port(), next_->workers, next_->threads);
    }

    void generation_failed(const std::string& why) {
        if (!current_) {
            spdlog::error("not serving: {}", why);
            exit_code_ = 1;
            stopping_ = true;
            return;
        }
        spdlog::error("reload failed: {}; generation {} keeps serving", why, current_->number);
        count_reload(false, why);
        notify_ready();
    }

    // A new generation that will not become whole: workers still loading
    // are killed; those already serving (they take connections as soon as
    // they are ready) drain like an old generation, losing nothing.
    void abandon_next(const std::string& why) {
        const unsigned number = next_->number;
        const auto grace = next_->config.server.shutdown_grace;
        {
            std::lock_guard lock(mutex_);
            for (auto& w : workers_) {
                if (w.generation != number || w.pid <= 0) continue;
                if (w.state == Worker::State::Ready) {
                    w.drain_at = Clock::now();
                    w.drain_deadline = Clock::now() + grace + kKillMargin;
                } else if (w.state == Worker::State::Starting) {
                    ::kill(w.pid, SIGKILL);
                }
            }
        }
        next_.reset();
        steer();
        send_due_drains(Clock::now());
        generation_failed(why);
    }

    // Every worker of the next generation is ready: it becomes current and
    // the previous one drains.
    void promote_next() {
        auto old = std::move(current_);
        current_ = std::move(next_);
        current_->promoted = true;
        if (old) {
            // Slots the new generation has too are taken over at once (same
            // socket); a slot it no longer has is first steered away from,
            // then its worker accepts what is already queued before it drains.
            drain_generation(old->number, current_->config.server.shutdown_grace, current_->workers);
            spdlog::info("reloaded: generation {} serves with {} workers; generation {} drains", current_->number,
                         current_->workers, old->number);
            count_reload(true, fmt::format("generation {} serves with {} workers", current_->number, current_->workers));
        } else {
            spdlog::info("ready: generation {} serves with {} workers", current_->number, current_->workers);
        }
        {
            std::lock_guard lock(mutex_);
            plugins_ = first_ready_block_plugins(current_->number);
            plugin_routes_ = first_ready_block_routes(current_->number);
        }
        {
            // What the new configuration says about the supervisor itself.
            std::lock_guard lock(db_mutex_);
            if (!(db_config_.url == current_->config.database.url && db_config_.base_dir == current_->config.database.base_dir)) {
                db_config_ = current_->config.database;
                db_.reset();
                db_checked_until_ = {};
            }
        }
        spdlog::set_level(spdlog::level::from_str(current_->config.logging.level));
        failure_streak_ = 0;
        notify_ready();
    }

    std::vector<ops::PluginInfo> first_ready_block_plugins(unsigned generation) const {
        for (const auto& w : workers_)
            if (w.generation == generation && w.block->ready()) return w.block->plugins();
        return {};
    }

    std::vector<std::pair<std::string, std::string>> first_ready_block_routes(unsigned generation) const {
        for (const auto& w : workers_)
            if (w.generation == generation && w.block->ready()) return w.block->routes();
        return {};
    }

    // Asks the workers of a generation to drain; those with an index of
    // `keep_slots` or more only after kSteerDelay (see promote_next).
    void drain_generation(unsigned number, milliseconds grace, unsigned keep_slots = ~0u) {
        {
            std::lock_guard lock(mutex_);
            for (auto& w : workers_) {
                if (w.generation != number || w.state == Worker::State::Draining || w.drain_at) continue;
                w.drain_at = Clock::now() + (w.index < keep_slots ? milliseconds(0) : kSteerDelay);
                w.drain_deadline = *w.drain_at + grace + kKillMargin;
            }
        }
        steer();
        send_due_drains(Clock::now());
    }

    void send_due_drains(Clock::time_point now) {
        std::lock_guard lock(mutex_);
        for (auto& w : workers_) {
            if (!w.drain_at || *w.drain_at > now) continue;
            w.drain_at.reset();
            w.state = Worker::State::Draining;
            ::kill(w.pid, SIGTERM);
        }
    }

    // New connections only for slots with a serving worker that is not about to drain.
    void steer() {
        if (!current_ && !next_) return;
        const auto& group = current_ ? current_->listeners : next_->listeners;
        if (!group || group->size() == 0) return;
        std::vector<unsigned> live;
        {
            std::lock_guard lock(mutex_);
            for (const auto& w : workers_) {
                const bool in_group = (current_ && w.generation == current_->number && current_->listeners == group) ||
                                      (next_ && w.generation == next_->number && next_->listeners == group);
                if (in_group && w.state == Worker::State::Ready && !w.drain_at) live.push_back(w.index);
            }
        }
        std::sort(live.begin(), live.end());
        live.erase(std::unique(live.begin(), live.end()), live.end());
        // None serving yet (start-up, every worker restarting): queue for the
        // serving generation's own slots, never for a slot a smaller
        // generation left without a worker.
        if (live.empty()) {
            const Generation* gen = current_ ? current_.get() : next_.get();
            for (unsigned i = 0; i < gen->workers && i < group->size(); ++i) live.push_back(i);
        }
        if (live == steered_ && steered_group_ == group.get()) return;
        try {
            group->steer(live);
            steered_ = live;
            steered_group_ = group.get();
        } catch (const std::exception& e) {
            spdlog::warn("{}", e.what());
        }
    }

    // ---- events ----
    void on_child_exit(pid_t pid, int status) {
        if (pid == prepare_pid_) {
            prepare_pid_ = -1;
            const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
            if (!ok && WIFSIGNALED(status))
                spdlog::error("the preparation process (trellis migrate) was {} while loading the plugins",
                              describe_exit(status));
            finish_prepare(ok);
            return;
        }
        std::unique_lock lock(mutex_);
        auto it = std::find_if(workers_.begin(), workers_.end(), [&](const Worker& w) { return w.pid == pid; });
        if (it == workers_.end()) return;
        Worker w = std::move(*it);
        workers_.erase(it);
        w.block->add_totals(retired_);
        lock.unlock();
        steer();
        on_worker_exit(w, status);
    }

    void on_worker_exit(const Worker& w, int status) {
        const std::string name = std::to_string(w.generation) + "." + std::to_string(w.index);
        if (w.state == Worker::State::Draining) {
            spdlog::debug("worker {} (pid {}) {} after draining", name, w.pid, describe_exit(status));
            return;
        }
        if (stopping_) return;

        // Died unexpectedly: say what it was running.
        std::string doing;
        for (const auto& r : w.block->busy()) doing += (doing.empty() ? " while running " : "; and ") + r.describe();
        const bool before_ready = w.state == Worker::State::Starting;
        const std::string reason = w.killed_for_timeout ? "timeout" : WIFSIGNALED(status) ? "crash" : "exit";
        spdlog::error("worker {} (pid {}) {}{}{}", name, w.pid,
                      w.killed_for_timeout ? "was killed after server.worker_timeout" : describe_exit(status),
                      before_ready ? " before it was ready" : "", doing);

        const bool of_next = next_ && w.generation == next_->number;
        const bool of_current = current_ && w.generation == current_->number;
        if (of_next && !of_current) {
            if (!current_) {
                // The first generation: keep trying, with back-off (a
                // plugin may crash only some of the time, or the
                // database may come back).
                schedule_replacement(w, reason, before_ready);
                return;
            }
            abandon_next("worker " + name + " of the new generation " + describe_exit(status) + " before it was ready");
            return;
        }
        if (!of_current) return;
        schedule_replacement(w, reason, before_ready);
    }

    void schedule_replacement(const Worker& w, const std::string& reason, bool before_ready) {
        {
            std::lock_guard lock(mutex_);
            restarts_[reason] += 1;
            slot_restarts_[{w.generation, w.index}] += 1;
        }
        const bool healthy = !before_ready && Clock::now() - w.started >= kHealthyAfter;
        failure_streak_ = healthy ? 0 : failure_streak_ + 1;
        milliseconds delay{0};
        if (failure_streak_ > 1) {
            delay = kBackoffFirst * (1LL << std::min(failure_streak_ - 2, 10u));
            delay = std::min(delay, kBackoffCap);
            std::lock_guard lock(mutex_);
            backoff_ = fmt::format("backing off: {} workers in a row died within {} of starting; next start in {}",
                                   failure_streak_, seconds_text(kHealthyAfter), seconds_text(delay));
            spdlog::warn("{}", backoff_);
        }
        replacements_.push_back({Clock::now() + delay, w.generation, w.index});
    }

    void finish_prepare(bool ok) {
        config::OperatorConfig config = std::move(pending_config_);
        if (!ok) {
            const std::string why = "the configuration or its plugins were refused (messages above; `trellis check` shows the same)";
            if (!current_) {
                spdlog::error("not serving: {}", why);
                exit_code_ = 1;
                stopping_ = true;
            } else {
                spdlog::error("reload failed: {}; generation {} keeps serving", why, current_->number);
                count_reload(false, why);
                notify_ready();
            }
            return;
        }
        begin_generation(std::move(config));
    }

    void reload() {
        if (stopping_) return;
        if (prepare_pid_ > 0 || next_) {
            spdlog::warn("SIGHUP received while a reload is still in progress; ignoring");
            return;
        }
        spdlog::info("SIGHUP received: reloading {}", options_.config_file.string());
        ops::notify_systemd_reloading();
        try {
            pending_config_ = config::load_operator_config(options_.config_file);
        } catch (const config::ConfigError& e) {
            for (const auto& d : e.diagnostics()) spdlog::error("{}", d.str());
            spdlog::error("reload failed: the configuration has {} problem(s); generation {} keeps serving",
                          e.diagnostics().size(), current_ ? current_->number : 0);
            count_reload(false, fmt::format("the configuration has {} problem(s), the first: {}", e.diagnostics().size(),
                                            e.diagnostics().front().str()));
            notify_ready();
            return;
        }
        start_prepare();
    }

    void begin_stop(int sig) {
        if (stopping_) {
            spdlog::warn("{} received again: stopping at once", signal_name(sig));
            kill_all(SIGKILL);
            force_exit_ = true;
            return;
        }
        spdlog::info("{} received: draining requests and stopping", signal_name(sig));
        ops::notify_systemd("STOPPING=1");
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
            // Readiness on the serving port (server.readiness_path) fails now too.
            for (auto& w : workers_) w.block->set_service_stopping();
        }
        if (prepare_pid_ > 0) ::kill(prepare_pid_, SIGKILL);
        // Readiness fails now; balancers get server.drain_delay to notice
        // before the listener closes.
        const auto& server = current_ ? current_->config.server : pending_config_.server;
        drain_at_ = Clock::now() + server.drain_delay;
        if (server.drain_delay.count() > 0)
            spdlog::info("readiness fails; draining starts in {} (server.drain_delay)", seconds_text(server.drain_delay));
    }

    void start_stop_drain() {
        drain_at_.reset();
        const auto grace = current_ ? current_->config.server.shutdown_grace : pending_config_.server.shutdown_grace;
        stop_deadline_ = Clock::now() + grace + kKillMargin;
        {
            // Every worker now, including those a reload had scheduled for later.
            std::lock_guard lock(mutex_);
            for (auto& w : workers_) {
                if (w.state == Worker::State::Draining) continue;
                w.drain_at = Clock::now();
                w.drain_deadline = *w.drain_at + grace + kKillMargin;
            }
        }
        steer();
        send_due_drains(Clock::now());
        // No new connections: workers close their copies as they drain.
        for (Generation* gen : {current_.get(), next_.get()})
            if (gen && gen->listeners) gen->listeners->close_all();
    }

    void kill_all(int sig) {
        std::lock_guard lock(mutex_);
        for (const auto& w : workers_) ::kill(w.pid, sig);
        if (prepare_pid_ > 0) ::kill(prepare_pid_, sig);
    }

    void tick() {
        const auto now = Clock::now();
        std::vector<std::pair<unsigned, unsigned>> due;
        for (auto it = replacements_.begin(); it != replacements_.end();) {
            if (it->when <= now && !stopping_) {
                due.emplace_back(it->generation, it->index);
                it = replacements_.erase(it);
            } else {
                ++it;
            }
        }
        for (const auto& [generation, index] : due) {
            Generation* gen = current_ && current_->number == generation ? current_.get()
                              : next_ && next_->number == generation ? next_.get()
                                                                     : nullptr;
            if (gen) spawn_worker(*gen, index);
        }

        send_due_drains(now);
        bool any_ready_change = false;
        {
            std::lock_guard lock(mutex_);
            for (auto& w : workers_) {
                if (w.state == Worker::State::Starting && w.block->ready()) {
                    w.state = Worker::State::Ready;
                    any_ready_change = true;
                    spdlog::debug("worker {}.{} (pid {}) is serving", w.generation, w.index, w.pid);
                    backoff_.clear();
                }
                if (w.state == Worker::State::Draining && now >= w.drain_deadline) {
                    spdlog::warn("worker {}.{} (pid {}) still running {} past server.shutdown_grace: killing it",
                                 w.generation, w.index, w.pid, seconds_text(kKillMargin));
                    ::kill(w.pid, SIGKILL);
                    w.drain_deadline = now + std::chrono::hours(24);
                }
                check_hung(w);
            }
        }
        if (next_ && !stopping_) {
            if (generation_ready(next_->number, next_->workers)) {
                promote_next();
            } else if (now >= next_->start_deadline && current_) {
                abandon_next("the new generation was not ready within " + seconds_text(kStartTimeout));
            }
        }
        if (any_ready_change) {
            steer();
            update_status();
        }
        watchdog(now);
    }

    void check_hung(Worker& w) {
        if (w.state != Worker::State::Ready || w.killed_for_timeout) return;
        const Generation* gen = current_ && current_->number == w.generation ? current_.get() : next_.get();
        if (!gen) return;
        const auto limit = static_cast<std::uint64_t>(gen->config.server.worker_timeout.count()) * 1000000ULL;
        for (const auto& r : w.block->busy()) {
            if (r.running_ns <= limit) continue;
            spdlog::error("worker {}.{} (pid {}): {} has run for {}, longer than server.worker_timeout ({}): killing the worker",
                          w.generation, w.index, w.pid, r.describe(),
                          seconds_text(milliseconds(r.running_ns / 1000000ULL)),
                          seconds_text(gen->config.server.worker_timeout));
            w.killed_for_timeout = true;
            ::kill(w.pid, SIGKILL);
            return;
        }
    }

    bool generation_ready(unsigned number, unsigned expected) {
        std::lock_guard lock(mutex_);
        unsigned ready = 0;
        for (const auto& w : workers_)
            if (w.generation == number && w.state == Worker::State::Ready) ++ready;
        return ready >= expected;
    }

    // ---- systemd ----
    void notify_ready() {
        update_status();
        ops::notify_systemd("READY=1");
    }

    void update_status() {
        unsigned ready = 0, total = 0;
        std::uint64_t served = 0;
        {
            std::lock_guard lock(mutex_);
            ops::MetricTotals totals = retired_;
            for (const auto& w : workers_) {
                w.block->add_totals(totals);
                if (current_ && w.generation == current_->number) {
                    ++total;
                    if (w.state == Worker::State::Ready) ++ready;
                }
            }
            for (const auto& [labels, n] : totals.requests) served += n;
        }
        ops::notify_systemd(fmt::format("STATUS=generation {}: {}/{} workers ready, {} requests served",
                                        current_ ? current_->number : 0, ready, total, served));
    }

    void watchdog(Clock::time_point now) {
        if (watchdog_interval_.count() == 0 || now < next_watchdog_) return;
        // Only while the serving generation is whole: a supervisor that
        // cannot keep its workers up should be restarted by systemd. Checked
        // again at the next tick, so that a replaced worker costs no ping.
        if (!current_ || !generation_ready(current_->number, current_->workers)) return;
        next_watchdog_ = now + watchdog_interval_;
        ops::notify_systemd("WATCHDOG=1");
        update_status();
    }

    // ---- admin ----
    front::AdminAnswer admin_answer(std::string_view method, std::string_view path) {
        if (method != "GET" && method != "HEAD")
            return {405, std::string(app::kProblemContentType),
                    app::problem_json(405, "the admin listener answers GET only", path)};
        if (path == "/livez") return {200, "application/json", R"({"status":"alive"})"};
        if (path == "/readyz") return readiness(path);
        if (path == "/metrics") return {200, "text/plain; version=0.0.4; charset=utf-8", metrics_text()};
        if (path == "/" || path == "/dashboard") return {200, "text/html; charset=utf-8", ops::dashboard_html(dashboard_data())};
        if (path == "/dashboard.json") return {200, "application/json", ops::dashboard_json(dashboard_data())};
        return {404, std::string(app::kProblemContentType),
                app::problem_json(404, "the admin listener serves /livez, /readyz, /metrics, / (the dashboard) and "
                                       "/dashboard.json", path)};
    }

    front::AdminAnswer readiness(std::string_view path) {
        std::string why;
        {
            std::lock_guard lock(mutex_);
            if (stopping_) {
                why = "draining: the service is stopping";
            } else if (!backoff_.empty()) {
                why = backoff_;
            } else if (!serving_generation_) {
                why = "starting: the first generation of workers is not serving yet";
            } else {
                unsigned ready = 0;
                for (const auto& w : workers_)
                    if (w.generation == serving_generation_ && w.state == Worker::State::Ready) ++ready;
                if (ready < serving_workers_)
                    why = fmt::format("{} of {} workers of generation {} are serving", ready, serving_workers_,
                                      serving_generation_);
            }
        }
        if (why.empty()) why = database_problem();
        if (!why.empty()) return {503, std::string(app::kProblemContentType), app::problem_json(503, why, path)};
        return {200, "application/json", R"({"status":"ready"})"};
    }

    // "" when the database answers; checked at most once a second.
    std::string database_problem() {
        std::lock_guard lock(db_mutex_);
        const auto now = Clock::now();
        if (now < db_checked_until_) return db_problem_;
        db_checked_until_ = now + std::chrono::seconds(1);
        try {
            if (!db_) {
                const auto& dbc = db_config_;
                db_ = std::make_unique<db::Database>(db::parse_url(dbc.url, dbc.base_dir), 1, milliseconds(1000));
            }
            auto lease = db_->acquire();
            int one = 0;
            lease.session() << "SELECT 1", soci::into(one);
            db_problem_.clear();
        } catch (const std::exception& e) {
            db_problem_ = std::string("the database does not answer: ") + e.what();
            db_.reset();
        }
        return db_problem_;
    }

    std::string metrics_text() {
        ops::ServiceMetrics m;
        m.version = TRELLIS_VERSION;
        m.abi = std::to_string(TRELLIS_ABI_MAJOR) + "." + std::to_string(TRELLIS_ABI_MINOR);
        m.start_time_seconds = start_time_;
        ops::add_process_usage(::getpid(), m);
        {
            std::lock_guard lock(mutex_);
            m.totals = retired_;
            for (const auto& w : workers_) {
                w.block->add_totals(m.totals);
                m.in_flight += w.block->in_flight();
                m.workers[state_name(w.state)] += 1;
                ops::add_process_usage(w.pid, m);
            }
            m.cpu_seconds += retired_cpu_seconds_;
            m.restarts = restarts_;
            m.reloads = reloads_;
            m.plugins = plugins_;
        }
        return ops::render_metrics(m);
    }

    void count_reload(bool ok, std::string message) {
        std::lock_guard lock(mutex_);
        reloads_[ok ? "ok" : "failed"] += 1;
        last_reload_ = ops::DashboardReload{unix_now(), ok, std::move(message)};
    }

    static double unix_now() {
        return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    }

    // The dashboard's figures: the same totals as metrics_text().
    ops::DashboardData dashboard_data() {
        ops::DashboardData d;
        d.version = TRELLIS_VERSION;
        d.abi = std::to_string(TRELLIS_ABI_MAJOR) + "." + std::to_string(TRELLIS_ABI_MINOR);
        d.now_unix_seconds = unix_now();
        d.uptime_seconds = d.now_unix_seconds - start_time_;
        const auto now = Clock::now();
        std::lock_guard lock(mutex_);
        d.generation = serving_generation_;
        d.totals = retired_;
        for (const auto& w : workers_) {
            w.block->add_totals(d.totals);
            d.in_flight += w.block->in_flight();
            const auto restarts = slot_restarts_.find({w.generation, w.index});
            d.workers.push_back({fmt::format("{}.{}", w.generation, w.index), static_cast<int>(w.pid), w.generation,
                                 state_name(w.state), std::chrono::duration<double>(now - w.started).count(),
                                 restarts == slot_restarts_.end() ? 0 : restarts->second});
        }
        d.restarts = restarts_;
        d.reloads = reloads_;
        d.last_reload = last_reload_;
        for (const auto& p : plugins_) {
            ops::DashboardPlugin plugin{p.name, p.version, p.abi, {}};
            for (const auto& [pattern, owner] : plugin_routes_)
                if (owner == p.name && std::find(plugin.routes.begin(), plugin.routes.end(), pattern) == plugin.routes.end())
                    plugin.routes.push_back(pattern);
            d.plugins.push_back(std::move(plugin));
        }
        return d;
    }

    const SupervisorOptions& options_;
    const std::vector<std::string> env_;
    config::OperatorConfig pending_config_;  // read, waiting for the preparation process
    std::unique_ptr<Generation> current_, next_;
    unsigned generation_counter_ = 0;
    pid_t prepare_pid_ = -1;
    unsigned failure_streak_ = 0;
    struct Replacement {
        Clock::time_point when;
        unsigned generation, index;
    };
    std::list<Replacement> replacements_;
    std::vector<unsigned> steered_;               // the live slots the kernel was last told
    const front::ReusePortGroup* steered_group_ = nullptr;
    bool stopping_ = false, force_exit_ = false;
    int exit_code_ = 0;
    Clock::time_point stop_deadline_;
    std::optional<Clock::time_point> drain_at_;  // a stop's drain, once server.drain_delay has passed
    milliseconds watchdog_interval_{0};
    Clock::time_point next_watchdog_;
    double start_time_ = ops::process_start_time_seconds();

    // Shared with the admin thread.
    std::mutex mutex_;
    std::list<Worker> workers_;
    ops::MetricTotals retired_;  // of workers that exited: counters never go backwards
    double retired_cpu_seconds_ = 0;
    std::map<std::string, std::uint64_t> restarts_, reloads_;
    std::vector<ops::PluginInfo> plugins_;
    std::vector<std::pair<std::string, std::string>> plugin_routes_;  // (template, plugin) of the current generation
    std::map<std::pair<unsigned, unsigned>, std::uint64_t> slot_restarts_;  // by (generation, worker index)
    std::optional<ops::DashboardReload> last_reload_;
    std::string backoff_;
    unsigned serving_generation_ = 0, serving_workers_ = 0;

    std::mutex db_mutex_;
    config::DatabaseConfig db_config_;
    std::unique_ptr<db::Database> db_;
    std::string db_problem_;
    Clock::time_point db_checked_until_;

    friend int run_supervisor(const SupervisorOptions&, config::OperatorConfig);
};

int Supervisor::run() {
    sigset_t signals;
    sigemptyset(&signals);
    for (int s : {SIGCHLD, SIGHUP, SIGTERM, SIGINT}) sigaddset(&signals, s);
    ::pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    std::signal(SIGPIPE, SIG_IGN);
    const int sigfd = ::signalfd(-1, &signals, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sigfd < 0) {
        spdlog::error("signalfd: {}", std::strerror(errno));
        return 1;
    }
    watchdog_interval_ = ops::watchdog_interval();
    db_config_ = pending_config_.database;

    const auto admin_config = pending_config_.admin;
    std::unique_ptr<front::AdminServer> admin;
    if (admin_config.enabled) {
        admin = std::make_unique<front::AdminServer>(
            admin_config.listen, admin_config.port,
            [this](std::string_view method, std::string_view path) { return admin_answer(method, path); });
        try {
            admin->start();
        } catch (const std::exception& e) {
            spdlog::error("not serving: {}", e.what());
            return 1;
        }
        spdlog::info("admin listening on http://{}:{} (the dashboard at /, /livez, /readyz, /metrics)", admin_config.listen,
                     admin->port());
    }

    start_prepare();
    while (true) {
        pollfd pfd{sigfd, POLLIN, 0};
        ::poll(&pfd, 1, static_cast<int>(kTick.count()));
        signalfd_siginfo info{};
        while (::read(sigfd, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
            const int sig = static_cast<int>(info.ssi_signo);
            if (sig == SIGHUP) reload();
            if (sig == SIGTERM || sig == SIGINT) begin_stop(sig);
        }
        int status = 0;
        rusage usage{};
        for (pid_t pid; (pid = ::wait4(-1, &status, WNOHANG, &usage)) > 0;) {
            {
                // process_cpu_seconds_total must not go backwards when a worker exits.
                std::lock_guard lock(mutex_);
                if (pid != prepare_pid_)
                    retired_cpu_seconds_ += static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                                            static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
            }
            on_child_exit(pid, status);
        }
        {
            std::lock_guard lock(mutex_);
            if (current_) {
                serving_generation_ = current_->number;
                serving_workers_ = current_->workers;
            }
        }
        if (force_exit_) break;
        if (stopping_) {
            bool empty;
            {
                std::lock_guard lock(mutex_);
                empty = workers_.empty();
            }
            if (empty && prepare_pid_ < 0) break;
            if (drain_at_ && Clock::now() >= *drain_at_) start_stop_drain();
            send_due_drains(Clock::now());
            if (stop_deadline_ != Clock::time_point{} && Clock::now() >= stop_deadline_) {
                spdlog::warn("workers still running after server.shutdown_grace: killing them");
                kill_all(SIGKILL);
                stop_deadline_ = Clock::time_point{};
            }
            if (!drain_at_ && stop_deadline_ == Clock::time_point{} && exit_code_ != 0) {
                // Start-up failed: nothing to drain, but reap what started.
                kill_all(SIGKILL);
            }
            continue;
        }
        tick();
    }
    // Reap whatever is left after SIGKILL.
    for (int status = 0; ::waitpid(-1, &status, 0) > 0;) {}
    if (admin) admin->stop();
    if (exit_code_ == 0) spdlog::info("stopped");
    return exit_code_;
}

}  // namespace

int run_supervisor(const SupervisorOptions& options, config::OperatorConfig config) {
    Supervisor supervisor(options, std::move(config));
    return supervisor.run();
}

}  // namespace trellis::service
