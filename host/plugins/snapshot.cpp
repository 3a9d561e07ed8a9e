#include "plugins/snapshot.hpp"

#include <spdlog/spdlog.h>

namespace trellis::plugins {
namespace {

std::string join_lines(const std::vector<std::string>& lines) {
    std::string out;
    for (const auto& line : lines) out += (out.empty() ? "" : "\n") + line;
    return out;
}

// The shape of a template, as the router compares them: parameter names do
// not matter, their types do ("/a/{id:int}" and "/a/{n:int}" collide).
std::string route_shape(std::string_view pattern) {
    std::string shape;
    for (std::size_t i = 0; i < pattern.size(); ++i) {
        if (pattern[i] != '{') {
            shape += pattern[i];
            continue;
        }
        auto close = pattern.find('}', i);
        if (close == std::string_view::npos) return std::string(pattern);
        auto inner = pattern.substr(i + 1, close - i - 1);
        auto colon = inner.find(':');
        shape += "{:" + std::string(colon == std::string_view::npos ? "str" : inner.substr(colon + 1)) + "}";
        i = close;
    }
    return shape;
}

}  // namespace

LoadError::LoadError(std::vector<std::string> problems)
    : std::runtime_error(join_lines(problems)), problems_(std::move(problems)) {}

std::shared_ptr<const Snapshot> build_snapshot(const config::OperatorConfig& config,
                                               const std::vector<std::filesystem::path>& extra_plugin_dirs) {
    auto snapshot = std::make_shared<Snapshot>();
    snapshot->server = config.server;
    std::vector<std::string> problems;

    std::vector<std::filesystem::path> search = extra_plugin_dirs;
    search.insert(search.end(), config.plugin_path.begin(), config.plugin_path.end());

    for (const auto& entry : config.plugins) {
        if (!entry.enabled) {
            spdlog::info("plugin {}: disabled in {}:{}, not loaded", entry.name, entry.file, entry.line);
            continue;
        }
        std::shared_ptr<LoadedPlugin> plugin;
        try {
            plugin = load_plugin(entry, find_plugin(entry.name, search));
        } catch (const PluginError& e) {
            problems.emplace_back(e.what());
            continue;
        }

        const auto& routes = plugin->manifest.routes;
        for (std::size_t i = 0; i < routes.size(); ++i) {
            RouteEntry route{plugin.get(), plugin->route_handlers[i], routes[i].method,
                             http::join_mount(entry.mount, routes[i].path), routes[i].handler};
            try {
                snapshot->router.add(route.method, route.pattern, static_cast<std::uint32_t>(snapshot->routes.size()));
            } catch (const http::RouteError& e) {
                std::string problem = plugin->ctx.file.string() + ": plugin '" + entry.name + "' refused: route " +
                                      route.method + " " + route.pattern + " (routes[" + std::to_string(i) + "]) ";
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
                continue;
            }
            spdlog::debug("route {} {} -> {}.{}", route.method, route.pattern, entry.name, route.handler_symbol);
            snapshot->routes.push_back(std::move(route));
        }
        spdlog::info("plugin {} {} loaded from {} (ABI {}.{}, {} routes, mounted at {})", entry.name,
                     plugin->ctx.version, plugin->ctx.file.string(), plugin->descriptor->abi_major,
                     plugin->descriptor->abi_minor, routes.size(), entry.mount);
        snapshot->plugins.push_back(std::move(plugin));
    }
    if (!problems.empty()) throw LoadError(std::move(problems));

    // init only once everything was accepted: a refused snapshot runs no plugin code.
    for (auto& plugin : snapshot->plugins) {
        try {
            plugin->init();
        } catch (const PluginError& e) {
            throw LoadError({e.what()});
        }
    }
    return snapshot;
}

}  // namespace trellis::plugins
