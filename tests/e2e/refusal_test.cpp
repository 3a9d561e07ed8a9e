// Every way the host must refuse a plugin, through `trellis check`: exit 1,
// an operator-friendly message naming the file and the plugin, and no call
// into the refused plugin (the test plugins print a canary if called).
#include <regex>
#include <string>

#include "fixture.hpp"

namespace e2e {
namespace {

class RefusalTest : public ::testing::Test {
protected:
    // `trellis check` with the given plugins block.
    RunResult check(std::string_view plugins_block, std::string_view top_level_extra = "",
                    const std::vector<std::string>& plugin_args = default_plugin_args()) {
        auto config = dir_.write("trellis.yaml", config_yaml(free_port(), plugins_block,
                                                             {.top_level_extra = std::string(top_level_extra)}));
        return run_check(config, plugin_args);
    }
    // `trellis check` with one test plugin mounted at /.
    RunResult check_one(const std::string& name) { return check("  " + name + ": {mount: /}\n"); }

    // Exit 1, message names file and plugin, nothing called, no OK.
    static void expect_refused(const RunResult& r, const std::string& name) {
        EXPECT_TRUE(r.status.exited && r.status.code == 1) << r.describe();
        EXPECT_TRUE(Contains(r.err, (test_plugin_dir() / ("lib" + name + ".so")).string())) << "plugin file path";
        EXPECT_TRUE(Contains(r.err, name)) << "plugin name";
        EXPECT_TRUE(NotContains(r.err, kCanary)) << "the host called into a plugin it refused";
        EXPECT_TRUE(NotContains(r.out, "OK"));
    }

    TempDir dir_;
};

TEST_F(RefusalTest, NoEntrySymbol) {
    RunResult r = check_one("noentry");
    expect_refused(r, "noentry");
    EXPECT_TRUE(Contains(r.err, "no entry symbol 'trellis_plugin_entry'"));
}

TEST_F(RefusalTest, AbiMajorDiffers) {
    RunResult r = check_one("abimajor");
    expect_refused(r, "abimajor");
    EXPECT_TRUE(Contains(r.err, "ABI 2.0"));
    EXPECT_TRUE(Contains(r.err, "this host speaks ABI 1.3"));
}

TEST_F(RefusalTest, AbiMinorNewer) {
    RunResult r = check_one("abiminor");
    expect_refused(r, "abiminor");
    EXPECT_TRUE(Contains(r.err, "ABI 1.99"));
    EXPECT_TRUE(Contains(r.err, "this host speaks ABI 1.3"));
    EXPECT_TRUE(Contains(r.err, "newer"));
}

TEST_F(RefusalTest, DescriptorStructSizeTooSmall) {
    RunResult r = check_one("smallstruct");
    expect_refused(r, "smallstruct");
    EXPECT_TRUE(Contains(r.err, "struct_size"));
}

TEST_F(RefusalTest, InvalidManifestWithPosition) {
    RunResult r = check_one("badmanifest");
    expect_refused(r, "badmanifest");
    EXPECT_TRUE(Contains(r.err, "manifest"));
    // sdk/badmanifest.plugin.yaml: line 6 is the route without a handler; the
    // message names the author's file and the library it is embedded in.
    EXPECT_TRUE(std::regex_search(
        r.err, std::regex(R"(tests/plugins/sdk/badmanifest\.plugin\.yaml:6:[1-9][0-9]* \(embedded in libbadmanifest\.so\): routes\[1\])")))
        << "expected 'badmanifest.plugin.yaml:6:<col> (embedded in libbadmanifest.so): routes[1]...' in:\n" << r.err;
}

TEST_F(RefusalTest, ManifestHandlerNotExported) {
    RunResult r = check_one("missinghandler");
    expect_refused(r, "missinghandler");
    EXPECT_TRUE(Contains(r.err, "routes[1].handler"));
    EXPECT_TRUE(Contains(r.err, "not exported"));
    EXPECT_TRUE(Contains(r.err, "missinghandler_gone"));
}

TEST_F(RefusalTest, DescriptorNameDiffersFromManifest) {
    RunResult r = check_one("namemismatch");
    expect_refused(r, "namemismatch");
    EXPECT_TRUE(Contains(r.err, "name"));
    EXPECT_TRUE(Contains(r.err, "somethingelse")) << "the manifest's name";
}

TEST_F(RefusalTest, PluginNameDiffersFromConfiguredName) {
    RunResult r = check_one("wrongname");
    expect_refused(r, "wrongname");
    EXPECT_TRUE(Contains(r.err, "name"));
    EXPECT_TRUE(Contains(r.err, "impostor")) << "the name the library claims";
}

TEST_F(RefusalTest, InitFailure) {
    RunResult r = check_one("initfail");
    expect_refused(r, "initfail");
    EXPECT_TRUE(Contains(r.err, "init failed"));
    EXPECT_TRUE(Contains(r.err, "database unreachable")) << "what the plugin logged before failing";
}

TEST_F(RefusalTest, MissingPluginFileNamesDirectoriesSearched) {
    TempDir cli_dir, config_dir;
    RunResult r = check("  ghost: {mount: /}\n", "plugin_path:\n  - " + config_dir.path().string() + "\n",
                        {"--plugin-path", cli_dir.path().string()});
    EXPECT_TRUE(r.status.exited && r.status.code == 1) << r.describe();
    EXPECT_TRUE(Contains(r.err, "ghost"));
    EXPECT_TRUE(Contains(r.err, "not found"));
    EXPECT_TRUE(Contains(r.err, cli_dir.path().string()));
    EXPECT_TRUE(Contains(r.err, config_dir.path().string()));
}

TEST_F(RefusalTest, RouteConflictNamesBothPlugins) {
    RunResult r = check("  dupa: {mount: /}\n  dupb: {mount: /}\n");
    EXPECT_TRUE(r.status.exited && r.status.code == 1) << r.describe();
    EXPECT_TRUE(Contains(r.err, "conflicts with"));
    EXPECT_TRUE(Contains(r.err, "dupa"));
    EXPECT_TRUE(Contains(r.err, "dupb"));
    EXPECT_TRUE(Contains(r.err, "/same"));
}

TEST_F(RefusalTest, SameRouteUnderDifferentMountsIsAccepted) {
    RunResult r = check("  dupa: {mount: /a}\n  dupb: {mount: /b}\n");
    EXPECT_TRUE(r.status.exited && r.status.code == 0) << r.describe();
    EXPECT_TRUE(Contains(r.out, "OK"));
}

TEST_F(RefusalTest, OneBadPluginFailsTheWholeCheck) {
    RunResult r = check("  hello: {mount: /}\n  abimajor: {mount: /x}\n");
    expect_refused(r, "abimajor");
}

TEST_F(RefusalTest, DisabledPluginIsNotLoaded) {
    RunResult r = check("  hello: {mount: /}\n"
                        "  ghost: {enabled: false}\n"
                        "  noentry: {enabled: false}\n"
                        "  initfail: {enabled: false}\n");
    EXPECT_TRUE(r.status.exited && r.status.code == 0) << r.describe();
    EXPECT_TRUE(Contains(r.out, "OK"));
    EXPECT_TRUE(NotContains(r.err, "database unreachable")) << "initfail's init ran";
}

}  // namespace
}  // namespace e2e
