#include "service/tools.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string_view>
#include <system_error>

#include <boost/dll/shared_library.hpp>
#include <nlohmann/json.hpp>
#include <trellis/abi.h>

#include "app/openapi.hpp"
#include "app/snapshot.hpp"
#include "ops/logging.hpp"
#include "plugins/elf_symbols.hpp"
#include "plugins/loader.hpp"

namespace trellis::service {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

namespace {

constexpr std::array<std::string_view, app::kHookKinds> kHookNames{"before_request", "after_request", "teardown"};

std::string abi_text(std::uint32_t major, std::uint32_t minor) {
    return std::to_string(major) + "." + std::to_string(minor);
}

// Pads `text` to `width` columns (ASCII tables).
std::string pad(std::string_view text, std::size_t width) {
    std::string out(text);
    if (out.size() < width) out.append(width - out.size(), ' ');
    return out;
}

void print_table(const std::vector<std::vector<std::string>>& rows) {
    std::vector<std::size_t> widths;
    for (const auto& row : rows)
        for (std::size_t i = 0; i < row.size(); ++i) {
            if (widths.size() <= i) widths.push_back(0);
            widths[i] = std::max(widths[i], row[i].size());
        }
    for (const auto& row : rows) {
        std::string line;
        for (std::size_t i = 0; i < row.size(); ++i)
            line += i + 1 == row.size() ? row[i] : pad(row[i], widths[i] + 2);
        while (!line.empty() && line.back() == ' ') line.pop_back();
        std::cout << line << "\n";
    }
}

// The hooks that run for a route of `mount`: the application's, then the
// mount's own, per kind (the order the pipeline runs them in).
Json hooks_of(const app::Snapshot& snapshot, const app::Mount& mount) {
    Json out = Json::object();
    for (std::size_t kind = 0; kind < app::kHookKinds; ++kind) {
        Json names = Json::array();
        for (const auto* list : {&snapshot.app_hooks[kind], &mount.own_hooks[kind]})
            for (const auto& hook : *list) names.push_back(hook.plugin->name() + "." + hook.symbol);
        if (!names.empty()) out[std::string(kHookNames[kind])] = std::move(names);
    }
    return out;
}

std::string hooks_text(const Json& hooks) {
    std::string out;
    for (const auto& [kind, names] : hooks.items()) {
        std::string list;
        for (const auto& name : names) list += (list.empty() ? "" : ",") + name.get<std::string>();
        out += (out.empty() ? "" : " ") + kind + "=" + list;
    }
    return out.empty() ? "-" : out;
}

// Masks the settings the manifest marks secret.
Json settings_json(const plugins::LoadedPlugin& plugin) {
    Json out = Json::object();
    for (const auto& [key, value] : plugin.ctx.settings) {
        const auto spec = std::find_if(plugin.manifest.settings.begin(), plugin.manifest.settings.end(),
                                       [&](const config::SettingSpec& s) { return s.name == key; });
        out[key] = spec != plugin.manifest.settings.end() && spec->secret ? std::string("***") : value;
    }
    return out;
}

}  // namespace

int routes(const CommandOptions& options) {
    auto snapshot = load_quietly(options);
    if (!snapshot) return 1;
    Json rows = Json::array();
    for (const std::uint32_t target : snapshot->router.targets_in_match_order()) {
        const auto& route = snapshot->routes[target];
        Json row = {{"method", route.method}, {"path", route.pattern}, {"plugin", route.plugin->name()}};
        if (route.resource)
            row["handler"] = "resource " + route.resource->model.name + " (" + route.handler_symbol + ")";
        else
            row["handler"] = route.handler_symbol;
        row["hooks"] = hooks_of(*snapshot, *route.mount);
        rows.push_back(std::move(row));
    }
    // A plugin's static files answer GET and HEAD under their prefix, after
    // the routes (the pipeline tries them when no route matched).
    for (const auto& mount : snapshot->mounts) {
        if (!mount.site) continue;
        Json row = {{"method", "GET"},
                    {"path", mount.site_prefix == "/" ? std::string("/**") : mount.site_prefix + "/**"},
                    {"plugin", mount.plugin->name()},
                    {"handler", "static files " + mount.site->root().string()}};
        row["hooks"] = hooks_of(*snapshot, mount);
        rows.push_back(std::move(row));
    }
    if (options.format == "json") {
        std::cout << rows.dump(2) << "\n";
        return 0;
    }
    std::vector<std::vector<std::string>> table{{"METHOD", "PATH", "PLUGIN", "HANDLER", "HOOKS"}};
    for (const auto& row : rows)
        table.push_back({row["method"], row["path"], row["plugin"], row["handler"], hooks_text(row["hooks"])});
    print_table(table);
    return 0;
}

int openapi(const CommandOptions& options, const std::string& output) {
    auto snapshot = load_quietly(options);
    if (!snapshot) return 1;
    // Printed whether or not the host serves it (openapi.enabled: false only turns the route off).
    const std::string text = app::openapi_document(*snapshot, snapshot->openapi).dump(2) + "\n";
    if (output.empty() || output == "-") {
        std::cout << text;
        return 0;
    }
    std::ofstream out(output, std::ios::binary | std::ios::trunc);
    if (out) out << text;
    if (!out) {
        std::cerr << output << ": cannot write: " << std::strerror(errno) << "\n";
        return 1;
    }
    return 0;
}

int plugins(const CommandOptions& options) {
    auto config = read_operator_config(options);
    if (!config) return 1;
    ops::init_logging("error");  // a symbol-clash warning is the check's, not this list's
    std::vector<fs::path> search(options.plugin_dirs.begin(), options.plugin_dirs.end());
    search.insert(search.end(), config->plugin_path.begin(), config->plugin_path.end());
    Json rows = Json::array();
    bool refused = false;
    for (const auto& entry : config->plugins) {
        Json row = {{"name", entry.name}, {"plugin", entry.plugin()}, {"enabled", entry.enabled},
                    {"mount", entry.mount}};
        if (!entry.enabled) {
            row["status"] = "disabled";
            rows.push_back(std::move(row));
            continue;
        }
        try {
            // Loaded and checked as serve would, but init is not run.
            const auto plugin = plugins::load_plugin(entry, plugins::find_plugin(entry.plugin(), search));
            row["version"] = plugin->ctx.version;
            row["abi"] = abi_text(plugin->descriptor->abi_major, plugin->descriptor->abi_minor);
            row["file"] = plugin->ctx.file.string();
            row["status"] = "loaded";
            row["settings"] = settings_json(*plugin);
        } catch (const plugins::PluginError& e) {
            row["status"] = "refused";
            row["reason"] = e.what();
            refused = true;
        }
        rows.push_back(std::move(row));
    }
    if (options.format == "json") {
        std::cout << rows.dump(2) << "\n";
        return refused ? 1 : 0;
    }
    std::vector<std::vector<std::string>> table{{"NAME", "PLUGIN", "VERSION", "ABI", "STATUS", "MOUNT", "FILE"}};
    const auto text = [](const Json& row, const char* key) {
        return row.contains(key) ? row[key].get<std::string>() : std::string("-");
    };
    for (const auto& row : rows)
        table.push_back({text(row, "name"), text(row, "plugin"), text(row, "version"), text(row, "abi"),
                         text(row, "status"), text(row, "mount"), text(row, "file")});
    print_table(table);
    for (const auto& row : rows) {
        if (row.contains("settings") && !row["settings"].empty()) {
            std::string line;
            for (const auto& [key, value] : row["settings"].items())
                line += (line.empty() ? "" : ", ") + key + "=" + value.get<std::string>();
            std::cout << row["name"].get<std::string>() << " settings: " << line << "\n";
        }
        if (row.contains("reason")) std::cout << row["name"].get<std::string>() << " refused: " << text(row, "reason") << "\n";
    }
    return refused ? 1 : 0;
}

int inspect(const InspectOptions& options) {
    const fs::path file = options.file;
    std::error_code ec;
    if (!fs::is_regular_file(file, ec)) {
        std::cerr << "trellis inspect: " << file.string() << ": " << (fs::exists(file, ec) ? "not a regular file" : "no such file") << "\n";
        return 1;
    }
    ops::init_logging("error");
    // The host finds plugin NAME as libNAME.so: the name it would ask for.
    std::string name = file.stem().string();
    if (name.rfind("lib", 0) == 0) name.erase(0, 3);
    config::PluginConfig entry;
    entry.name = name;
    std::string refusal;
    try {
        plugins::open_plugin(entry, file);
    } catch (const plugins::PluginError& e) {
        refusal = e.what();
    }
    if (options.lint) {
        if (!refusal.empty()) {
            std::cerr << refusal << "\n";
            return 1;
        }
        std::cout << file.string() << ": OK\n";
        return 0;
    }

    // What the file says about itself, read as far as it can be read: a
    // refused plugin is described too.
    Json out = {{"file", fs::absolute(file, ec).string()}};
    boost::dll::shared_library library;
    try {
        library.load(file, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
    } catch (const std::system_error&) {
    }
    const trellis_plugin_descriptor* d = nullptr;
    if (library.is_loaded() && library.has(TRELLIS_ENTRY_SYMBOL))
        d = library.get<const trellis_plugin_descriptor*()>(TRELLIS_ENTRY_SYMBOL)();
    out["host_abi"] = abi_text(TRELLIS_ABI_MAJOR, TRELLIS_ABI_MINOR);
    std::optional<config::Manifest> manifest;
    if (d) {
        out["plugin"] = d->name ? d->name : "";
        out["version"] = d->version ? d->version : "";
        out["abi"] = abi_text(d->abi_major, d->abi_minor);
        out["descriptor_size"] = d->struct_size;
        if (library.has("trellis_manifest_source"))
            out["manifest_source"] = std::string(&library.get<const char>("trellis_manifest_source"));
        const std::string text(d->manifest.ptr ? d->manifest.ptr : "", d->manifest.ptr ? d->manifest.len : 0);
        out["manifest"] = text;
        try {
            manifest = config::parse_manifest(text, file.string() + " (embedded manifest)");
        } catch (const config::ConfigError&) {
            // the refusal says why
        }
    }
    const auto exported = plugins::exported_functions(plugins::read_dynamic_symbols(file));
    Json handlers = Json::array();
    if (manifest) {
        const auto add = [&](std::string where, const std::string& symbol) {
            handlers.push_back({{"where", std::move(where)}, {"symbol", symbol},
                                {"resolves", library.is_loaded() && library.has(symbol)}});
        };
        for (std::size_t i = 0; i < manifest->routes.size(); ++i)
            add("routes[" + std::to_string(i) + "] " + manifest->routes[i].method + " " + manifest->routes[i].path,
                manifest->routes[i].handler);
        for (const auto& hook : manifest->hooks)
            add("hooks " + std::string(kHookNames[static_cast<std::size_t>(hook.kind)]), hook.handler);
        for (const auto& handler : manifest->errors) add("errors", handler.handler);
        // The tables a DBA will find (namespaced per plugin, or chosen with table:).
        Json tables = Json::array();
        for (const auto& model : manifest->models) tables.push_back({{"model", model.name}, {"table", model.table}});
        if (!tables.empty()) out["tables"] = std::move(tables);
        Json resources = Json::array();
        for (const auto& resource : manifest->resources) {
            Json methods = Json::array();
            for (const auto op : resource.methods) methods.push_back(config::ResourceSpec::op_name(op));
            resources.push_back({{"model", resource.model},
                                 {"path", resource.path},
                                 {"methods", std::move(methods)},
                                 {"limit", {{"default", resource.limit_default}, {"max", resource.limit_max}}}});
        }
        if (!resources.empty()) out["resources"] = std::move(resources);
    }
    out["handlers"] = std::move(handlers);
    Json own = Json::array();
    for (const auto& symbol : exported)
        if (symbol != TRELLIS_ENTRY_SYMBOL && symbol.rfind("trellis_manifest_", 0) != 0) own.push_back(symbol);
    out["exported_functions"] = std::move(own);
    out["loadable"] = refusal.empty();
    if (!refusal.empty()) out["refused"] = refusal;

    if (options.format == "json") {
        std::cout << out.dump(2) << "\n";
        return refusal.empty() ? 0 : 1;
    }
    const auto field = [&](const char* key) { return out.contains(key) ? out[key].dump() : std::string("-"); };
    const auto str = [&](const char* key) {
        return out.contains(key) && out[key].is_string() ? out[key].get<std::string>() : std::string("-");
    };
    std::cout << "file:        " << str("file") << "\n";
    if (d) {
        std::cout << "plugin:      " << str("plugin") << " " << str("version") << "\n"
                  << "abi:         " << str("abi") << " (this host speaks " << str("host_abi") << ")\n"
                  << "descriptor:  " << field("descriptor_size") << " bytes\n";
    } else {
        std::cout << "plugin:      - (no Trellis descriptor)\n";
    }
    if (!out["handlers"].empty()) {
        std::cout << "handlers:\n";
        std::vector<std::vector<std::string>> table;
        for (const auto& h : out["handlers"])
            table.push_back({"  " + h["where"].get<std::string>(), h["symbol"].get<std::string>(),
                             h["resolves"].get<bool>() ? "ok" : "NOT EXPORTED"});
        print_table(table);
    }
    if (out.contains("tables")) {
        std::string tables;
        for (const auto& t : out["tables"])
            tables += (tables.empty() ? "" : ", ") + t["model"].get<std::string>() + " -> " + t["table"].get<std::string>();
        std::cout << "tables:      " << tables << "\n";
    }
    std::string list;
    for (const auto& symbol : out["exported_functions"]) list += (list.empty() ? "" : " ") + symbol.get<std::string>();
    std::cout << "exported:    " << (list.empty() ? "-" : list) << "\n";
    if (d) {
        std::cout << "manifest:" << (out.contains("manifest_source") ? " (built from " + str("manifest_source") + ")" : "")
                  << "\n";
        std::istringstream lines(str("manifest"));
        for (std::string line; std::getline(lines, line);) std::cout << "  | " << line << "\n";
    }
    if (refusal.empty()) {
        std::cout << "status:      loadable by this host\n";
        return 0;
    }
    std::cout << "status:      refused\n";
    std::cerr << refusal << "\n";
    return 1;
}

}  // namespace trellis::service
