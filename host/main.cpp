// trellis: the command line. The commands themselves live in
// service/commands.cpp.
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>
#include <trellis/abi.h>

#include "service/commands.hpp"
#include "service/lambda_command.hpp"
#include "service/scaffold.hpp"
#include "service/tools.hpp"

namespace {

void add_common_options(CLI::App& cmd, trellis::service::CommandOptions& options) {
    cmd.add_option("-c,--config", options.config, "Operator configuration file (conf.d/*.yaml beside it is read too)")
        ->capture_default_str();
    cmd.add_option("-p,--plugin-path", options.plugin_dirs,
                   "Directory searched for plugins before the configured plugin_path (repeatable)")
        ->type_name("DIR");
}

}  // namespace

int main(int argc, char** argv) {
    // Lambda starts a custom runtime as `bootstrap`, without arguments.
    if (argc > 0)
        if (auto lambda = trellis::service::lambda_bootstrap_options(argv[0])) return trellis::service::lambda(*lambda);
    CLI::App app{"Trellis: a native application host that serves HTTP through plugins."};
    app.set_version_flag("--version", std::string("trellis ") + TRELLIS_VERSION + " (ABI " +
                                          std::to_string(TRELLIS_ABI_MAJOR) + "." +
                                          std::to_string(TRELLIS_ABI_MINOR) + ")");
    app.require_subcommand(1);
    app.footer(
        "Examples:\n"
        "  trellis serve --config /etc/trellis/trellis.yaml\n"
        "  trellis check --config config/trellis.yaml --plugin-path build/dev/plugins\n"
        "  trellis routes -c config/trellis.yaml --format json\n"
        "  trellis inspect build/dev/plugins/libnotes.so\n"
        "  trellis new-plugin bookmarks --with-model   # a plugin project to start from\n"
        "  trellis openapi -c config/trellis.yaml -o openapi.json\n"
        "  trellis lambda -c trellis.yaml  # inside AWS Lambda (AWS_LAMBDA_RUNTIME_API), also as `bootstrap`\n"
        "  kill -HUP <supervisor pid>     # reload: a new generation of workers, the old one drains\n"
        "Plugins are found as lib<name>.so in --plugin-path directories, then in plugin_path.\n"
        "serve runs a supervisor and server.workers worker processes (default: one per core;\n"
        "server.workers: 0 serves in one process). The admin listener (admin.port, default 9901)\n"
        "answers /livez, /readyz and /metrics, and serves the operator dashboard at /.");

    trellis::service::CommandOptions options;
    auto* serve_cmd = app.add_subcommand(
        "serve", "Serve HTTP until SIGTERM/SIGINT (SIGHUP reloads): a supervisor and its worker processes");
    add_common_options(*serve_cmd, options);
    auto* check_cmd = app.add_subcommand(
        "check", "Validate the configuration and plugins exactly as serve would, then exit (0 ok, 1 errors)");
    add_common_options(*check_cmd, options);
    const auto add_format = [&](CLI::App& cmd) {
        cmd.add_option("--format", options.format, "Output format")
            ->check(CLI::IsMember({"text", "json"}))
            ->capture_default_str();
    };
    add_format(*check_cmd);
    auto* routes_cmd = app.add_subcommand(
        "routes", "List every route the configuration produces, in match order, with its plugin, handler and hooks");
    add_common_options(*routes_cmd, options);
    add_format(*routes_cmd);
    auto* plugins_cmd = app.add_subcommand(
        "plugins", "List the configured plugins: version, ABI, file, status (loaded, refused and why), settings");
    add_common_options(*plugins_cmd, options);
    add_format(*plugins_cmd);
    std::string openapi_output;
    auto* openapi_cmd = app.add_subcommand(
        "openapi", "Print the OpenAPI 3.1 document of the configuration (what GET openapi.path serves)");
    add_common_options(*openapi_cmd, options);
    openapi_cmd->add_option("-o,--output", openapi_output, "Write it to this file instead of stdout")
        ->type_name("FILE");
    trellis::service::InspectOptions inspect;
    auto* inspect_cmd = app.add_subcommand(
        "inspect", "Describe a plugin library (ABI, manifest, handlers) without a configuration; exit 1 if refused");
    inspect_cmd->add_option("file", inspect.file, "The plugin library (libNAME.so)")->required();
    inspect_cmd->add_option("--format", inspect.format, "Output format")
        ->check(CLI::IsMember({"text", "json"}))
        ->capture_default_str();
    inspect_cmd->add_flag("--lint", inspect.lint, "Only check it: print FILE: OK, or the refusal");
    trellis::service::ScaffoldOptions scaffold;
    auto* new_plugin_cmd = app.add_subcommand(
        "new-plugin", "Write a plugin project to start from: CMake, manifest, one route, a GoogleTest, README");
    new_plugin_cmd->add_option("NAME", scaffold.name, "The plugin's name (libNAME.so): letters, digits, '_' and '-'")
        ->required();
    new_plugin_cmd->add_option("--dir", scaffold.dir, "Where to write it: a new or empty directory (default: ./NAME)")
        ->type_name("DIR");
    new_plugin_cmd->add_flag("--with-model", scaffold.with_model,
                             "Add a model served as a REST resource, and a test that creates and reads a record");
    new_plugin_cmd->footer(
        "Example:\n"
        "  trellis new-plugin bookmarks --with-model\n"
        "  cmake -S bookmarks -B bookmarks/build -DCMAKE_PREFIX_PATH=/usr/local\n"
        "  cmake --build bookmarks/build && ctest --test-dir bookmarks/build\n"
        "  trellis serve -c bookmarks/trellis.yaml -p bookmarks/build\n"
        "Exit codes: 0 written, 1 DIR is not empty or cannot be written, 2 an invalid NAME.");
    auto* migrate_cmd =
        app.add_subcommand("migrate", "Apply pending database migrations of the enabled plugins, then exit");
    add_common_options(*migrate_cmd, options);
    auto* lambda_cmd = app.add_subcommand(
        "lambda", "Serve AWS Lambda invocations from the Runtime API (AWS_LAMBDA_RUNTIME_API) in one process");
    add_common_options(*lambda_cmd, options);
    lambda_cmd->footer(
        "Started as `bootstrap` with AWS_LAMBDA_RUNTIME_API set, the binary does the same with the\n"
        "configuration from TRELLIS_CONFIG, else ${LAMBDA_TASK_ROOT}/trellis.yaml.");

    // Started by the supervisor only (no group: not listed in --help).
    trellis::service::WorkerOptions worker;
    auto* worker_cmd = app.add_subcommand("worker", "A worker process of `trellis serve` (internal)");
    worker_cmd->group("");
    add_common_options(*worker_cmd, options);
    worker_cmd->add_option("--listen-fd", worker.listen_fd)->required();
    worker_cmd->add_option("--block-fd", worker.block_fd)->required();
    worker_cmd->add_option("--name", worker.name);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        // --help and --version exit 0; every usage error 2, as getopt tools
        // do (CLI11's own codes differ per kind).
        return app.exit(e) == 0 ? 0 : 2;
    }
    if (*check_cmd) return trellis::service::check(options);
    if (*routes_cmd) return trellis::service::routes(options);
    if (*plugins_cmd) return trellis::service::plugins(options);
    if (*inspect_cmd) return trellis::service::inspect(inspect);
    if (*new_plugin_cmd) return trellis::service::new_plugin(scaffold);
    if (*openapi_cmd) return trellis::service::openapi(options, openapi_output);
    if (*migrate_cmd) return trellis::service::migrate(options);
    if (*lambda_cmd) return trellis::service::lambda(options);
    if (*worker_cmd) return trellis::service::worker(options, worker);
    return trellis::service::serve(options);
}
