#include "plugins/loader.hpp"

#include "plugins/elf_symbols.hpp"
#include "plugins/symbol_clash.hpp"

#include <cxxabi.h>

#include <cstdlib>
#include <optional>

#include <cstddef>
#include <sstream>
#include <system_error>

#include <chrono>

#include <spdlog/spdlog.h>

namespace trellis::plugins {
namespace fs = std::filesystem;

namespace {

// The smallest descriptor a 1.x plugin can have: everything up to `shutdown`.
constexpr std::size_t kMinDescriptorSize =
    offsetof(trellis_plugin_descriptor, shutdown) + sizeof(trellis_shutdown_fn);

std::string abi_string(std::uint32_t major, std::uint32_t minor) {
    return std::to_string(major) + "." + std::to_string(minor);
}

[[noreturn]] void refuse(const fs::path& file, const std::string& plugin, const std::string& why) {
    throw PluginError(file.string() + ": plugin '" + plugin + "' refused: " + why);
}

}  // namespace

LoadedPlugin::~LoadedPlugin() {
    if (initialized && descriptor->shutdown) {
        spdlog::debug("plugin {}: shutdown", ctx.name);
        descriptor->shutdown(host, &ctx);
    }
}

void LoadedPlugin::init(const trellis_host_api* host_table) {
    if (initialized) return;
    host = host_table;
    ctx.last_error.clear();
    if (descriptor->init && descriptor->init(host, &ctx) != TRELLIS_OK)
        refuse(ctx.file, ctx.name,
               ctx.last_error.empty() ? std::string("init failed (see the plugin's log lines above)")
                                      : "init failed: " + ctx.last_error);
    initialized = true;
}

const LoadedPlugin::ErrorHandler* LoadedPlugin::error_handler_for(int status) const noexcept {
    return config::find_status_match(error_handlers, status, [](const ErrorHandler& h) -> const config::StatusMatch& {
        return h.spec.match;
    });
}

fs::path find_plugin(const std::string& name, const std::vector<fs::path>& search_path) {
    const std::string filename = "lib" + name + ".so";
    std::string searched;
    for (const auto& dir : search_path) {
        fs::path candidate = dir / filename;
        std::error_code ec;
        if (fs::is_regular_file(candidate, ec)) return candidate;
        searched += (searched.empty() ? "" : ", ") + dir.string();
    }
    if (searched.empty()) searched = "(no directories: plugin_path is empty)";
    throw PluginError("plugin '" + name + "': " + filename + " not found; searched " + searched +
                      ". Add its directory to plugin_path or pass --plugin-path.");
}

namespace {
// Why a manifest handler does not resolve, with what the library does export
// that comes close: a typo, or the function compiled without extern "C".
std::string missing_handler_text(const std::string& symbol, const std::vector<std::string>& exported) {
    std::string text = "symbol '" + symbol + "' is not exported by the library";
    for (const auto& candidate : exported) {
        if (candidate.rfind("_Z", 0) != 0) continue;
        int status = 0;
        std::unique_ptr<char, void (*)(void*)> plain(abi::__cxa_demangle(candidate.c_str(), nullptr, nullptr, &status),
                                                      std::free);
        if (status != 0 || !plain) continue;
        const std::string_view demangled(plain.get());
        const auto paren = demangled.find('(');
        const std::string_view function = demangled.substr(0, paren);
        if (function == symbol || function.ends_with("::" + symbol))
            return text + "; it is exported only C++-mangled, as '" + std::string(demangled) +
                   "': define it with TRELLIS_HANDLER (extern \"C\")";
    }
    std::vector<std::string_view> names(exported.begin(), exported.end());
    const std::string hint = config::did_you_mean(symbol, names);
    return text + (hint.empty() ? "" : "; " + hint) + " (define it with TRELLIS_HANDLER)";
}

// A plugin that exports a symbol a host library also defines, and was not
// linked to bind its own symbols, silently calls the host's copy.
void warn_about_symbol_clashes(const fs::path& file, const std::string& name, const config::Manifest& manifest,
                               void* handle, bool deep) {
    std::vector<std::string> own{TRELLIS_ENTRY_SYMBOL, "trellis_manifest_text", "trellis_manifest_size",
                                 "trellis_manifest_source"};
    for (const auto& route : manifest.routes) own.push_back(route.handler);
    for (const auto& hook : manifest.hooks) own.push_back(hook.handler);
    for (const auto& handler : manifest.errors) own.push_back(handler.handler);
    const auto started = std::chrono::steady_clock::now();
    const auto clashes = find_symbol_clashes(file, handle, deep, own);
    spdlog::debug("plugin {}: its dynamic symbols compared with the host's in {} us", name,
                  std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started).count());
    constexpr std::size_t kShown = 5;
    for (std::size_t i = 0; i < clashes.size() && i < kShown; ++i) {
        const auto& c = clashes[i];
        if (c.kind == SymbolClash::Kind::Defined)
            spdlog::warn("plugin {} ({}): exports '{}', which {} also defines: the plugin's own calls to it reach that "
                         "library, not the plugin's copy; build it with trellis_add_plugin() (or link it with "
                         "-Wl,-Bsymbolic -Wl,--exclude-libs,ALL and hidden visibility)",
                         name, file.string(), c.symbol, c.host_library);
        else
            spdlog::warn("plugin {} ({}): needs '{}', which its dependency {} defines, but calls reach the host's {}; "
                         "set `isolation: deep` for the plugin in the configuration to search its own libraries first",
                         name, file.string(), c.symbol, c.own_library, c.host_library);
    }
    if (clashes.size() > kShown)
        spdlog::warn("plugin {}: {} more symbols like these", name, clashes.size() - kShown);
}
}  // namespace

std::shared_ptr<LoadedPlugin> open_plugin(const config::PluginConfig& entry, const fs::path& file) {
    auto plugin = std::make_shared<LoadedPlugin>();
    // `name` is what the library must call itself; messages name the
    // instance too when the operator mounted the library under another key.
    const std::string& name = entry.plugin();
    const std::string label = entry.name == entry.plugin() ? name : entry.name + "' (plugin '" + name + "')";

    // RTLD_LOCAL keeps a plugin's private dependencies from colliding with
    // another plugin's; RTLD_NOW surfaces missing symbols here, not mid-request.
    try {
        auto mode = boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local;
        // isolation: deep: the plugin's own dependencies are searched before
        // the host's libraries (RTLD_DEEPBIND; not under AddressSanitizer).
        if (entry.deep_isolation) mode = mode | boost::dll::load_mode::rtld_deepbind;
        plugin->library.load(file, mode);
    } catch (const std::system_error& e) {
        refuse(file, label, std::string("cannot load the library: ") + e.what());
    }
    if (!plugin->library.has(TRELLIS_ENTRY_SYMBOL))
        refuse(file, label, "no entry symbol '" TRELLIS_ENTRY_SYMBOL "' (is it a Trellis plugin? "
                           "build it with trellis_add_plugin() from the Trellis SDK)");

    auto& entry_fn = plugin->library.get<const trellis_plugin_descriptor*()>(TRELLIS_ENTRY_SYMBOL);
    const trellis_plugin_descriptor* d = entry_fn();
    if (!d) refuse(file, label, "the entry symbol returned no descriptor");
    if (d->struct_size < kMinDescriptorSize)
        refuse(file, label, "descriptor struct_size " + std::to_string(d->struct_size) +
                               " is smaller than the ABI 1.0 minimum " + std::to_string(kMinDescriptorSize) +
                               " (corrupt, or not built with the Trellis SDK)");

    const std::string version = d->version ? d->version : "?";
    const std::string theirs = abi_string(d->abi_major, d->abi_minor);
    const std::string ours = abi_string(TRELLIS_ABI_MAJOR, TRELLIS_ABI_MINOR);
    if (d->abi_major != TRELLIS_ABI_MAJOR)
        refuse(file, label, "version " + version + " was built for ABI " + theirs + ", this host speaks ABI " +
                               ours + "; major versions must match: rebuild the plugin against this host's SDK");
    if (d->abi_minor > TRELLIS_ABI_MINOR)
        refuse(file, label, "version " + version + " was built for ABI " + theirs + ", this host speaks ABI " +
                               ours + "; the plugin needs a newer host: upgrade trellis or use an older "
                               "build of the plugin");

    if (!d->name || name != d->name)
        refuse(file, label, std::string("the library's descriptor name is '") + (d->name ? d->name : "(null)") +
                               "', not '" + name + "'; the file name must match the plugin name");

    // Problems in the manifest point at the author's file when the build
    // recorded it (trellis_add_plugin() does): "x.plugin.yaml:6:5 (embedded
    // in libx.so): ...".
    std::string source = file.string() + " (embedded manifest)";
    std::string origin;
    if (plugin->library.has("trellis_manifest_source")) {
        source = &plugin->library.get<const char>("trellis_manifest_source");
        origin = "embedded in " + file.filename().string();
    }
    try {
        plugin->manifest = config::parse_manifest(std::string_view(d->manifest.ptr ? d->manifest.ptr : "",
                                                                   d->manifest.len),
                                                  source, origin);
    } catch (const config::ConfigError& e) {
        refuse(file, label, std::string("invalid manifest:\n") + e.what());
    }
    const auto& manifest = plugin->manifest;
    if (manifest.plugin != name)
        refuse(file, label, "the manifest name is '" + manifest.plugin + "', not '" + name + "'");
    if (manifest.version != version)
        refuse(file, label, "the manifest version " + manifest.version + " differs from the library's " + version);
    if (manifest.abi_major != d->abi_major || manifest.abi_minor > d->abi_minor)
        refuse(file, label, "the manifest declares ABI " + abi_string(manifest.abi_major, manifest.abi_minor) +
                               " but the library was built for ABI " + theirs);

    // Resolve every handler now: a missing symbol refuses the plugin at load,
    // not with a 500 at the first request.
    std::ostringstream missing;
    std::optional<std::vector<std::string>> exported;  // read once, when a handler is missing
    const auto resolve = [&](const std::string& symbol, const std::string& key_path, int line,
                             int column) -> trellis_handler_fn {
        if (!plugin->library.has(symbol)) {
            if (!exported) exported = exported_functions(read_dynamic_symbols(file));
            missing << "\n  " << source << ":" << line << ":" << column << (origin.empty() ? "" : " (" + origin + ")")
                    << ": " << key_path << ": "
                    << missing_handler_text(symbol, *exported);
            return nullptr;
        }
        return &plugin->library.get<trellis_status(const trellis_host_api*, trellis_call*)>(symbol);
    };
    for (std::size_t i = 0; i < manifest.routes.size(); ++i) {
        const auto& route = manifest.routes[i];
        plugin->route_handlers.push_back(
            resolve(route.handler, "routes[" + std::to_string(i) + "].handler", route.line, route.column));
    }
    for (const auto& hook : manifest.hooks)
        plugin->hooks.push_back({hook, resolve(hook.handler, "hooks", hook.line, hook.column)});
    for (const auto& handler : manifest.errors)
        plugin->error_handlers.push_back({handler, resolve(handler.handler, "errors", handler.line, handler.column)});
    if (!missing.str().empty()) refuse(file, label, "handlers missing:" + missing.str());

    plugin->descriptor = d;
    plugin->ctx.name = entry.name;
    plugin->ctx.library = name;
    plugin->ctx.version = version;
    plugin->ctx.file = file;
    return plugin;
}

std::shared_ptr<LoadedPlugin> load_plugin(const config::PluginConfig& entry, const fs::path& file) {
    auto plugin = open_plugin(entry, file);
    const std::string& name = entry.plugin();
    const std::string label = entry.name == entry.plugin() ? name : entry.name + "' (plugin '" + name + "')";
    const auto& manifest = plugin->manifest;
    config::DiagnosticSink sink(entry.file);
    auto settings = config::resolve_settings(manifest, entry.settings, name, sink);
    try {
        sink.throw_if_any();
    } catch (const config::ConfigError& e) {
        refuse(file, label, std::string("invalid settings:\n") + e.what());
    }

    warn_about_symbol_clashes(file, name, manifest, plugin->library.native(), entry.deep_isolation);

    plugin->ctx.settings.insert(settings.begin(), settings.end());
    return plugin;
}

}  // namespace trellis::plugins
