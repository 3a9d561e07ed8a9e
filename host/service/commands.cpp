#include "service/commands.hpp"

#include <sys/prctl.h>

#include <csignal>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <tuple>

#include <spdlog/spdlog.h>

#include "config/operator_config.hpp"
#include "db/migrations.hpp"
#include "front/server.hpp"
#include "ops/logging.hpp"
#include "ops/signals.hpp"
#include "ops/worker_slots.hpp"
#include "app/snapshot.hpp"
#include "service/supervisor.hpp"

namespace trellis::service {

namespace {

enum class Mode { Check, Quiet, Serve };

std::optional<config::OperatorConfig> read_config(const CommandOptions& options) {
    try {
        return config::load_operator_config(options.config);
    } catch (const config::ConfigError& e) {
        std::cerr << e.what() << "\n";
        return std::nullopt;
    }
}

// Loads configuration and plugins; prints every problem and returns null on failure.
std::shared_ptr<const app::Snapshot> load(const CommandOptions& options, bool for_check,
                                              std::string_view process_name = {}) {
    auto config = read_config(options);
    if (!config) return nullptr;
    // check stays quiet unless something is wrong; serve logs what it loads.
    ops::init_logging(for_check ? "warn" : config->logging.level, process_name);
    if (!for_check && config->logging.access) ops::init_access_log();
    std::vector<std::filesystem::path> dirs(options.plugin_dirs.begin(), options.plugin_dirs.end());
    try {
        return app::build_snapshot(*config, dirs);
    } catch (const app::LoadError& e) {
        for (const auto& problem : e.problems()) {
            if (for_check)
                std::cerr << problem << "\n";
            else
                spdlog::error("{}", problem);
        }
        if (!for_check)
            spdlog::error("not serving: {} problem(s) above; `trellis check` shows the same", e.problems().size());
        return nullptr;
    }
}

// Applies pending migrations; false (after logging why) when it cannot.
bool apply_migrations(const app::Snapshot& snapshot) {
    if (snapshot.schemas.empty()) return true;
    try {
        auto report = db::migrate(*snapshot.database, snapshot.schemas);
        spdlog::info("database {}: {} migration steps applied, {} already applied", snapshot.database->url().display,
                     report.applied, report.already);
        return true;
    } catch (const std::exception& e) {  // MigrationError, Unavailable
        spdlog::error("migrations failed: {}", e.what());
        return false;
    }
}

// Serves until SIGTERM/SIGINT, then drains. `server_options` says whether
// this process is a supervisor's worker.
int serve_snapshot(std::shared_ptr<const app::Snapshot> snapshot, front::ServerOptions server_options,
                   ops::WorkerSlotWriter* slots) {
    front::Server server(snapshot, server_options);
    snapshot.reset();  // the server holds it now
    try {
        server.start();
    } catch (const std::exception& e) {
        spdlog::error("{}", e.what());
        return 1;
    }
    if (slots) {
        slots->set_ready();
    } else {
        ops::notify_systemd("READY=1");
    }
    const int sig = ops::wait_for_stop_signal();
    spdlog::info("{} received: draining requests and stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
    if (!slots) ops::notify_systemd("STOPPING=1");  // a worker's supervisor tells systemd
    server.stop();
    spdlog::info("stopped");
    return 0;
}

}  // namespace

int check(const CommandOptions& options) {
    auto snapshot = load(options, true);
    if (!snapshot) return 1;
    if (!snapshot->schemas.empty()) {
        // Read-only: check never changes the database.
        try {
            auto pending = db::pending(*snapshot->database, snapshot->schemas);
            for (const auto& step : pending) std::cout << "pending migration: " << step << "\n";
        } catch (const db::Unavailable& e) {
            std::cerr << "warning: cannot check migrations: " << e.what() << "\n";
        } catch (const std::exception& e) {
            std::cerr << e.what() << "\n";
            return 1;
        }
    }
    std::cout << options.config << ": OK (" << snapshot->plugins.size() << " plugins, " << snapshot->routes.size()
              << " routes)\n";
    return 0;
}

int migrate(const CommandOptions& options) {
    auto snapshot = load(options, false);
    return snapshot && apply_migrations(*snapshot) ? 0 : 1;
}

int serve(const CommandOptions& options) {
    // Before any thread exists, so that every thread inherits the mask and
    // only the main thread receives SIGINT/SIGTERM.
    ops::block_stop_signals();
    auto config = read_config(options);
    if (!config) return 1;
    if (config::resolved_workers(*config) > 0) {
        ops::init_logging(config->logging.level, "supervisor");
        return run_supervisor({options.config, options.plugin_dirs}, std::move(*config));
    }
    auto snapshot = load(options, false);
    if (!snapshot) return 1;
    if (!apply_migrations(*snapshot)) return 1;
    return serve_snapshot(std::move(snapshot), {}, nullptr);
}

int worker(const CommandOptions& options, const WorkerOptions& worker) {
    ops::block_stop_signals();
    // In ps, top and the journal: not "exe" (it was started as /proc/self/exe).
    ::prctl(PR_SET_NAME, "trellis-worker");
    std::unique_ptr<ops::WorkerSlotWriter> slots;
    try {
        slots = std::make_unique<ops::WorkerSlotWriter>(worker.block_fd);
    } catch (const std::exception& e) {
        std::cerr << "trellis worker: " << e.what() << " (workers are started by `trellis serve`)\n";
        return 2;
    }
    // The supervisor ran the migrations before starting this generation.
    auto snapshot = load(options, false, "worker " + worker.name);
    if (!snapshot) return 3;

    std::vector<std::tuple<std::string, std::string, std::string>> plugin_labels;
    for (const auto& mount : snapshot->mounts) {
        const auto* d = mount.plugin->descriptor;
        plugin_labels.emplace_back(mount.plugin->name(), mount.plugin->ctx.version,
                                   std::to_string(d->abi_major) + "." + std::to_string(d->abi_minor));
    }
    slots->set_plugins(plugin_labels);
    std::vector<std::pair<std::string, std::int32_t>> route_labels;
    for (const auto& route : snapshot->routes)
        route_labels.emplace_back(route.pattern, static_cast<std::int32_t>(route.mount - snapshot->mounts.data()));
    slots->set_routes(route_labels);

    return serve_snapshot(std::move(snapshot), {worker.listen_fd, slots.get()}, slots.get());
}

}  // namespace trellis::service
