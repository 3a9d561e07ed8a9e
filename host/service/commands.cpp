#include "service/commands.hpp"

#include <sys/prctl.h>

#include <cctype>
#include <csignal>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <tuple>

#include <nlohmann/json.hpp>
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

// Where load() puts the problems it finds: on stderr (check and the other
// read-only commands), in the log (serve, migrate, worker), or in a list
// (check --format json).
struct Problems {
    bool to_log = false;
    std::vector<std::string>* collected = nullptr;

    // Collected problems are logged too when to_log is set (lambda: the
    // function's log and its init error both carry them).
    void add(const std::string& problem) const {
        if (collected) collected->push_back(problem);
        if (to_log)
            spdlog::error("{}", problem);
        else if (!collected)
            std::cerr << problem << "\n";
    }
};

std::optional<config::OperatorConfig> read_config(const CommandOptions& options, const Problems& problems) {
    try {
        return config::load_operator_config(options.config);
    } catch (const config::ConfigError& e) {
        for (const auto& d : e.diagnostics()) problems.add(d.str());
        return std::nullopt;
    }
}

// Loads configuration and plugins; reports every problem and returns null on failure.
std::shared_ptr<const app::Snapshot> load(const CommandOptions& options, bool for_check,
                                          std::string_view process_name = {},
                                          std::vector<std::string>* collected = nullptr) {
    const Problems problems{!for_check, collected};
    auto config = read_config(options, {!for_check && collected, collected});
    if (!config) return nullptr;
    // check stays quiet unless something is wrong; serve logs what it loads.
    ops::init_logging(for_check ? "warn" : config->logging.level, process_name);
    if (!for_check && config->logging.access) ops::init_access_log();
    std::vector<std::filesystem::path> dirs(options.plugin_dirs.begin(), options.plugin_dirs.end());
    try {
        return app::build_snapshot(*config, dirs);
    } catch (const app::LoadError& e) {
        for (const auto& problem : e.problems()) problems.add(problem);
        if (!for_check)
            spdlog::error("not serving: {} problem(s) above; `trellis check` shows the same", e.problems().size());
        return nullptr;
    }
}

// A problem as data: "file:line:col: key.path: message" (a diagnostic) or
// "file: message" (a refused plugin); the lines a refusal quotes below its
// first one are diagnostics of their own ("details").
nlohmann::ordered_json problem_json(const std::string& problem) {
    const auto parse_line = [](std::string_view line) {
        nlohmann::ordered_json out;
        while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
        // file:LINE:COL: rest -- the file may contain ':' itself, so search
        // for the first ":<digits>:<digits>: ".
        for (std::size_t at = line.find(':'); at != std::string_view::npos; at = line.find(':', at + 1)) {
            std::size_t p = at + 1, line_start = p;
            while (p < line.size() && std::isdigit(static_cast<unsigned char>(line[p]))) ++p;
            if (p == line_start || p >= line.size() || line[p] != ':') continue;
            const std::size_t col_start = ++p;
            while (p < line.size() && std::isdigit(static_cast<unsigned char>(line[p]))) ++p;
            if (p == col_start) continue;
            const std::size_t col_end = p;
            // "file:6:5 (embedded in libx.so): ..." names where the file was found.
            std::string origin;
            if (line.substr(p, 2) == " (") {
                const auto close = line.find("): ", p);
                if (close == std::string_view::npos) continue;
                origin = line.substr(p + 2, close - (p + 2));
                p = close + 1;
            }
            if (line.substr(p, 2) != ": ") continue;
            std::string_view rest = line.substr(p + 2);
            std::string key_path;
            // "key.path: message" when the first word before ": " has no spaces.
            if (const auto colon = rest.find(": "); colon != std::string_view::npos &&
                                                    rest.substr(0, colon).find(' ') == std::string_view::npos) {
                key_path = rest.substr(0, colon);
                rest.remove_prefix(colon + 2);
            }
            out["file"] = std::string(line.substr(0, at));
            out["line"] = std::stoi(std::string(line.substr(line_start, col_start - 1 - line_start)));
            out["column"] = std::stoi(std::string(line.substr(col_start, col_end - col_start)));
            out["path"] = key_path;
            out["message"] = std::string(rest);
            if (!origin.empty()) out["origin"] = origin;
            return out;
        }
        const auto colon = line.find(": ");
        out["file"] = colon == std::string_view::npos ? std::string() : std::string(line.substr(0, colon));
        out["line"] = 0;
        out["column"] = 0;
        out["path"] = "";
        out["message"] = std::string(colon == std::string_view::npos ? line : line.substr(colon + 2));
        return out;
    };
    std::vector<std::string_view> lines;
    std::string_view rest(problem);
    while (!rest.empty()) {
        const auto nl = rest.find('\n');
        lines.push_back(rest.substr(0, nl));
        rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    }
    if (lines.empty()) lines.push_back({});
    auto out = parse_line(lines.front());
    if (lines.size() > 1) {
        out["details"] = nlohmann::ordered_json::array();
        for (std::size_t i = 1; i < lines.size(); ++i) out["details"].push_back(parse_line(lines[i]));
    }
    return out;
}

// Applies pending migrations; false (after logging why, and adding it to
// `problems` when given) when it cannot.
bool apply_migrations(const app::Snapshot& snapshot, std::vector<std::string>* problems = nullptr) {
    if (snapshot.schemas.empty()) return true;
    try {
        auto report = db::migrate(*snapshot.database, snapshot.schemas);
        spdlog::info("database {}: {} migration steps applied, {} already applied", snapshot.database->url().display,
                     report.applied, report.already);
        return true;
    } catch (const std::exception& e) {  // MigrationError, Unavailable
        spdlog::error("migrations failed: {}", e.what());
        if (problems) problems->push_back(std::string("migrations failed: ") + e.what());
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
    const bool json = options.format == "json";
    std::vector<std::string> problems;
    auto snapshot = load(options, true, {}, json ? &problems : nullptr);
    std::vector<std::string> pending;
    std::string warning;
    if (snapshot && !snapshot->schemas.empty()) {
        // Read-only: check never changes the database.
        try {
            pending = db::pending(*snapshot->database, snapshot->schemas);
        } catch (const db::Unavailable& e) {
            warning = std::string("cannot check migrations: ") + e.what();
        } catch (const std::exception& e) {
            problems.emplace_back(e.what());
            if (!json) std::cerr << e.what() << "\n";
            snapshot = nullptr;
        }
    }
    if (json) {
        nlohmann::ordered_json out = {{"file", options.config}, {"ok", snapshot != nullptr}};
        if (snapshot) {
            out["plugins"] = snapshot->plugins.size();
            out["routes"] = snapshot->routes.size();
            out["pending_migrations"] = pending;
        }
        if (!warning.empty()) out["warnings"] = {warning};
        out["problems"] = nlohmann::ordered_json::array();
        for (const auto& problem : problems) out["problems"].push_back(problem_json(problem));
        std::cout << out.dump(2) << "\n";
        return snapshot ? 0 : 1;
    }
    if (!snapshot) return 1;
    if (!warning.empty()) std::cerr << "warning: " << warning << "\n";
    for (const auto& step : pending) std::cout << "pending migration: " << step << "\n";
    std::cout << options.config << ": OK (" << snapshot->plugins.size() << " plugins, " << snapshot->routes.size()
              << " routes)\n";
    return 0;
}

std::optional<config::OperatorConfig> read_operator_config(const CommandOptions& options) {
    return read_config(options, {});
}

std::shared_ptr<const app::Snapshot> load_quietly(const CommandOptions& options) { return load(options, true); }

int migrate(const CommandOptions& options) {
    auto snapshot = load(options, false);
    return snapshot && apply_migrations(*snapshot) ? 0 : 1;
}

int serve(const CommandOptions& options) {
    // Before any thread exists, so that every thread inherits the mask and
    // only the main thread receives SIGINT/SIGTERM.
    ops::block_stop_signals();
    auto config = read_config(options, {});
    if (!config) return 1;
    if (config::resolved_workers(*config) > 0) {
        ops::init_logging(config->logging.level, "supervisor");
        return run_supervisor({options.config, options.plugin_dirs}, std::move(*config));
    }
    auto snapshot = load_for_serving(options);
    if (!snapshot) return 1;
    return serve_snapshot(std::move(snapshot), {}, nullptr);
}

std::shared_ptr<const app::Snapshot> load_for_serving(const CommandOptions& options, std::string_view process_name,
                                                      std::vector<std::string>* problems) {
    auto snapshot = load(options, false, process_name, problems);
    if (!snapshot || !apply_migrations(*snapshot, problems)) return nullptr;
    return snapshot;
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
