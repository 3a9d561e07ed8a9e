// The command line: --version, --help, `check` on good and bad
// configurations, and where plugins are looked up.
#include <regex>
#include <string>

#include "fixture.hpp"

namespace e2e {
namespace {


TEST(Cli, VersionPrintsHostAndAbiVersion) {
    RunResult r = run_trellis({"--version"});
    EXPECT_TRUE(exited_with(r, 0)) << r.describe();
    EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(^trellis \S+ \(ABI 1\.3\)\s*$)")))
        << "expected 'trellis <version> (ABI 1.3)' on stdout:\n" << r.describe();
}

TEST(Cli, HelpListsSubcommands) {
    RunResult r = run_trellis({"--help"});
    EXPECT_TRUE(exited_with(r, 0)) << r.describe();
    EXPECT_TRUE(Contains(r.out, "serve"));
    EXPECT_TRUE(Contains(r.out, "check"));
}

TEST(Cli, CheckAcceptsValidConfiguration) {
    TempDir dir;
    auto config = dir.write("trellis.yaml",
                            config_yaml(free_port(),
                                        "  hello: {mount: /, settings: {greeting: Hi}}\n"
                                        "  faulty: {mount: /}\n"
                                        "  golden: {mount: /g}\n"
                                        "  libcxx: {mount: /}\n",
                                        {.server_extra = "  max_request_bytes: 1MiB\n"}));
    RunResult r = run_check(config);
    EXPECT_TRUE(exited_with(r, 0)) << r.describe();
    EXPECT_TRUE(Contains(r.out, "OK"));
}

TEST(Cli, CheckDoesNotServe) {
    TempDir dir;
    int port = free_port();
    auto config = dir.write("trellis.yaml", config_yaml(port, "  hello: {mount: /}\n"));
    RunResult r = run_check(config);
    EXPECT_TRUE(exited_with(r, 0)) << r.describe();
    EXPECT_FALSE(port_accepts(port)) << "something listens on the configured port after check";
}

constexpr std::string_view kBadConfig =
    "server:\n"                // 1
    "  listen: 127.0.0.1\n"    // 2
    "  prot: 8080\n"           // 3  unknown key
    "logging:\n"               // 4
    "  level: debug\n"         // 5
    "plugins:\n"               // 6
    "  hello:\n"               // 7
    "    mount: hello\n";      // 8  no leading '/'

TEST(Cli, CheckReportsUnknownKeyWithPositionAndSuggestion) {
    TempDir dir;
    auto config = dir.write("trellis.yaml", kBadConfig);
    RunResult r = run_check(config);
    EXPECT_TRUE(exited_with(r, 1)) << r.describe();
    std::regex line(std::regex_replace(config.string(), std::regex(R"([.^$|()\[\]{}*+?\\])"), R"(\$&)") +
                    R"(:3:[1-9][0-9]*: server\.prot: .*did you mean 'port'\?)");
    EXPECT_TRUE(std::regex_search(r.err, line))
        << "expected '" << config.string() << ":3:<col>: server.prot: ... did you mean 'port'?' in:\n" << r.err;
}

TEST(Cli, CheckReportsBadMountWithPosition) {
    TempDir dir;
    auto config = dir.write("trellis.yaml", kBadConfig);
    RunResult r = run_check(config);
    EXPECT_TRUE(exited_with(r, 1)) << r.describe();
    std::regex line(std::regex_replace(config.string(), std::regex(R"([.^$|()\[\]{}*+?\\])"), R"(\$&)") +
                    R"(:8:[1-9][0-9]*: plugins\.hello\.mount: must start with '/')");
    EXPECT_TRUE(std::regex_search(r.err, line))
        << "expected '" << config.string() << ":8:<col>: plugins.hello.mount: must start with '/'' in:\n"
        << r.err;
}

TEST(Cli, CheckMissingConfigFileFails) {
    TempDir dir;
    auto missing = dir.path() / "does-not-exist.yaml";
    RunResult r = run_check(missing);
    EXPECT_TRUE(exited_with(r, 1)) << r.describe();
    EXPECT_TRUE(Contains(r.err, missing.string()));
}

TEST(Cli, CheckRejectsInvalidYamlWithPosition) {
    TempDir dir;
    auto config = dir.write("trellis.yaml", "server:\n  port: [1, 2\nplugins: {}\n");
    RunResult r = run_check(config);
    EXPECT_TRUE(exited_with(r, 1)) << r.describe();
    EXPECT_TRUE(std::regex_search(r.err, std::regex(R"(trellis\.yaml:[1-9][0-9]*:[1-9][0-9]*: )")))
        << "expected file:line:col in:\n" << r.err;
}

// ---- plugin lookup ------------------------------------------------------------

// A folder holding libhello.so as a symlink to `target`.
fs::path folder_with_hello(const TempDir& dir, const std::string& sub, const fs::path& target) {
    fs::path folder = dir.path() / sub;
    fs::create_directories(folder);
    fs::create_symlink(target, folder / "libhello.so");
    return folder;
}

TEST(PluginLookup, CommandLinePathComesBeforeConfigPath) {
    TempDir dir;
    // --plugin-path has the real hello; the config's plugin_path has a
    // "libhello.so" that is really the noentry plugin.
    auto good = folder_with_hello(dir, "cli", plugin_dir() / "libhello.so");
    auto bad = folder_with_hello(dir, "cfg", test_plugin_dir() / "libnoentry.so");
    auto config = dir.write("trellis.yaml",
                            config_yaml(free_port(), "  hello: {mount: /}\n",
                                        {.top_level_extra = "plugin_path:\n  - " + bad.string() + "\n"}));
    RunResult r = run_check(config, {"--plugin-path", good.string()});
    EXPECT_TRUE(exited_with(r, 0)) << r.describe();
}

TEST(PluginLookup, CommandLinePathsAreSearchedInOrder) {
    TempDir dir;
    auto bad = folder_with_hello(dir, "first", test_plugin_dir() / "libnoentry.so");
    auto good = folder_with_hello(dir, "second", plugin_dir() / "libhello.so");
    auto config = dir.write("trellis.yaml", config_yaml(free_port(), "  hello: {mount: /}\n"));
    RunResult r = run_check(config, {"--plugin-path", bad.string(), "--plugin-path", good.string()});
    EXPECT_TRUE(exited_with(r, 1)) << "the first --plugin-path holds a broken libhello.so\n" << r.describe();
    EXPECT_TRUE(Contains(r.err, (bad / "libhello.so").string()));
}

TEST(PluginLookup, ConfigPluginPathIsUsed) {
    TempDir dir;
    auto good = folder_with_hello(dir, "cfg", plugin_dir() / "libhello.so");
    auto config = dir.write("trellis.yaml",
                            config_yaml(free_port(), "  hello: {mount: /}\n",
                                        {.top_level_extra = "plugin_path:\n  - /nonexistent-trellis-dir\n  - " +
                                                            good.string() + "\n"}));
    RunResult r = run_check(config, {});
    EXPECT_TRUE(exited_with(r, 0)) << r.describe();
}

TEST(PluginLookup, RelativeConfigPluginPathIsRelativeToConfigFile) {
    TempDir dir;
    folder_with_hello(dir, "conf/plugins", plugin_dir() / "libhello.so");
    auto config = dir.write("conf/trellis.yaml", config_yaml(free_port(), "  hello: {mount: /}\n",
                                                             {.top_level_extra = "plugin_path: [plugins]\n"}));
    RunResult r = run_check(config, {});  // the test's cwd is not dir/conf
    EXPECT_TRUE(exited_with(r, 0)) << r.describe();
}

}  // namespace
}  // namespace e2e
