#include "app/snapshot.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <thread>

#include <spdlog/spdlog.h>

#include "app/host_api.hpp"
#include "app/openapi.hpp"
#include "app/resources.hpp"
#include "db/schema.hpp"

namespace trellis::app {
namespace {

std::string join_lines(const std::vector<std::string>& lines) {
    std::string out;
    for (const auto& line : lines) out += (out.empty() ? "" : "\n") + line;
    return out;
}

// The shape of a template, as the router compares them: parameter names do
// not matter, their types do ("/a/{id:int}" and "/a/{n:int}" collide).
std::string route_shape(std::string_view pattern) {
    return rewrite_template_params(pattern, [](std::string_view, std::string_view type) {
        return "{:" + std::string(type) + "}";
    });
}

const config::ModelSpec* find_model(const config::Manifest& manifest, const std::string& name) {
    for (const auto& model : manifest.models)
        if (model.name == name) return &model;
    return nullptr;
}

// Operator `errors` that name a handler need that plugin loaded and the symbol exported.
void bind_app_errors(const config::OperatorConfig& config, Snapshot& snapshot, std::vector<std::string>& problems) {
    for (const auto& spec : config.errors) {
        AppError error{spec, {}};
        if (spec.kind == config::AppErrorSpec::Kind::Handler) {
            const std::string where = spec.file + ":" + std::to_string(spec.line) + ":" + std::to_string(spec.column) +
                                      ": errors: handler " + spec.plugin + "." + spec.handler;
            auto it = std::find_if(snapshot.plugins.begin(), snapshot.plugins.end(),
                                   [&](const auto& p) { return p->name() == spec.plugin; });
            if (it == snapshot.plugins.end()) {
                problems.push_back(where + ": plugin '" + spec.plugin + "' is not loaded (enable it under plugins)");
                continue;
            }
            if (!(*it)->library.has(spec.handler)) {
                problems.push_back(where + ": symbol '" + spec.handler + "' is not exported by " +
                                   (*it)->ctx.file.string());
                continue;
            }
            error.handler = {it->get(),
                             &(*it)->library.get<trellis_status(const trellis_host_api*, trellis_call*)>(spec.handler),
                             spec.handler};
        }
        snapshot.app_errors.push_back(std::move(error));
    }
}

}  // namespace

bool Mount::contains(std::string_view path) const noexcept {
    if (prefix == "/") return true;
    return path.substr(0, prefix.size()) == prefix && (path.size() == prefix.size() || path[prefix.size()] == '/');
}

const Mount* Snapshot::owner_of(std::string_view path) const noexcept {
    const Mount* best = nullptr;
    for (const auto& mount : mounts)
        if (mount.contains(path) && (!best || mount.prefix.size() > best->prefix.size())) best = &mount;
    return best;
}

const AppError* Snapshot::app_error_for(int status) const noexcept {
    return config::find_status_match(app_errors, status,
                                     [](const AppError& e) -> const config::StatusMatch& { return e.spec.match; });
}

LoadError::LoadError(std::vector<std::string> problems)
    : std::runtime_error(join_lines(problems)), problems_(std::move(problems)) {}

std::shared_ptr<const Snapshot> build_snapshot(const config::OperatorConfig& config,
                                               const std::vector<std::filesystem::path>& extra_plugin_dirs) {
    auto snapshot = std::make_shared<Snapshot>();
    snapshot->server = config.server;
    std::vector<std::string> problems;

    snapshot->logging = config.logging;
    try {
        const auto& dbc = config.database;
        const unsigned threads = config::resolved_threads(config.server);
        snapshot->database = std::make_shared<db::Database>(db::parse_url(dbc.url, dbc.base_dir),
                                                            dbc.pool ? dbc.pool : threads + 1, dbc.busy_timeout);
    } catch (const std::invalid_argument& e) {
        throw LoadError({config.database.file + ":" + std::to_string(config.database.line) + ":" +
                         std::to_string(config.database.column) + ": database.url: " + e.what()});
    }
    // Routes point at their mount: no reallocation once they do.
    snapshot->mounts.reserve(config.plugins.size());

    std::vector<std::filesystem::path> search = extra_plugin_dirs;
    search.insert(search.end(), config.plugin_path.begin(), config.plugin_path.end());

    // Registers a route; a conflict names both plugins.
    const auto add_route = [&](RouteEntry route, const std::string& key) {
        try {
            snapshot->router.add(route.method, route.pattern, static_cast<std::uint32_t>(snapshot->routes.size()));
        } catch (const RouteError& e) {
            std::string problem = route.plugin->ctx.file.string() + ": plugin '" + route.plugin->name() +
                                  "' refused: route " + route.method + " " + route.pattern + " (" + key + ") ";
            const std::string shape = route_shape(route.pattern);
            auto taken = std::find_if(snapshot->routes.begin(), snapshot->routes.end(), [&](const RouteEntry& r) {
                return r.method == route.method && route_shape(r.pattern) == shape;
            });
            if (taken != snapshot->routes.end())
                problem += "conflicts with plugin '" + taken->plugin->name() + "' route " + taken->method + " " +
                           taken->pattern + "; mount one of them elsewhere or disable one";
            else
                problem += std::string("is invalid: ") + e.what();
            problems.push_back(std::move(problem));
            return;
        }
        spdlog::debug("route {} {} -> {}.{}", route.method, route.pattern, route.plugin->name(), route.handler_symbol);
        snapshot->routes.push_back(std::move(route));
    };

    // Tables belong to the whole database: two plugins may not claim one
    // table (by default they cannot: a table is <plugin>_<model>). Instances
    // of one plugin share its tables (and its migrations, applied once).
    std::map<std::string, std::string> table_owner;
    std::set<std::string> with_schema;
    const auto add_models = [&](const LoadedPlugin& plugin, std::vector<std::string>& out) {
        const auto& manifest = plugin.manifest;
        if (manifest.models.empty() && manifest.migrations.empty()) return;
        if (!with_schema.insert(plugin.plugin_name()).second) return;
        for (const auto& model : manifest.models) {
            auto [it, fresh] = table_owner.emplace(model.table, plugin.plugin_name());
            if (!fresh)
                out.push_back(plugin.ctx.file.string() + ": plugin '" + plugin.name() + "' refused: table '" +
                              model.table + "' of model '" + model.name + "' is already a table of plugin '" +
                              it->second + "' (choose another name with models." + model.name + ".table)");
        }
        snapshot->schemas.push_back(db::plugin_schema(manifest, snapshot->database->backend()));
    };

    for (const auto& entry : config.plugins) {
        if (!entry.enabled) {
            spdlog::info("plugin {}: disabled in {}:{}, not loaded", entry.name, entry.file, entry.line);
            continue;
        }
        std::shared_ptr<LoadedPlugin> plugin;
        try {
            plugin = plugins::load_plugin(entry, plugins::find_plugin(entry.plugin(), search));
        } catch (const plugins::PluginError& e) {
            problems.emplace_back(e.what());
            continue;
        }

        Mount& mount = snapshot->mounts.emplace_back(Mount{plugin.get(), entry.mount, {}, nullptr, {}});
        if (const auto& spec = plugin->manifest.static_files) {
            // Relative to "<folder of the .so>/<plugin name>/": a package ships both side by side.
            std::filesystem::path dir = spec->dir;
            if (dir.is_relative()) dir = plugin->ctx.file.parent_path() / entry.plugin() / dir;
            try {
                mount.site = std::make_shared<StaticSite>(dir, spec->spa, StaticSite::kDefaultMaxBodyBytes, spec->immutable);
                mount.site_prefix = join_mount(entry.mount, spec->path);
                spdlog::info("plugin {}: static files from {} at {}{}", entry.name, mount.site->root().string(),
                             mount.site_prefix, spec->spa ? " (single-page app)" : "");
            } catch (const std::exception& e) {
                problems.push_back(plugin->ctx.file.string() + ": plugin '" + entry.name + "' refused: static: " +
                                   e.what());
            }
        }
        for (const auto& hook : plugin->hooks) {
            BoundHandler bound{plugin.get(), hook.fn, hook.spec.handler};
            auto& lists = hook.spec.scope == config::HookSpec::Scope::App ? snapshot->app_hooks : mount.own_hooks;
            lists[hook_index(hook.spec.kind)].push_back(std::move(bound));
        }

        const std::size_t routes_before = snapshot->routes.size();
        const auto& routes = plugin->manifest.routes;
        for (std::size_t i = 0; i < routes.size(); ++i)
            add_route({plugin.get(), &mount, plugin->route_handlers[i], routes[i].method,
                       join_mount(entry.mount, routes[i].path), routes[i].handler, nullptr, &routes[i]},
                      "routes[" + std::to_string(i) + "]");
        for (std::size_t i = 0; i < plugin->manifest.resources.size(); ++i) {
            const auto& resource = plugin->manifest.resources[i];
            const auto* model = find_model(plugin->manifest, resource.model);
            if (!model) continue;  // the manifest parser refuses this already
            auto served = std::make_shared<const Resource>(resource, *model);
            for (auto& r : served->routes())
                add_route({plugin.get(), &mount, r.handler, r.method, join_mount(entry.mount, r.path), r.name, served,
                           nullptr},
                          "resources[" + std::to_string(i) + "]");
        }
        add_models(*plugin, problems);
        // Routes as `check` counts them: the manifest's and its resources'.
        spdlog::info("plugin {}{} {} loaded from {} (ABI {}.{}, {} routes, mounted at {})", entry.name,
                     entry.name == entry.plugin() ? std::string() : " (" + entry.plugin() + ")", plugin->ctx.version,
                     plugin->ctx.file.string(), plugin->descriptor->abi_major, plugin->descriptor->abi_minor,
                     snapshot->routes.size() - routes_before, entry.mount);
        snapshot->plugins.push_back(std::move(plugin));
    }
    bind_app_errors(config, *snapshot, problems);
    if (config.openapi.enabled && config.openapi.path == config.server.readiness_path)
        problems.push_back(config.file.string() + ": openapi.path " + config.openapi.path +
                           " is server.readiness_path too; readiness answers there first: choose another path");
    if (config.openapi.enabled) {
        // The document has one home: a plugin route there would never be reached.
        const auto taken = snapshot->router.match("GET", config.openapi.path);
        if (taken.kind == RouteMatch::Kind::Found) {
            const auto& route = snapshot->routes[taken.target];
            problems.push_back(config.file.string() + ": openapi.path " + config.openapi.path +
                               " is taken by plugin '" + route.plugin->name() + "' route GET " + route.pattern +
                               "; set openapi.path to another path, or openapi.enabled: false");
        }
    }
    if (!problems.empty()) throw LoadError(std::move(problems));
    snapshot->openapi = config.openapi;
    if (config.openapi.enabled) snapshot->openapi_json = openapi_document(*snapshot, config.openapi).dump(2);

    // init only once everything was accepted: a refused snapshot runs no plugin code.
    for (auto& plugin : snapshot->plugins) {
        try {
            plugin->init(host_api());
        } catch (const plugins::PluginError& e) {
            throw LoadError({e.what()});
        }
    }
    return snapshot;
}

}  // namespace trellis::app
