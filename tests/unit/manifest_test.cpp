#include "config/manifest.hpp"

#include <fstream>

#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "config/operator_config.hpp"

using namespace trellis::config;

namespace {

const std::string kSource = "libnotes.so (embedded manifest)";

std::vector<std::string> manifest_errors(const std::string& yaml) {
    try {
        parse_manifest(yaml, kSource);
    } catch (const ConfigError& e) {
        std::vector<std::string> lines;
        for (const auto& d : e.diagnostics()) lines.push_back(d.str());
        return lines;
    }
    ADD_FAILURE() << "expected a ConfigError for:\n" << yaml;
    return {};
}

// A valid header, so each test shows only the part it is about.
const std::string kHead = "plugin: notes\nversion: 1.2.0\nabi: 1.0\n";

std::string only_error(const std::string& yaml) {
    const auto errors = manifest_errors(yaml);
    if (errors.size() != 1) {
        ADD_FAILURE() << "expected one error, got " << errors.size();
        return {};
    }
    const std::string prefix = kSource;
    return errors[0].rfind(prefix, 0) == 0 ? "M" + errors[0].substr(prefix.size()) : errors[0];
}

const std::string kNotes = R"(plugin: notes
version: 1.2.0
abi: 1.0
description: Notes with tags
settings:
  max_title: {type: int, default: 200, min: 1, max: 1000}
  ratio:     {type: real, default: 0.5, min: 0, max: 1}
  greeting:  {type: string, default: Hello}
  verbose:   {type: bool, default: false}
  api_token: {type: string, secret: true, required: true}
  origins:   {type: list, default: ["https://a.example", 8080, true, 1.5, "42"]}
  limits:    {type: map, default: {burst: 10, per: minute}}
  optional:  {type: string}
routes:
  - {method: GET,  path: /search,           handler: notes_search}
  - {method: post, path: "/{id:int}/summary", handler: notes_summary}
)";

struct Resolved {
    std::map<std::string, std::string> values;
    std::vector<std::string> errors;
};

// Resolves `operator_yaml` (the settings map as the operator wrote it, in "trellis.yaml").
Resolved resolve(const Manifest& manifest, const std::string& operator_yaml) {
    const YAML::Node settings = operator_yaml.empty() ? YAML::Node() : YAML::Load(operator_yaml);
    DiagnosticSink sink("trellis.yaml");
    Resolved r;
    r.values = resolve_settings(manifest, settings, "notes", sink);
    for (const auto& d : sink.diagnostics()) r.errors.push_back(d.str());
    return r;
}

}  // namespace

TEST(Manifest, ParsesEverything) {
    const Manifest m = parse_manifest(kNotes, kSource);
    EXPECT_EQ(m.plugin, "notes");
    EXPECT_EQ(m.version, "1.2.0");
    EXPECT_EQ(m.abi_major, 1u);
    EXPECT_EQ(m.abi_minor, 0u);
    EXPECT_EQ(m.description, "Notes with tags");

    ASSERT_EQ(m.settings.size(), 8u);
    const SettingSpec& max_title = m.settings[0];
    EXPECT_EQ(max_title.name, "max_title");
    EXPECT_EQ(max_title.type, SettingType::Int);
    ASSERT_TRUE(max_title.default_value);
    EXPECT_EQ(max_title.default_value->Scalar(), "200");
    EXPECT_EQ(max_title.min, 1.0);
    EXPECT_EQ(max_title.max, 1000.0);
    EXPECT_FALSE(max_title.required);
    EXPECT_EQ(m.settings[1].type, SettingType::Real);
    EXPECT_EQ(m.settings[2].type, SettingType::String);
    EXPECT_EQ(m.settings[3].type, SettingType::Bool);
    const SettingSpec& token = m.settings[4];
    EXPECT_TRUE(token.secret);
    EXPECT_TRUE(token.required);
    EXPECT_FALSE(token.default_value);
    EXPECT_EQ(m.settings[5].type, SettingType::List);
    EXPECT_EQ(m.settings[6].type, SettingType::Map);
    EXPECT_FALSE(m.settings[7].min);

    ASSERT_EQ(m.routes.size(), 2u);
    EXPECT_EQ(m.routes[0].method, "GET");
    EXPECT_EQ(m.routes[0].path, "/search");
    EXPECT_EQ(m.routes[0].handler, "notes_search");
    EXPECT_EQ(m.routes[0].line, 15);
    EXPECT_EQ(m.routes[0].column, 5);
    EXPECT_EQ(m.routes[1].method, "POST");  // any case accepted, stored upper
    EXPECT_EQ(m.routes[1].path, "/{id:int}/summary");
    EXPECT_EQ(m.routes[1].line, 16);
}

TEST(Manifest, MinimalManifest) {
    const Manifest m = parse_manifest(kHead, kSource);
    EXPECT_EQ(m.plugin, "notes");
    EXPECT_TRUE(m.description.empty());
    EXPECT_TRUE(m.settings.empty());
    EXPECT_TRUE(m.routes.empty());
    EXPECT_NO_THROW(parse_manifest(kHead + "settings:\nroutes: []\n", kSource));
}

TEST(Manifest, VersionAndAbiAreReadFromTheSourceText) {
    const Manifest m = parse_manifest("plugin: x\nversion: 1.10\nabi: 2.15\n", kSource);
    EXPECT_EQ(m.version, "1.10");  // not the float 1.1
    EXPECT_EQ(m.abi_major, 2u);
    EXPECT_EQ(m.abi_minor, 15u);
    EXPECT_EQ(parse_manifest("plugin: x\nversion: 2\nabi: \"1.3\"\n", kSource).abi_minor, 3u);
}

TEST(Manifest, RequiredKeys) {
    EXPECT_EQ(manifest_errors(""), (std::vector<std::string>{
                                       kSource + ": plugin: required key is missing",
                                       kSource + ": version: required key is missing",
                                       kSource + ": abi: required key is missing",
                                   }));
    EXPECT_EQ(manifest_errors("description: x\n"), (std::vector<std::string>{
                                                       kSource + ":1:1: plugin: required key is missing",
                                                       kSource + ":1:1: version: required key is missing",
                                                       kSource + ":1:1: abi: required key is missing",
                                                   }));
}

TEST(Manifest, HeaderValues) {
    EXPECT_EQ(only_error("plugin: my notes\nversion: 1.0.0\nabi: 1.0\n"),
              "M:1:9: plugin: must be a name made of letters, digits, '_' and '-'");
    EXPECT_EQ(only_error("plugin: notes\nversion:\nabi: 1.0\n"), "M:2:1: version: must be a version string such as 1.2.0");
    EXPECT_EQ(only_error("plugin: notes\nversion: [1]\nabi: 1.0\n"),
              "M:2:10: version: must be a version string such as 1.2.0");
    for (const std::string bad : {"1", "1.", ".1", "1.x", "1.0.0", "-1.0", "v1.0", "[1, 0]"})
        EXPECT_EQ(only_error("plugin: notes\nversion: 1.0.0\nabi: " + bad + "\n"), "M:3:6: abi: must be MAJOR.MINOR, e.g. 1.0")
            << bad;
    EXPECT_EQ(only_error(kHead + "description: [a]\n"), "M:4:14: description: must be a string");
}

TEST(Manifest, UnknownTopLevelKeys) {
    EXPECT_EQ(only_error(kHead + "rutes: []\n"), "M:4:1: rutes: unknown key; did you mean 'routes'?");
    EXPECT_EQ(only_error(kHead + "models: {}\n"), "M:4:1: models: unknown key");
    EXPECT_EQ(only_error(kHead + "abi: 1.1\n"), "M:4:1: abi: duplicate key; first set at line 3, column 1");
}

TEST(Manifest, SyntaxErrorAndNonMap) {
    EXPECT_EQ(only_error("plugin: notes\nroutes: [\n"), "M:3:1: end of sequence flow not found");
    EXPECT_EQ(only_error("- plugin\n"), "M:1:1: a manifest must be a map (plugin, version, abi, ...)");
}

TEST(Manifest, SettingSchemas) {
    const auto setting = [](const std::string& line) { return only_error(kHead + "settings:\n  " + line + "\n"); };
    EXPECT_EQ(only_error(kHead + "settings: [a]\n"), "M:4:11: settings: must be a map from setting name to its schema");
    EXPECT_EQ(setting("a: int"), "M:5:6: settings.a: must be a map such as {type: int, default: 10}");
    EXPECT_EQ(setting("a: {default: 1}"), "M:5:6: settings.a.type: required key is missing");
    EXPECT_EQ(setting("a:"), "M:5:3: settings.a: must be a map such as {type: int, default: 10}");
    EXPECT_EQ(setting("a: {type: strng}"),
              "M:5:13: settings.a.type: must be one of string, int, real, bool, list, map; did you mean 'string'?");
    EXPECT_EQ(setting("a: {type: integer}"), "M:5:13: settings.a.type: must be one of string, int, real, bool, list, map");
    EXPECT_EQ(setting("a: {type: int, defualt: 1}"), "M:5:18: settings.a.defualt: unknown key; did you mean 'default'?");
    EXPECT_EQ(setting("a: {type: int, secret: yes}"), "M:5:26: settings.a.secret: must be true or false");
    EXPECT_EQ(setting("a: {type: int, required: 1}"), "M:5:28: settings.a.required: must be true or false");
    EXPECT_EQ(setting("a b: {type: int}"), "M:5:3: settings.a b: setting names may contain only letters, digits, '_' and '-'");
    EXPECT_EQ(only_error(kHead + "settings:\n  a: {type: int}\n  a: {type: int}\n"),
              "M:6:3: settings.a: setting declared twice");
}

TEST(Manifest, SettingDefaultsMustMatchTypeAndBounds) {
    const auto setting = [](const std::string& line) { return only_error(kHead + "settings:\n  " + line + "\n"); };
    EXPECT_EQ(setting("a: {type: int, default: ten}"), "M:5:27: settings.a.default: default must be an integer (type int)");
    EXPECT_EQ(setting("a: {type: int, default: 1.5}"), "M:5:27: settings.a.default: default must be an integer (type int)");
    EXPECT_EQ(setting("a: {type: int, default: \"5\"}"), "M:5:27: settings.a.default: default must be an integer (type int)");
    EXPECT_EQ(setting("a: {type: real, default: x}"), "M:5:28: settings.a.default: default must be a number (type real)");
    EXPECT_EQ(setting("a: {type: bool, default: 1}"), "M:5:28: settings.a.default: default must be true or false (type bool)");
    EXPECT_EQ(setting("a: {type: string, default: [x]}"), "M:5:30: settings.a.default: default must be a string (type string)");
    EXPECT_EQ(setting("a: {type: list, default: x}"), "M:5:28: settings.a.default: default must be a list (type list)");
    EXPECT_EQ(setting("a: {type: map, default: [x]}"), "M:5:27: settings.a.default: default must be a map (type map)");
    EXPECT_EQ(setting("a: {type: int, default: 0, min: 1}"), "M:5:27: settings.a.default: default must be at least 1 (type int)");
    EXPECT_EQ(setting("a: {type: real, default: 2.5, max: 2}"),
              "M:5:28: settings.a.default: default must be at most 2 (type real)");
    EXPECT_EQ(setting("a: {type: int, default: 1, required: true}"),
              "M:5:27: settings.a.default: a required setting cannot have a default");
}

TEST(Manifest, SettingBounds) {
    const auto setting = [](const std::string& line) { return only_error(kHead + "settings:\n  " + line + "\n"); };
    EXPECT_EQ(setting("a: {type: int, min: low}"), "M:5:23: settings.a.min: must be a number");
    EXPECT_EQ(setting("a: {type: string, min: 1}"), "M:5:26: settings.a.min: applies only to int and real settings");
    EXPECT_EQ(setting("a: {type: list, max: 3}"), "M:5:24: settings.a.max: applies only to int and real settings");
    EXPECT_EQ(setting("a: {type: real, min: 2, max: 1.5}"), "M:5:32: settings.a.max: must not be less than min (2)");
    const Manifest m = parse_manifest(kHead + "settings:\n  a: {type: real, min: -0.5, max: 1e3}\n", kSource);
    EXPECT_EQ(m.settings[0].min, -0.5);
    EXPECT_EQ(m.settings[0].max, 1000.0);
}

TEST(Manifest, Routes) {
    const auto route = [](const std::string& line) { return only_error(kHead + "routes:\n  " + line + "\n"); };
    EXPECT_EQ(only_error(kHead + "routes: {a: b}\n"), "M:4:9: routes: must be a list of {method, path, handler}");
    EXPECT_EQ(route("- GET /x"), "M:5:5: routes[0]: must be a map {method, path, handler}");
    EXPECT_EQ(route("- {method: FETCH, path: /x, handler: h}"),
              "M:5:14: routes[0].method: must be one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS");
    EXPECT_EQ(route("- {method: GET, path: x, handler: h}"), "M:5:25: routes[0].path: must start with '/'");
    EXPECT_EQ(route("- {method: GET, path: /x, handler: 9lives}"),
              "M:5:38: routes[0].handler: must be the name of an exported C function ([A-Za-z_][A-Za-z0-9_]*)");
    EXPECT_EQ(route("- {method: GET, path: /x, handler: \"a-b\"}"),
              "M:5:38: routes[0].handler: must be the name of an exported C function ([A-Za-z_][A-Za-z0-9_]*)");
    EXPECT_EQ(route("- {method: GET, path: /x}"), "M:5:5: routes[0].handler: required key is missing");
    EXPECT_EQ(manifest_errors(kHead + "routes:\n  - {method: GET, path: /x, handlr: h}\n"),
              (std::vector<std::string>{
                  kSource + ":5:29: routes[0].handlr: unknown key; did you mean 'handler'?",
                  kSource + ":5:5: routes[0].handler: required key is missing",
              }));
}

TEST(Manifest, RouteItemsAreNumberedFromZero) {
    const auto errors = manifest_errors(kHead + R"(routes:
  - {method: GET, path: /a, handler: a}
  - {method: GET, path: /b, handler: b}
  - method: DELETE
    path: /c
    handlr: c
)");
    EXPECT_EQ(errors, (std::vector<std::string>{
                          kSource + ":9:5: routes[2].handlr: unknown key; did you mean 'handler'?",
                          kSource + ":7:5: routes[2].handler: required key is missing",
                      }));
}

TEST(Manifest, AllProblemsAreReportedAtOnce) {
    const auto errors = manifest_errors("plugin: a.b\nabi: one\nsettings:\n  x: {type: float}\nroutes:\n  - {method: GET}\n");
    EXPECT_EQ(errors.size(), 6u);  // plugin, abi, type, path, handler, version
}

TEST(ManifestErrors, StatusClassAndKindKeys) {
    const Manifest m = parse_manifest(kHead + R"(errors:
  404: on_404
  "418": on_teapot
  4xx: on_client
  5xx: on_server
  validation: on_validation
  method_not_allowed: on_405
  internal: on_internal
)",
                                      kSource);
    ASSERT_EQ(m.errors.size(), 7u);  // declaration order
    EXPECT_EQ(m.errors[0].match.status, 404);
    EXPECT_EQ(m.errors[0].match.status_class, 0);
    EXPECT_EQ(m.errors[0].handler, "on_404");
    EXPECT_EQ(m.errors[0].line, 5);
    EXPECT_EQ(m.errors[0].column, 3);
    EXPECT_EQ(m.errors[1].match.status, 418);  // a quoted status is still a status
    EXPECT_EQ(m.errors[1].handler, "on_teapot");
    EXPECT_EQ(m.errors[2].match.status, 0);
    EXPECT_EQ(m.errors[2].match.status_class, 4);
    EXPECT_TRUE(m.errors[2].match.matches(404));
    EXPECT_TRUE(m.errors[2].match.matches(499));
    EXPECT_FALSE(m.errors[2].match.matches(500));
    EXPECT_EQ(m.errors[3].match.status_class, 5);
    EXPECT_TRUE(m.errors[3].match.matches(503));
    EXPECT_EQ(m.errors[4].match.status, 422);
    EXPECT_EQ(m.errors[4].match.status_class, 0);
    EXPECT_EQ(m.errors[5].match.status, 405);
    EXPECT_EQ(m.errors[6].match.status, 500);
    EXPECT_EQ(m.errors[6].handler, "on_internal");
    EXPECT_EQ(m.errors[6].line, 11);
    EXPECT_EQ(m.errors[6].column, 3);

    const Manifest nf = parse_manifest(kHead + "errors: {not_found: nf}\n", kSource);
    ASSERT_EQ(nf.errors.size(), 1u);
    EXPECT_EQ(nf.errors[0].match.status, 404);
    EXPECT_TRUE(nf.errors[0].match.matches(404));
    EXPECT_FALSE(nf.errors[0].match.matches(405));
    EXPECT_EQ(nf.errors[0].line, 4);
    EXPECT_EQ(nf.errors[0].column, 10);

    // Bounds of the range; an empty section declares nothing.
    EXPECT_EQ(parse_manifest(kHead + "errors: {400: a, 599: b}\n", kSource).errors.size(), 2u);
    EXPECT_TRUE(parse_manifest(kHead + "errors:\n", kSource).errors.empty());
}

TEST(ManifestErrors, BadKeys) {
    const auto errors = [](const std::string& body) { return only_error(kHead + "errors:\n  " + body + "\n"); };
    const std::string expected = "must be a status from 400 to 599, 4xx, 5xx or one of validation, not_found, "
                                 "method_not_allowed, internal";
    EXPECT_EQ(errors("notfound: h"), "M:5:3: errors.notfound: " + expected + "; did you mean 'not_found'?");
    EXPECT_EQ(errors("internel: h"), "M:5:3: errors.internel: " + expected + "; did you mean 'internal'?");
    EXPECT_EQ(errors("validaton: h"), "M:5:3: errors.validaton: " + expected + "; did you mean 'validation'?");
    EXPECT_EQ(errors("method_not_alowed: h"),
              "M:5:3: errors.method_not_alowed: " + expected + "; did you mean 'method_not_allowed'?");
    EXPECT_EQ(errors("server_error: h"), "M:5:3: errors.server_error: " + expected);
    EXPECT_EQ(errors("3xx: h"), "M:5:3: errors.3xx: " + expected);
    EXPECT_EQ(errors("4XX: h"), "M:5:3: errors.4XX: " + expected);
    EXPECT_EQ(errors("404.5: h"), "M:5:3: errors.404.5: " + expected);
    EXPECT_EQ(errors("302: h"), "M:5:3: errors.302: must be a status from 400 to 599");
    EXPECT_EQ(errors("399: h"), "M:5:3: errors.399: must be a status from 400 to 599");
    EXPECT_EQ(errors("600: h"), "M:5:3: errors.600: must be a status from 400 to 599");
    EXPECT_EQ(errors("? [4, 0, 4]\n  : h"), "M:5:5: errors: keys must be plain names");
    EXPECT_EQ(only_error(kHead + "errors: [404]\n"),
              "M:4:9: errors: must be a map from status (404, 4xx) or error kind (not_found) to a handler symbol");
    EXPECT_EQ(only_error(kHead + "errors: on_error\n"),
              "M:4:9: errors: must be a map from status (404, 4xx) or error kind (not_found) to a handler symbol");
}

TEST(ManifestErrors, HandlerSymbols) {
    const std::string rule = "must be the name of an exported C function ([A-Za-z_][A-Za-z0-9_]*)";
    EXPECT_EQ(only_error(kHead + "errors:\n  404: 9lives\n"), "M:5:8: errors.404: " + rule);
    EXPECT_EQ(only_error(kHead + "errors:\n  404: \"a-b\"\n"), "M:5:8: errors.404: " + rule);
    EXPECT_EQ(only_error(kHead + "errors:\n  404: [a]\n"), "M:5:8: errors.404: " + rule);
    EXPECT_EQ(only_error(kHead + "errors:\n  4xx: {handler: a}\n"), "M:5:8: errors.4xx: " + rule);
    EXPECT_EQ(only_error(kHead + "errors:\n  not_found:\n"), "M:5:3: errors.not_found: " + rule);  // null: the key
}

TEST(ManifestErrors, TwoKeysForTheSameStatus) {
    EXPECT_EQ(only_error(kHead + "errors:\n  404: a\n  not_found: b\n"),
              "M:6:3: errors.not_found: means the same status as '404', first set at line 5, column 3");
    EXPECT_EQ(only_error(kHead + "errors:\n  internal: a\n  4xx: c\n  500: b\n"),
              "M:7:3: errors.500: means the same status as 'internal', first set at line 5, column 3");
    EXPECT_EQ(only_error(kHead + "errors:\n  5xx: a\n  \"5xx\": b\n"),
              "M:6:3: errors.5xx: duplicate key; first set at line 5, column 3");
    EXPECT_EQ(only_error(kHead + "errors:\n  422: a\n  \"422\": b\n"),
              "M:6:3: errors.422: duplicate key; first set at line 5, column 3");
    // A class and a status inside it do not collide: the exact status wins later.
    EXPECT_EQ(parse_manifest(kHead + "errors: {4xx: a, 404: b, 5xx: c, internal: d}\n", kSource).errors.size(), 4u);
}

TEST(ManifestHooks, SingleAndListFormsInDeclarationOrder) {
    const Manifest m = parse_manifest(kHead + R"(hooks:
  after_request: {handler: log_after}
  before_request:
    - {handler: auth, scope: app}
    - handler: check
      scope: plugin
  teardown: [{handler: cleanup}]
)",
                                      kSource);
    ASSERT_EQ(m.hooks.size(), 4u);
    EXPECT_EQ(m.hooks[0].kind, HookSpec::Kind::AfterRequest);
    EXPECT_EQ(m.hooks[0].handler, "log_after");
    EXPECT_EQ(m.hooks[0].scope, HookSpec::Scope::Plugin);  // the default
    EXPECT_EQ(m.hooks[0].line, 5);
    EXPECT_EQ(m.hooks[0].column, 18);
    EXPECT_EQ(m.hooks[1].kind, HookSpec::Kind::BeforeRequest);
    EXPECT_EQ(m.hooks[1].handler, "auth");
    EXPECT_EQ(m.hooks[1].scope, HookSpec::Scope::App);
    EXPECT_EQ(m.hooks[1].line, 7);
    EXPECT_EQ(m.hooks[1].column, 7);
    EXPECT_EQ(m.hooks[2].kind, HookSpec::Kind::BeforeRequest);
    EXPECT_EQ(m.hooks[2].handler, "check");
    EXPECT_EQ(m.hooks[2].scope, HookSpec::Scope::Plugin);
    EXPECT_EQ(m.hooks[2].line, 8);
    EXPECT_EQ(m.hooks[2].column, 7);
    EXPECT_EQ(m.hooks[3].kind, HookSpec::Kind::Teardown);
    EXPECT_EQ(m.hooks[3].handler, "cleanup");
    EXPECT_EQ(m.hooks[3].scope, HookSpec::Scope::Plugin);
    EXPECT_EQ(m.hooks[3].line, 10);
    EXPECT_EQ(m.hooks[3].column, 14);

    const Manifest single = parse_manifest(kHead + "hooks:\n  before_request: {handler: notes_auth, scope: plugin}\n",
                                           kSource);
    ASSERT_EQ(single.hooks.size(), 1u);
    EXPECT_EQ(single.hooks[0].handler, "notes_auth");
    EXPECT_EQ(single.hooks[0].scope, HookSpec::Scope::Plugin);
    EXPECT_TRUE(parse_manifest(kHead + "hooks:\n  teardown: []\n", kSource).hooks.empty());
    EXPECT_TRUE(parse_manifest(kHead + "hooks:\n", kSource).hooks.empty());
}

TEST(ManifestHooks, UnknownHookNamesSuggestTheIntendedOne) {
    EXPECT_EQ(only_error(kHead + "hooks:\n  before_reqest: {handler: a}\n"),
              "M:5:3: hooks.before_reqest: unknown key; did you mean 'before_request'?");
    EXPECT_EQ(only_error(kHead + "hooks:\n  after_requests: {handler: a}\n"),
              "M:5:3: hooks.after_requests: unknown key; did you mean 'after_request'?");
    EXPECT_EQ(only_error(kHead + "hooks:\n  teardwon: {handler: a}\n"),
              "M:5:3: hooks.teardwon: unknown key; did you mean 'teardown'?");
    EXPECT_EQ(only_error(kHead + "hooks:\n  on_error: {handler: a}\n"), "M:5:3: hooks.on_error: unknown key");
    EXPECT_EQ(only_error(kHead + "hooks:\n  teardown: {handler: a}\n  teardown: {handler: b}\n"),
              "M:6:3: hooks.teardown: duplicate key; first set at line 5, column 3");
}

TEST(ManifestHooks, Shapes) {
    const auto hook = [](const std::string& line) { return only_error(kHead + "hooks:\n  " + line + "\n"); };
    EXPECT_EQ(only_error(kHead + "hooks: [a]\n"), "M:4:8: hooks: must be a map");
    EXPECT_EQ(hook("before_request: auth"), "M:5:19: hooks.before_request: must be {handler, scope} or a list of them");
    EXPECT_EQ(hook("before_request:"), "M:5:3: hooks.before_request: must be {handler, scope} or a list of them");
    EXPECT_EQ(hook("before_request: [auth]"), "M:5:20: hooks.before_request[0]: must be a map {handler, scope}");
    EXPECT_EQ(hook("before_request: {scope: app}"), "M:5:19: hooks.before_request.handler: required key is missing");
    EXPECT_EQ(hook("before_request: {handler: 9a}"),
              "M:5:29: hooks.before_request.handler: must be the name of an exported C function "
              "([A-Za-z_][A-Za-z0-9_]*)");
    EXPECT_EQ(only_error(kHead + "hooks:\n  before_request:\n    - {handler: a}\n    - {scope: app}\n"),
              "M:7:7: hooks.before_request[1].handler: required key is missing");
    EXPECT_EQ(manifest_errors(kHead + "hooks:\n  after_request: {handlr: a}\n"),
              (std::vector<std::string>{
                  kSource + ":5:19: hooks.after_request.handlr: unknown key; did you mean 'handler'?",
                  kSource + ":5:18: hooks.after_request.handler: required key is missing",
              }));
}

TEST(ManifestHooks, Scope) {
    const auto scope = [](const std::string& value) {
        return only_error(kHead + "hooks:\n  before_request: {handler: a, scope: " + value + "}\n");
    };
    const std::string rule = "M:5:39: hooks.before_request.scope: must be plugin (its own routes) or app (every route)";
    EXPECT_EQ(scope("global"), rule);
    EXPECT_EQ(scope("ap"), rule + "; did you mean 'app'?");
    EXPECT_EQ(scope("plugins"), rule + "; did you mean 'plugin'?");
    EXPECT_EQ(scope("[app]"), rule);
    EXPECT_EQ(only_error(kHead + "hooks:\n  before_request: {handler: a, scop: app}\n"),
              "M:5:32: hooks.before_request.scop: unknown key; did you mean 'scope'?");
}

TEST(ManifestStatic, DefaultsAndValues) {
    EXPECT_FALSE(parse_manifest(kHead, kSource).static_files);

    const Manifest m = parse_manifest(kHead + "static: {dir: public}\n", kSource);
    ASSERT_TRUE(m.static_files);
    EXPECT_EQ(m.static_files->dir, "public");
    EXPECT_EQ(m.static_files->path, "/");
    EXPECT_FALSE(m.static_files->spa);
    EXPECT_EQ(m.static_files->line, 4);
    EXPECT_EQ(m.static_files->column, 1);

    const Manifest all = parse_manifest(kHead + "static:\n  dir: /srv/www\n  path: /assets/v1\n  spa: true\n", kSource);
    ASSERT_TRUE(all.static_files);
    EXPECT_EQ(all.static_files->dir, "/srv/www");
    EXPECT_EQ(all.static_files->path, "/assets/v1");
    EXPECT_TRUE(all.static_files->spa);
    EXPECT_EQ(parse_manifest(kHead + "static: {dir: ui, path: /, spa: false}\n", kSource).static_files->path, "/");
}

TEST(ManifestStatic, Errors) {
    const auto bad = [](const std::string& value) { return only_error(kHead + "static: " + value + "\n"); };
    const std::string shape = "static: must be a map such as {dir: public, path: /, spa: false}";
    EXPECT_EQ(bad("public"), "M:4:9: " + shape);
    EXPECT_EQ(bad("[public]"), "M:4:9: " + shape);
    EXPECT_EQ(only_error(kHead + "static:\n"), "M:4:1: " + shape);
    EXPECT_EQ(bad("{path: /x}"), "M:4:9: static.dir: required key is missing");
    EXPECT_EQ(bad("{dir: \"\"}"), "M:4:15: static.dir: must be a non-empty directory path");
    EXPECT_EQ(bad("{dir: [a]}"), "M:4:15: static.dir: must be a non-empty directory path");
    EXPECT_EQ(bad("{dir: d, path: assets}"), "M:4:24: static.path: must start with '/'");
    EXPECT_EQ(bad("{dir: d, path: \"\"}"), "M:4:24: static.path: must start with '/'");
    EXPECT_EQ(bad("{dir: d, path: [a]}"), "M:4:24: static.path: must start with '/'");
    EXPECT_EQ(bad("{dir: d, path: /assets/}"),
              "M:4:24: static.path: must not end with '/' (use \"/\" for the root)");
    EXPECT_EQ(bad("{dir: d, path: \"/a/{x}\"}"),
              "M:4:24: static.path: must not contain '{' or '}' (static files take no parameters)");
    EXPECT_EQ(bad("{dir: d, path: \"/a}\"}"),
              "M:4:24: static.path: must not contain '{' or '}' (static files take no parameters)");
    EXPECT_EQ(bad("{dir: d, spa: yes}"), "M:4:23: static.spa: must be true or false");
    EXPECT_EQ(bad("{dir: d, sap: true}"), "M:4:18: static.sap: unknown key; did you mean 'spa'?");
}

TEST(Manifest, ErrorsHooksAndStaticTogether) {
    const Manifest m = parse_manifest(kHead + R"(routes:
  - {method: GET, path: "/{id:int}", handler: notes_get}
errors:
  404: notes_not_found
hooks:
  before_request: {handler: notes_auth, scope: plugin}
static: {dir: public, path: /ui, spa: true}
)",
                                      kSource);
    EXPECT_EQ(m.routes.size(), 1u);
    EXPECT_EQ(m.errors.size(), 1u);
    EXPECT_EQ(m.hooks.size(), 1u);
    ASSERT_TRUE(m.static_files);
    EXPECT_EQ(m.static_files->path, "/ui");
    EXPECT_EQ(m.static_files->line, 10);
}

TEST(ResolveSettings, DefaultsAndTextValues) {
    const Manifest m = parse_manifest(kNotes, kSource);
    const Resolved r = resolve(m, "api_token: s3cret\n");
    EXPECT_TRUE(r.errors.empty());
    EXPECT_EQ(r.values, (std::map<std::string, std::string>{
                            {"api_token", "s3cret"},
                            {"greeting", "Hello"},
                            {"limits", R"({"burst":10,"per":"minute"})"},
                            {"max_title", "200"},
                            {"origins", R"(["https://a.example",8080,true,"1.5","42"])"},
                            {"ratio", "0.5"},
                            {"verbose", "false"},
                        }));  // "optional" has no default and stays absent
}

TEST(ResolveSettings, OperatorValuesOverrideDefaults) {
    const Manifest m = parse_manifest(kNotes, kSource);
    const Resolved r = resolve(m, R"(max_title: 120
ratio: 1
greeting: "Hi there"
verbose: True
api_token: "123"
origins: [x, {a: [1, null]}]
limits: {}
optional: 7
)");
    EXPECT_TRUE(r.errors.empty()) << ::testing::PrintToString(r.errors);
    EXPECT_EQ(r.values.at("max_title"), "120");
    EXPECT_EQ(r.values.at("ratio"), "1");
    EXPECT_EQ(r.values.at("greeting"), "Hi there");
    EXPECT_EQ(r.values.at("verbose"), "true");
    EXPECT_EQ(r.values.at("api_token"), "123");
    EXPECT_EQ(r.values.at("origins"), R"(["x",{"a":[1,null]}])");
    EXPECT_EQ(r.values.at("limits"), "{}");
    EXPECT_EQ(r.values.at("optional"), "7");
    EXPECT_EQ(nlohmann::json::parse(r.values.at("origins"))[1]["a"][0], 1);
}

TEST(ResolveSettings, TypeErrorsAtTheOperatorsPosition) {
    const Manifest m = parse_manifest(kNotes, kSource);
    const Resolved r = resolve(m, R"(api_token: x
max_title: lots
ratio: "0.5"
verbose: yes
greeting: [a]
origins: one
limits: [a]
optional:
)");
    EXPECT_EQ(r.errors, (std::vector<std::string>{
                            "trellis.yaml:2:12: plugins.notes.settings.max_title: must be an integer",
                            "trellis.yaml:3:8: plugins.notes.settings.ratio: must be a number",
                            "trellis.yaml:4:10: plugins.notes.settings.verbose: must be true or false",
                            "trellis.yaml:5:11: plugins.notes.settings.greeting: must be a string",
                            "trellis.yaml:6:10: plugins.notes.settings.origins: must be a list",
                            "trellis.yaml:7:9: plugins.notes.settings.limits: must be a map",
                            "trellis.yaml:8:1: plugins.notes.settings.optional: must be a string",
                        }));
    EXPECT_EQ(r.values.size(), 1u);  // only api_token was valid; invalid ones get no default
}

TEST(ResolveSettings, Bounds) {
    const Manifest m = parse_manifest(kNotes, kSource);
    const Resolved r = resolve(m, "api_token: x\nmax_title: 0\nratio: 1.01\n");
    EXPECT_EQ(r.errors, (std::vector<std::string>{
                            "trellis.yaml:2:12: plugins.notes.settings.max_title: must be at least 1",
                            "trellis.yaml:3:8: plugins.notes.settings.ratio: must be at most 1",
                        }));
    EXPECT_TRUE(resolve(m, "api_token: x\nmax_title: 1000\nratio: 0\n").errors.empty());
}

TEST(ResolveSettings, UnknownSettingSuggestsTheIntendedOne) {
    const Manifest m = parse_manifest(kNotes, kSource);
    const Resolved r = resolve(m, "api_token: x\nmax_titel: 3\ncolour: red\n");
    EXPECT_EQ(r.errors, (std::vector<std::string>{
                            "trellis.yaml:2:1: plugins.notes.settings.max_titel: unknown setting of plugin 'notes'; "
                            "did you mean 'max_title'?",
                            "trellis.yaml:3:1: plugins.notes.settings.colour: unknown setting of plugin 'notes'",
                        }));
}

TEST(ResolveSettings, RequiredButMissing) {
    const Manifest m = parse_manifest(kNotes, kSource);
    // No settings at all: nothing in the operator's file to point at.
    EXPECT_EQ(resolve(m, "").errors,
              (std::vector<std::string>{
                  "trellis.yaml: plugins.notes.settings.api_token: required by plugin 'notes' but not set"}));
    // A settings map without it: point at the map.
    EXPECT_EQ(resolve(m, "\n  greeting: Hi\n").errors,
              (std::vector<std::string>{
                  "trellis.yaml:2:3: plugins.notes.settings.api_token: required by plugin 'notes' but not set"}));
}

TEST(ResolveSettings, SettingsMustBeAMap) {
    const Manifest m = parse_manifest(kNotes, kSource);
    EXPECT_EQ(resolve(m, "[a, b]").errors,
              (std::vector<std::string>{"trellis.yaml:1:1: plugins.notes.settings: must be a map of setting names to values"}));
}

TEST(ResolveSettings, WithTheOperatorsConfigFile) {
    // The way the loader uses it: positions land in trellis.yaml.
    const auto dir = std::filesystem::temp_directory_path() / ("trellis-resolve-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto file = dir / "trellis.yaml";
    std::ofstream(file) << "plugins:\n  notes:\n    settings:\n      api_token: t\n      max_title: 5000\n";
    const OperatorConfig config = load_operator_config(file);
    std::filesystem::remove_all(dir);

    const Manifest m = parse_manifest(kNotes, kSource);
    DiagnosticSink sink(file.string());
    resolve_settings(m, config.plugins[0].settings, "notes", sink);
    ASSERT_EQ(sink.diagnostics().size(), 1u);
    EXPECT_EQ(sink.diagnostics()[0].str(),
              file.string() + ":5:18: plugins.notes.settings.max_title: must be at most 1000");
}
