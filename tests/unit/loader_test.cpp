// The ABI checks of the plugin loader, called directly on deliberately
// broken plugins (tests/plugins/). The end-to-end suite checks the same
// refusals through `trellis check`; these pin the loader's own contract.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "plugins/loader.hpp"
#include "app/snapshot.hpp"

namespace {
namespace fs = std::filesystem;
using trellis::plugins::PluginError;

const fs::path kTestPlugins = TRELLIS_TEST_PLUGIN_DIR;
const fs::path kPlugins = TRELLIS_PLUGIN_DIR;

trellis::config::PluginConfig entry(const std::string& name) {
    trellis::config::PluginConfig e;
    e.name = name;
    e.file = "test.yaml";
    return e;
}

// The refusal message for plugin `name`, or "" if it loaded.
std::string refusal(const std::string& name) {
    try {
        trellis::plugins::load_plugin(entry(name), trellis::plugins::find_plugin(name, {kTestPlugins, kPlugins}));
    } catch (const PluginError& e) {
        return e.what();
    }
    return "";
}

TEST(Loader, LoadsAGoodPluginAndResolvesEveryHandler) {
    auto plugin = trellis::plugins::load_plugin(entry("hello"), kPlugins / "libhello.so");
    EXPECT_EQ(plugin->name(), "hello");
    EXPECT_EQ(plugin->ctx.version, "1.0.0");
    ASSERT_EQ(plugin->manifest.routes.size(), 3u);
    ASSERT_EQ(plugin->route_handlers.size(), 3u);
    for (auto fn : plugin->route_handlers) EXPECT_NE(fn, nullptr);
    EXPECT_EQ(plugin->ctx.settings.at("greeting"), "Hello") << "the manifest default applies";
}

TEST(Loader, GoldenPluginBuiltAgainstFrozenAbi10StillLoads) {
    auto plugin = trellis::plugins::load_plugin(entry("golden"), kTestPlugins / "libgolden.so");
    EXPECT_EQ(plugin->descriptor->abi_major, 1u);
    EXPECT_EQ(plugin->descriptor->abi_minor, 0u);
}

TEST(Loader, RefusesLibraryWithoutEntrySymbol) {
    auto msg = refusal("noentry");
    EXPECT_NE(msg.find("libnoentry.so"), std::string::npos) << msg;
    EXPECT_NE(msg.find("plugin 'noentry' refused"), std::string::npos) << msg;
    EXPECT_NE(msg.find("no entry symbol 'trellis_plugin_entry'"), std::string::npos) << msg;
}

TEST(Loader, RefusesOtherAbiMajorNamingBothVersions) {
    auto msg = refusal("abimajor");
    EXPECT_NE(msg.find("built for ABI 2.0"), std::string::npos) << msg;
    EXPECT_NE(msg.find("this host speaks ABI 1."), std::string::npos) << msg;
    EXPECT_NE(msg.find("rebuild"), std::string::npos) << msg;
}

TEST(Loader, RefusesNewerAbiMinor) {
    auto msg = refusal("abiminor");
    EXPECT_NE(msg.find("built for ABI 1.99"), std::string::npos) << msg;
    EXPECT_NE(msg.find("newer host"), std::string::npos) << msg;
}

TEST(Loader, RefusesTooSmallDescriptor) {
    auto msg = refusal("smallstruct");
    EXPECT_NE(msg.find("struct_size 8"), std::string::npos) << msg;
}

TEST(Loader, RefusesInvalidManifestWithPosition) {
    auto msg = refusal("badmanifest");
    EXPECT_NE(msg.find("invalid manifest"), std::string::npos) << msg;
    // The author's file, recorded by trellis_add_plugin(), and where it is embedded.
    EXPECT_NE(msg.find("tests/plugins/sdk/badmanifest.plugin.yaml:6:"), std::string::npos) << msg;
    EXPECT_NE(msg.find(" (embedded in libbadmanifest.so): routes[1]"), std::string::npos) << msg;
}

TEST(Loader, RefusesManifestHandlerThatIsNotExported) {
    auto msg = refusal("missinghandler");
    EXPECT_NE(msg.find(".handler: symbol"), std::string::npos) << msg;
    EXPECT_NE(msg.find("is not exported"), std::string::npos) << msg;
}

TEST(Loader, MissingHandlerExportedOnlyMangledGetsAHint) {
    auto msg = refusal("missinghandler");
    EXPECT_NE(msg.find("routes[2].handler: symbol 'missinghandler_mangled' is not exported by the library; it is "
                       "exported only C++-mangled, as 'missinghandler_mangled(trellis_host_api const*, trellis_call*)': "
                       "define it with TRELLIS_HANDLER (extern \"C\")"),
              std::string::npos)
        << msg;
}

TEST(Loader, RefusesDescriptorNameThatDiffersFromFileName) {
    auto msg = refusal("wrongname");
    EXPECT_NE(msg.find("descriptor name is 'impostor'"), std::string::npos) << msg;
}

TEST(Loader, RefusesMissingFileListingTheSearchedDirectories) {
    try {
        trellis::plugins::find_plugin("nosuch", {"/nonexistent/a", "/nonexistent/b"});
        FAIL() << "expected a refusal";
    } catch (const PluginError& e) {
        std::string msg = e.what();
        EXPECT_NE(msg.find("libnosuch.so not found"), std::string::npos) << msg;
        EXPECT_NE(msg.find("/nonexistent/a, /nonexistent/b"), std::string::npos) << msg;
    }
}

TEST(Snapshot, RefusesTwoPluginsClaimingOneRoute) {
    trellis::config::OperatorConfig config;
    config.plugins = {entry("dupa"), entry("dupb")};
    try {
        trellis::app::build_snapshot(config, {kTestPlugins});
        FAIL() << "expected a conflict";
    } catch (const trellis::app::LoadError& e) {
        ASSERT_EQ(e.problems().size(), 1u) << e.what();
        const auto& msg = e.problems()[0];
        EXPECT_NE(msg.find("plugin 'dupb' refused: route GET /same"), std::string::npos) << msg;
        EXPECT_NE(msg.find("conflicts with plugin 'dupa' route GET /same"), std::string::npos) << msg;
    }
}

TEST(Snapshot, DisabledPluginIsNotLoaded) {
    trellis::config::OperatorConfig config;
    auto ghost = entry("does-not-exist");
    ghost.enabled = false;
    config.plugins = {entry("hello"), ghost};
    auto snapshot = trellis::app::build_snapshot(config, {kPlugins});
    ASSERT_EQ(snapshot->plugins.size(), 1u);
    EXPECT_EQ(snapshot->routes.size(), 3u);
}

}  // namespace
