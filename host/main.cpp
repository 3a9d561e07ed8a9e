// trellis: the command line. `serve` runs the host, `check` validates
// exactly what serve would load, without listening.
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "config/operator_config.hpp"
#include "db/migrations.hpp"
#include "http/server.hpp"
#include "ops/logging.hpp"
#include "ops/signals.hpp"
#include "plugins/snapshot.hpp"

namespace {

struct Options {
    std::string config = "/etc/trellis/trellis.yaml";
    std::vector<std::string> plugin_dirs;
};

void add_common_options(CLI::App& cmd, Options& options) {
    cmd.add_option("-c,--config", options.config, "Operator configuration file (conf.d/*.yaml beside it is read too)")
        ->capture_default_str();
    cmd.add_option("-p,--plugin-path", options.plugin_dirs,
                   "Directory searched for plugins before the configured plugin_path (repeatable)")
        ->type_name("DIR");
}

// Loads configuration and plugins; prints every problem and returns null on failure.
std::shared_ptr<const trellis::plugins::Snapshot> load(const Options& options, bool for_check) {
    trellis::config::OperatorConfig config;
    try {
        config = trellis::config::load_operator_config(options.config);
    } catch (const trellis::config::ConfigError& e) {
        std::cerr << e.what() << "\n";
        return nullptr;
    }
    // check stays quiet unless something is wrong; serve logs what it loads.
    trellis::ops::init_logging(for_check ? "warn" : config.logging.level);
    if (!for_check && config.logging.access) trellis::ops::init_access_log(config.logging.access_json);
    std::vector<std::filesystem::path> dirs(options.plugin_dirs.begin(), options.plugin_dirs.end());
    try {
        return trellis::plugins::build_snapshot(config, dirs);
    } catch (const trellis::plugins::LoadError& e) {
        for (const auto& problem : e.problems()) {
            if (for_check)
                std::cerr << problem << "\n";
            else
                spdlog::error("{}", problem);
        }
        if (!for_check) spdlog::error("not serving: {} problem(s) above; `trellis check` shows the same", e.problems().size());
        return nullptr;
    }
}

// Applies pending migrations; false (after logging why) when it cannot.
bool migrate(const trellis::plugins::Snapshot& snapshot) {
    if (snapshot.schemas.empty()) return true;
    try {
        auto report = trellis::db::migrate(*snapshot.database, snapshot.schemas);
        spdlog::info("database {}: {} migration steps applied, {} already applied", snapshot.database->url().display,
                     report.applied, report.already);
        return true;
    } catch (const std::exception& e) {  // MigrationError, Unavailable
        spdlog::error("migrations failed: {}", e.what());
        return false;
    }
}

int check(const Options& options) {
    auto snapshot = load(options, true);
    if (!snapshot) return 1;
    if (!snapshot->schemas.empty()) {
        // Read-only: check never changes the database.
        try {
            auto pending = trellis::db::pending(*snapshot->database, snapshot->schemas);
            for (const auto& step : pending) std::cout << "pending migration: " << step << "\n";
        } catch (const trellis::db::Unavailable& e) {
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

int serve(const Options& options) {
    // Before any thread exists, so that every thread inherits the mask and
    // only the main thread receives SIGINT/SIGTERM.
    trellis::ops::block_stop_signals();
    auto snapshot = load(options, false);
    if (!snapshot) return 1;

    if (!migrate(*snapshot)) return 1;

    trellis::http::Server server(snapshot);
    snapshot.reset();  // the server holds it now
    try {
        server.start();
    } catch (const std::exception& e) {
        spdlog::error("{}", e.what());
        return 1;
    }
    trellis::ops::notify_systemd("READY=1");

    const int sig = trellis::ops::wait_for_stop_signal();
    spdlog::info("{} received: draining requests and stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
    trellis::ops::notify_systemd("STOPPING=1");
    server.stop();
    spdlog::info("stopped");
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Trellis: a native application host that serves HTTP through plugins."};
    app.set_version_flag("--version", std::string("trellis ") + TRELLIS_VERSION + " (ABI " +
                                          std::to_string(TRELLIS_ABI_MAJOR) + "." +
                                          std::to_string(TRELLIS_ABI_MINOR) + ")");
    app.require_subcommand(1);
    app.footer(
        "Examples:\n"
        "  trellis serve --config /etc/trellis/trellis.yaml\n"
        "  trellis check --config config/trellis.yaml --plugin-path build/dev/plugins\n"
        "Plugins are found as lib<name>.so in --plugin-path directories, then in plugin_path.");

    Options options;
    auto* serve_cmd = app.add_subcommand("serve", "Load the configuration and plugins and serve HTTP until SIGTERM");
    add_common_options(*serve_cmd, options);
    auto* check_cmd = app.add_subcommand("check", "Validate the configuration and plugins exactly as serve would, then exit (0 ok, 1 errors)");
    add_common_options(*check_cmd, options);

    auto* migrate_cmd = app.add_subcommand("migrate", "Apply pending database migrations of the enabled plugins, then exit");
    add_common_options(*migrate_cmd, options);

    CLI11_PARSE(app, argc, argv);
    if (*check_cmd) return check(options);
    if (*migrate_cmd) {
        auto snapshot = load(options, false);
        return snapshot && migrate(*snapshot) ? 0 : 1;
    }
    return serve(options);
}
