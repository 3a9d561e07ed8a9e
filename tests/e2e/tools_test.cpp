// The read-only commands for operators and plugin authors, run as the real
// binary: `routes`, `plugins`, `inspect` and `check --format json`, their
// text and JSON output and their exit codes.
#include <algorithm>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "fixture.hpp"

namespace e2e {
namespace {


// `trellis <command> --config <dir>/trellis.yaml <plugin args> <extra...>`.
RunResult run_command(const TempDir& dir, const std::string& command, std::string_view plugins_block,
                      const std::vector<std::string>& extra = {}, const std::string& top_level = {}) {
    const auto config = dir.write("trellis.yaml", config_yaml(free_port(), plugins_block, {.top_level_extra = top_level}));
    std::vector<std::string> args{command, "--config", config.string()};
    for (const auto& a : default_plugin_args()) args.push_back(a);
    for (const auto& a : extra) args.push_back(a);
    return run_trellis(args);
}

nlohmann::json parsed(const RunResult& r) {
    try {
        return nlohmann::json::parse(r.out);
    } catch (const std::exception& e) {
        ADD_FAILURE() << "stdout is not JSON (" << e.what() << "):\n" << r.describe();
        return {};
    }
}

constexpr std::string_view kTwoPlugins =
    "  hello: {mount: /}\n"
    "  scoped: {mount: /s}\n";

TEST(RoutesCommand, ListsEveryRouteInMatchOrderWithPluginHandlerAndHooks) {
    TempDir dir;
    RunResult r = run_command(dir, "routes", kTwoPlugins, {"--format", "json"});
    ASSERT_TRUE(exited_with(r, 0)) << r.describe();
    const auto rows = parsed(r);
    ASSERT_TRUE(rows.is_array()) << r.out;
    std::vector<std::string> seen;
    for (const auto& row : rows) seen.push_back(row["method"].get<std::string>() + " " + row["path"].get<std::string>());
    // Static segments sort by text; a template before the longer ones under it.
    const std::vector<std::string> expected{
        "POST /echo",         "GET /hello",         "GET /hello/{name}", "GET /s/boom",
        "GET /s/conflict",    "GET /s/gone",        "GET /s/hook-crash", "POST /s/items",
        "GET /s/ok",          "GET /s/self-answer", "GET /s/teapot",     "GET /s/unavailable"};
    EXPECT_EQ(seen, expected) << r.out;
    const auto ok = std::find_if(rows.begin(), rows.end(), [](const auto& row) { return row["path"] == "/s/ok"; });
    ASSERT_NE(ok, rows.end());
    EXPECT_EQ((*ok)["plugin"], "scoped");
    EXPECT_EQ((*ok)["handler"], "scoped_ok");
    EXPECT_EQ((*ok)["hooks"], (nlohmann::json{{"before_request", {"scoped.scoped_auth"}},
                                              {"after_request", {"scoped.scoped_after"}},
                                              {"teardown", {"scoped.scoped_teardown"}}}));
    // hello's routes run none of scoped's plugin-scoped hooks.
    EXPECT_EQ(rows[0]["hooks"], nlohmann::json::object()) << rows[0];
}

TEST(RoutesCommand, TextTableHasAHeaderAndOneLinePerRoute) {
    TempDir dir;
    RunResult r = run_command(dir, "routes", "  hello: {mount: /greet}\n");
    ASSERT_TRUE(exited_with(r, 0)) << r.describe();
    EXPECT_EQ(r.out,
              "METHOD  PATH                 PLUGIN  HANDLER      HOOKS\n"
              "POST    /greet/echo          hello   hello_echo   -\n"
              "GET     /greet/hello         hello   hello_world  -\n"
              "GET     /greet/hello/{name}  hello   hello_name   -\n");
}

TEST(RoutesCommand, ResourceRoutesNameTheirModel) {
    TempDir dir;
    RunResult r = run_command(dir, "routes", "  notes: {mount: /api/notes}\n", {"--format", "json"},
                              "database:\n  url: \"sqlite://" + (dir.path() / "notes.db").string() + "\"\n");
    ASSERT_TRUE(exited_with(r, 0)) << r.describe();
    const auto rows = parsed(r);
    ASSERT_FALSE(rows.empty());
    EXPECT_EQ(rows[0]["method"], "GET");
    EXPECT_EQ(rows[0]["path"], "/api/notes");
    EXPECT_EQ(rows[0]["handler"], "resource note (note.list)");
}

TEST(RoutesCommand, StaticSitesAreListedAfterTheRoutes) {
    TempDir dir;
    RunResult r = run_command(dir, "routes", "  spa: {mount: /app}\n", {"--format", "json"});
    ASSERT_TRUE(exited_with(r, 0)) << r.describe();
    const auto rows = parsed(r);
    ASSERT_EQ(rows.size(), 2u) << r.out;
    EXPECT_EQ(rows[0]["path"], "/app/api/ping");
    EXPECT_EQ(rows[1]["method"], "GET");
    EXPECT_EQ(rows[1]["path"], "/app/**");
    EXPECT_TRUE(rows[1]["handler"].get<std::string>().starts_with("static files ")) << rows[1];
}

TEST(ToolsCommands, AMissingConfigurationFileIsOneLineAndExitOne) {
    TempDir dir;
    const std::string missing = (dir.path() / "nope.yaml").string();
    for (const std::string command : {"routes", "plugins"}) {
        RunResult r = run_trellis({command, "--config", missing});
        EXPECT_TRUE(exited_with(r, 1)) << command << "\n" << r.describe();
        EXPECT_TRUE(r.err.starts_with(missing + ": cannot read configuration file: ")) << command << "\n" << r.err;
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << command << "\n" << r.err;
        EXPECT_EQ(r.out, "");
    }
}

TEST(RoutesCommand, BrokenConfigurationFailsWithTheCheckMessages) {
    TempDir dir;
    RunResult r = run_command(dir, "routes", "  missinghandler: {mount: /}\n");
    EXPECT_TRUE(exited_with(r, 1)) << r.describe();
    EXPECT_TRUE(Contains(r.err, "missinghandler_gone")) << r.err;
    EXPECT_EQ(r.out, "");
}

TEST(PluginsCommand, ShowsEachPluginWithStatusAndMasksSecrets) {
    TempDir dir;
    RunResult r = run_command(dir, "plugins",
                              "  hello: {mount: /, settings: {greeting: Hi}}\n"
                              "  stateful: {mount: /st, settings: {api_key: hunter2, label: one}}\n"
                              "  missinghandler: {mount: /m}\n"
                              "  scoped: {mount: /s, enabled: false}\n",
                              {"--format", "json"});
    EXPECT_TRUE(exited_with(r, 1)) << "a refused plugin fails the command\n" << r.describe();
    const auto rows = parsed(r);
    ASSERT_EQ(rows.size(), 4u) << r.out;
    EXPECT_EQ(rows[0]["name"], "hello");
    EXPECT_EQ(rows[0]["status"], "loaded");
    EXPECT_EQ(rows[0]["version"], "1.0.0");
    EXPECT_EQ(rows[0]["abi"], "1.3");
    EXPECT_EQ(rows[0]["settings"], (nlohmann::json{{"greeting", "Hi"}}));
    EXPECT_TRUE(rows[0]["file"].get<std::string>().ends_with("/libhello.so")) << rows[0];
    EXPECT_EQ(rows[1]["settings"]["api_key"], "***");
    EXPECT_EQ(rows[1]["settings"]["label"], "one");
    EXPECT_FALSE(Contains(r.out, "hunter2"));
    EXPECT_EQ(rows[2]["status"], "refused");
    EXPECT_TRUE(Contains(rows[2]["reason"].get<std::string>(), "missinghandler_gone")) << rows[2];
    EXPECT_EQ(rows[3]["status"], "disabled");
    EXPECT_EQ(rows[3]["enabled"], false);
}

TEST(PluginsCommand, TextListsSettingsWithSecretsMasked) {
    TempDir dir;
    RunResult r = run_command(dir, "plugins", "  stateful: {mount: /st, settings: {api_key: hunter2}}\n");
    ASSERT_TRUE(exited_with(r, 0)) << r.describe();
    EXPECT_TRUE(Contains(r.out, "NAME      PLUGIN    VERSION  ABI  STATUS  MOUNT  FILE\n")) << r.out;
    EXPECT_TRUE(Contains(r.out, "stateful settings: api_key=***, freed_file=, label=unlabelled\n")) << r.out;
    EXPECT_FALSE(Contains(r.out, "hunter2"));
}

TEST(InspectCommand, DescribesAPluginWithoutAConfiguration) {
    RunResult r = run_trellis({"inspect", (plugin_dir() / "libhello.so").string(), "--format", "json"});
    ASSERT_TRUE(exited_with(r, 0)) << r.describe();
    const auto out = parsed(r);
    EXPECT_EQ(out["plugin"], "hello");
    EXPECT_EQ(out["version"], "1.0.0");
    EXPECT_EQ(out["abi"], "1.3");
    EXPECT_EQ(out["host_abi"], "1.3");
    EXPECT_GT(out["descriptor_size"].get<int>(), 0);
    EXPECT_TRUE(Contains(out["manifest"].get<std::string>(), "plugin: hello")) << out;
    EXPECT_EQ(out["exported_functions"], (nlohmann::json{"hello_echo", "hello_name", "hello_world"}));
    ASSERT_EQ(out["handlers"].size(), 3u);
    EXPECT_EQ(out["handlers"][1], (nlohmann::json{{"where", "routes[1] GET /hello/{name}"},
                                                   {"symbol", "hello_name"},
                                                   {"resolves", true}}));
    EXPECT_EQ(out["loadable"], true);
}

TEST(InspectCommand, TextNamesTheAbiAndEveryHandler) {
    RunResult r = run_trellis({"inspect", (plugin_dir() / "libhello.so").string()});
    ASSERT_TRUE(exited_with(r, 0)) << r.describe();
    EXPECT_TRUE(Contains(r.out, "plugin:      hello 1.0.0\n")) << r.out;
    EXPECT_TRUE(Contains(r.out, "abi:         1.3 (this host speaks 1.3)\n")) << r.out;
    EXPECT_TRUE(Contains(r.out, "routes[0] GET /hello")) << r.out;
    EXPECT_TRUE(Contains(r.out, "status:      loadable by this host\n")) << r.out;
}

TEST(InspectCommand, NamesTheTablesAndTheResourceOptions) {
    RunResult r = run_trellis({"inspect", (test_plugin_dir() / "libmemo.so").string(), "--format", "json"});
    ASSERT_TRUE(exited_with(r, 0)) << r.describe();
    const auto out = parsed(r);
    EXPECT_EQ(out["tables"], (nlohmann::json{{{"model", "note"}, {"table", "memo_note"}},
                                             {{"model", "entry"}, {"table", "memo_journal"}}}));
    ASSERT_EQ(out["resources"].size(), 3u) << out;
    EXPECT_EQ(out["resources"][0],
              (nlohmann::json{{"model", "note"},
                              {"path", "/"},
                              {"methods", {"list", "read", "create", "replace", "patch", "delete"}},
                              {"limit", {{"default", 2}, {"max", 3}}}}));
    EXPECT_EQ(out["resources"][1]["methods"], (nlohmann::json{"list", "read", "create"}));
    EXPECT_EQ(out["resources"][2]["limit"], (nlohmann::json{{"default", 50}, {"max", 1000}}));

    RunResult text = run_trellis({"inspect", (plugin_dir() / "libnotes.so").string()});
    ASSERT_TRUE(exited_with(text, 0)) << text.describe();
    EXPECT_TRUE(Contains(text.out, "tables:      note -> notes_note\n")) << text.out;
}

TEST(InspectCommand, RefusedPluginIsDescribedAndExitsOne) {
    RunResult r = run_trellis({"inspect", (test_plugin_dir() / "libmissinghandler.so").string(), "--format", "json"});
    EXPECT_TRUE(exited_with(r, 1)) << r.describe();
    const auto out = parsed(r);
    EXPECT_EQ(out["loadable"], false);
    EXPECT_TRUE(Contains(out["refused"].get<std::string>(), "missinghandler_gone")) << out;
    ASSERT_EQ(out["handlers"].size(), 3u) << out;
    EXPECT_EQ(out["handlers"][0]["resolves"], true);
    EXPECT_EQ(out["handlers"][1]["resolves"], false);
    EXPECT_EQ(out["handlers"][2]["resolves"], false);
}

TEST(InspectCommand, LintPrintsOkOrTheRefusal) {
    RunResult ok = run_trellis({"inspect", "--lint", (plugin_dir() / "libhello.so").string()});
    EXPECT_TRUE(exited_with(ok, 0)) << ok.describe();
    EXPECT_TRUE(Contains(ok.out, "libhello.so: OK\n")) << ok.out;
    RunResult bad = run_trellis({"inspect", "--lint", (test_plugin_dir() / "libabimajor.so").string()});
    EXPECT_TRUE(exited_with(bad, 1)) << bad.describe();
    EXPECT_TRUE(Contains(bad.err, "refused")) << bad.err;
    EXPECT_EQ(bad.out, "");
}

TEST(InspectCommand, NonPluginFilesGetOneLineAndExitOne) {
    TempDir dir;
    const auto text = dir.write("libnotaplugin.so", "just text\n");
    RunResult r = run_trellis({"inspect", "--lint", text.string()});
    EXPECT_TRUE(exited_with(r, 1)) << r.describe();
    EXPECT_TRUE(Contains(r.err, "cannot load the library")) << r.err;
    RunResult missing = run_trellis({"inspect", (dir.path() / "libnothere.so").string()});
    EXPECT_TRUE(exited_with(missing, 1)) << missing.describe();
    EXPECT_EQ(missing.err, "trellis inspect: " + (dir.path() / "libnothere.so").string() + ": no such file\n");
    RunResult usage = run_trellis({"inspect"});
    EXPECT_TRUE(exited_with(usage, 2)) << "a usage error\n" << usage.describe();
}

TEST(CheckCommand, JsonListsProblemsWithPositions) {
    TempDir dir;
    const auto config = dir.write("trellis.yaml",
                                  "server:\n"
                                  "  listen: 127.0.0.1\n"
                                  "  prot: 8080\n");
    RunResult r = run_trellis({"check", "--config", config.string(), "--format", "json"});
    EXPECT_TRUE(exited_with(r, 1)) << r.describe();
    const auto out = parsed(r);
    EXPECT_EQ(out["ok"], false);
    ASSERT_EQ(out["problems"].size(), 1u) << out;
    const auto& p = out["problems"][0];
    EXPECT_EQ(p["file"], config.string());
    EXPECT_EQ(p["line"], 3);
    EXPECT_EQ(p["column"], 3);
    EXPECT_EQ(p["path"], "server.prot");
    EXPECT_TRUE(Contains(p["message"].get<std::string>(), "did you mean 'port'?")) << p;
}

TEST(CheckCommand, JsonOnAGoodConfigurationCountsPluginsAndRoutes) {
    TempDir dir;
    RunResult r = run_command(dir, "check", kTwoPlugins, {"--format", "json"});
    ASSERT_TRUE(exited_with(r, 0)) << r.describe();
    const auto out = parsed(r);
    EXPECT_EQ(out["ok"], true);
    EXPECT_EQ(out["plugins"], 2);
    EXPECT_EQ(out["routes"], 12);
    EXPECT_EQ(out["problems"], nlohmann::json::array());
}

TEST(CheckCommand, JsonRefusedPluginHasItsDiagnosticsAsDetails) {
    TempDir dir;
    RunResult r = run_command(dir, "check", "  missinghandler: {mount: /}\n", {"--format", "json"});
    EXPECT_TRUE(exited_with(r, 1)) << r.describe();
    const auto out = parsed(r);
    ASSERT_EQ(out["problems"].size(), 1u) << out;
    const auto& p = out["problems"][0];
    EXPECT_TRUE(p["file"].get<std::string>().ends_with("libmissinghandler.so")) << p;
    EXPECT_TRUE(Contains(p["message"].get<std::string>(), "plugin 'missinghandler' refused: handlers missing:")) << p;
    ASSERT_EQ(p["details"].size(), 2u) << p;
    EXPECT_EQ(p["details"][0]["line"], 6);
    EXPECT_EQ(p["details"][0]["column"], 5);
    EXPECT_EQ(p["details"][0]["path"], "routes[1].handler");
    EXPECT_TRUE(p["details"][0]["file"].get<std::string>().ends_with("tests/plugins/sdk/missinghandler.plugin.yaml"))
        << p["details"][0];
    EXPECT_EQ(p["details"][0]["origin"], "embedded in libmissinghandler.so");
}

TEST(CheckCommand, AnUnsetEnvironmentVariableIsAProblemAtItsPosition) {
    TempDir dir;
    RunResult r = run_command(dir, "check", "  hello: {mount: /, settings: {greeting: \"${TRELLIS_E2E_NEVER_SET}\"}}\n",
                              {"--format", "json"});
    EXPECT_TRUE(exited_with(r, 1)) << r.describe();
    const auto out = parsed(r);
    ASSERT_EQ(out["problems"].size(), 1u) << out;
    const auto& p = out["problems"][0];
    EXPECT_EQ(p["path"], "plugins.hello.settings.greeting");
    EXPECT_GT(p["line"].get<int>(), 0);
    EXPECT_EQ(p["message"], "environment variable TRELLIS_E2E_NEVER_SET is not set "
                            "(write ${TRELLIS_E2E_NEVER_SET:-default} for a default)");
}

}  // namespace
}  // namespace e2e
