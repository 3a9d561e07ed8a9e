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
const std::string kHead = "plugin: notes\nversion: 1.2.0\nabi: 1.1\n";

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

// `abi:` is the lowest host ABI the plugin needs: it must cover every key.
TEST(Manifest, AbiMustCoverTheKeysUsed) {
    const std::string head10 = "plugin: notes\nversion: 1.0.0\nabi: 1.0\n";
    EXPECT_EQ(only_error(head10 + "hooks:\n  teardown: {handler: t}\n"),
              "M:4:1: hooks: needs ABI 1.1, but `abi:` says 1.0 (the lowest host ABI this plugin runs on); declare abi: 1.1");
    EXPECT_EQ(only_error(head10 + "errors:\n  404: nf\n"),
              "M:4:1: errors: needs ABI 1.1, but `abi:` says 1.0 (the lowest host ABI this plugin runs on); declare abi: 1.1");
    // `abi` after the keys it must cover is checked all the same.
    EXPECT_EQ(only_error("plugin: notes\nversion: 1.0.0\nmigrations: []\nabi: 1.0\n"),
              "M:3:1: migrations: needs ABI 1.1, but `abi:` says 1.0 (the lowest host ABI this plugin runs on); declare abi: 1.1");
    EXPECT_NO_THROW(parse_manifest("plugin: notes\nversion: 1.0.0\nabi: 1.1\nhooks:\n  teardown: {handler: t}\n", "M"));
    EXPECT_NO_THROW(parse_manifest(head10 + "routes:\n  - {method: GET, path: /, handler: h}\n", "M"));
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
    EXPECT_EQ(only_error(kHead + "modles: {}\n"), "M:4:1: modles: unknown key; did you mean 'models'?");
    EXPECT_EQ(only_error(kHead + "tables: {}\n"), "M:4:1: tables: unknown key");
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

TEST(Manifest, RouteDocumentationForOpenApi) {
    const Manifest m = parse_manifest(kHead + R"(routes:
  - method: POST
    path: /items
    handler: add_item
    summary: Add an item
    description: |
      Stores the item.
      Answers it back.
    request_schema: {type: object, required: [name], properties: {name: {type: string, maxLength: 20}}}
    response_schema: {type: object}
  - {method: GET, path: /x, handler: h}
)",
                                      kSource);
    ASSERT_EQ(m.routes.size(), 2u);
    EXPECT_EQ(m.routes[0].summary, "Add an item");
    EXPECT_EQ(m.routes[0].description, "Stores the item.\nAnswers it back.\n");
    EXPECT_EQ(nlohmann::json::parse(m.routes[0].request_schema),
              nlohmann::json::parse(R"({"type":"object","required":["name"],"properties":{"name":{"type":"string","maxLength":20}}})"));
    EXPECT_EQ(m.routes[0].response_schema, R"({"type":"object"})");
    EXPECT_EQ(m.routes[1].summary, "");
    EXPECT_EQ(m.routes[1].request_schema, "");

    const auto route = [](const std::string& line) { return only_error(kHead + "routes:\n  " + line + "\n"); };
    EXPECT_EQ(route("- {method: GET, path: /x, handler: h, summary: [a]}"),
              "M:5:50: routes[0].summary: must be one line of text");
    EXPECT_EQ(route("- {method: GET, path: /x, handler: h, summary: \"two\\nlines\"}"),
              "M:5:50: routes[0].summary: must be one line of text");
    EXPECT_EQ(route("- {method: GET, path: /x, handler: h, description: \"\"}"),
              "M:5:54: routes[0].description: must be a non-empty text");
    EXPECT_EQ(route("- {method: GET, path: /x, handler: h, request_schema: object}"),
              "M:5:57: routes[0].request_schema: must be a JSON Schema written as a YAML map, e.g. {type: object, "
              "properties: {...}}");
    EXPECT_EQ(route("- {method: GET, path: /x, handler: h, response_schma: {}}"),
              "M:5:41: routes[0].response_schma: unknown key; did you mean 'response_schema'?");
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
    EXPECT_TRUE(all.static_files->immutable.empty());
    EXPECT_EQ(parse_manifest(kHead + "static: {dir: ui, immutable: /assets/}\n", kSource).static_files->immutable,
              (std::vector<std::string>{"/assets/"}));
    EXPECT_EQ(parse_manifest(kHead + "static: {dir: ui, immutable: [/assets/, /fonts/v2/]}\n", kSource)
                  .static_files->immutable,
              (std::vector<std::string>{"/assets/", "/fonts/v2/"}));
}

TEST(ManifestStatic, ImmutableFoldersAreWrittenSlashNameSlash) {
    const std::string rule = "static.immutable: must be a folder of the site written /name/ (e.g. /assets/), or a list of them";
    for (const std::string value : {"assets/", "/assets", "/", "//", "/a/../b/", "[/ok/, nope]", "{a: b}"})
        EXPECT_NE(only_error(kHead + "static: {dir: d, immutable: " + value + "}\n").find(rule), std::string::npos)
            << value;
    EXPECT_EQ(only_error(kHead + "static: {dir: d, immutable: [/ok/, nope]}\n"), "M:4:36: " + rule);
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

// ---- Models, migrations, resources (issue 3) ----

namespace {

const std::string kData = kHead + R"yaml(models:
  note:
    fields:
      id:      {type: integer, primary_key: true}
      title:   {type: text, max: 200, required: true}
      body:    {type: text}
      rating:  {type: real, default: 2.5}
      done:    {type: boolean, default: false, required: true}
      created: {type: timestamp, index: true, default: "2024-01-01T00:00:00Z"}
      meta:    {type: json, default: {tags: [a, 1]}}
      slug:    {type: text, unique: true, default: "it's"}
      views:   {type: integer, default: -3}
  tag:
    fields:
      name: {type: text, primary_key: true, max: 40}
migrations:
  - id: 001_seed
    sql: "INSERT INTO tag (name) VALUES ('welcome')"
  - {id: 002.fts, sqlite: "CREATE TABLE a (x)", postgresql: "CREATE TABLE b (x)"}
  - {id: 003-pg-only, postgresql: "CREATE EXTENSION IF NOT EXISTS pg_trgm"}
  - {id: 004_both, sql: "SELECT 1", sqlite: "SELECT 2"}
resources:
  - {model: note, path: /}
  - model: tag
    path: /tags
)yaml";

// The single error of a manifest whose `models` section is `models` (indented by two).
std::string model_error(const std::string& models) { return only_error(kHead + "models:\n" + models); }
// One field line of model `m`; the field sits on line 7.
std::string field_error(const std::string& line) {
    return model_error("  m:\n    fields:\n      id: {type: integer, primary_key: true}\n      " + line + "\n");
}

}  // namespace

TEST(ManifestModels, ParsesFieldsFlagsAndDefaults) {
    const Manifest m = parse_manifest(kData, kSource);
    ASSERT_EQ(m.models.size(), 2u);
    const ModelSpec& note = m.models[0];
    EXPECT_EQ(note.name, "note");
    EXPECT_EQ(note.line, 5);
    EXPECT_EQ(note.column, 3);
    ASSERT_EQ(note.fields.size(), 9u);  // declaration order
    const FieldSpec& id = note.fields[0];
    EXPECT_EQ(id.name, "id");
    EXPECT_EQ(id.type, FieldType::Integer);
    EXPECT_TRUE(id.primary_key);
    EXPECT_FALSE(id.required);
    EXPECT_EQ(id.line, 7);
    EXPECT_EQ(id.column, 7);
    const FieldSpec& title = note.fields[1];
    EXPECT_EQ(title.type, FieldType::Text);
    EXPECT_EQ(title.max, 200u);
    EXPECT_TRUE(title.required);
    EXPECT_FALSE(title.default_json);
    EXPECT_FALSE(note.fields[2].max);
    EXPECT_FALSE(note.fields[2].required);
    EXPECT_EQ(note.fields[3].type, FieldType::Real);
    EXPECT_EQ(note.fields[3].default_json, "2.5");
    EXPECT_EQ(note.fields[4].type, FieldType::Boolean);
    EXPECT_EQ(note.fields[4].default_json, "false");
    EXPECT_TRUE(note.fields[4].required);
    EXPECT_EQ(note.fields[5].type, FieldType::Timestamp);
    EXPECT_TRUE(note.fields[5].index);
    EXPECT_EQ(note.fields[5].default_json, "\"2024-01-01T00:00:00Z\"");
    EXPECT_EQ(note.fields[6].type, FieldType::Json);
    EXPECT_EQ(note.fields[6].default_json, R"({"tags":["a",1]})");
    EXPECT_TRUE(note.fields[7].unique);
    EXPECT_EQ(note.fields[7].default_json, R"("it's")");
    EXPECT_EQ(note.fields[8].default_json, "-3");

    EXPECT_EQ(note.primary_key(), &note.fields[0]);
    EXPECT_EQ(note.field("slug"), &note.fields[7]);
    EXPECT_EQ(note.field("nope"), nullptr);
    const ModelSpec& tag = m.models[1];
    ASSERT_NE(tag.primary_key(), nullptr);
    EXPECT_EQ(tag.primary_key()->name, "name");
    EXPECT_EQ(tag.primary_key()->type, FieldType::Text);
    EXPECT_EQ(tag.primary_key()->max, 40u);
    EXPECT_EQ(ModelSpec{}.primary_key(), nullptr);
}

TEST(ManifestModels, NoModelsIsFine) {
    EXPECT_TRUE(parse_manifest(kHead, kSource).models.empty());
    EXPECT_TRUE(parse_manifest(kHead + "models:\nmigrations:\nresources:\n", kSource).models.empty());
}

TEST(ManifestModels, Shapes) {
    EXPECT_EQ(only_error(kHead + "models: [note]\n"), "M:4:9: models: must be a map from model name to {fields: {...}}");
    EXPECT_EQ(model_error("  note: x\n"),
              "M:5:9: models.note: must be a map such as {fields: {id: {type: integer, primary_key: true}}}");
    EXPECT_EQ(model_error("  note:\n"),
              "M:5:3: models.note: must be a map such as {fields: {id: {type: integer, primary_key: true}}}");
    EXPECT_EQ(manifest_errors(kHead + "models:\n  note: {table: x}\n"),
              (std::vector<std::string>{
                  kSource + ":5:9: models.note.fields: required key is missing",
              }));
    EXPECT_EQ(manifest_errors(kHead + "models:\n  note: {feilds: {}}\n"),
              (std::vector<std::string>{
                  kSource + ":5:10: models.note.feilds: unknown key; did you mean 'fields'?",
                  kSource + ":5:9: models.note.fields: required key is missing",
              }));
    EXPECT_EQ(model_error("  note: {fields: {}}\n"), "M:5:18: models.note.fields: must be a map from field name to {type, ...}");
    EXPECT_EQ(model_error("  note: {fields: [id]}\n"), "M:5:18: models.note.fields: must be a map from field name to {type, ...}");
    EXPECT_EQ(model_error("  note:\n    fields:\n      id: integer\n"),
              "M:7:11: models.note.fields.id: must be a map such as {type: text, max: 200, required: true}");
}

TEST(ManifestModels, Names) {
    const std::string rule = "model names must be lower-case letters, digits and '_', not starting with a digit";
    EXPECT_EQ(model_error("  Note: {fields: {id: {type: integer, primary_key: true}}}\n"), "M:5:3: models.Note: " + rule);
    EXPECT_EQ(model_error("  2note: {fields: {id: {type: integer, primary_key: true}}}\n"), "M:5:3: models.2note: " + rule);
    EXPECT_EQ(model_error("  my-note: {fields: {id: {type: integer, primary_key: true}}}\n"),
              "M:5:3: models.my-note: " + rule);
    EXPECT_EQ(model_error("  order: {fields: {id: {type: integer, primary_key: true}}}\n"),
              "M:5:3: models.order: 'order' is an SQL keyword; choose another model name");
    EXPECT_EQ(model_error("  user: {fields: {id: {type: integer, primary_key: true}}}\n"),
              "M:5:3: models.user: 'user' is an SQL keyword; choose another model name");
    EXPECT_EQ(model_error("  trellis_x: {fields: {id: {type: integer, primary_key: true}}}\n"),
              "M:5:3: models.trellis_x: names starting with 'trellis_' are reserved for the host's tables");
}

TEST(ManifestModels, ValidNamesParse) {
    const Manifest m = parse_manifest(kHead + "models:\n  _n0te_2: {fields: {id: {type: integer, primary_key: true}, "
                                              "select_count: {type: integer}}}\n",
                                      kSource);
    ASSERT_EQ(m.models.size(), 1u);
    EXPECT_EQ(m.models[0].name, "_n0te_2");
    EXPECT_EQ(m.models[0].fields[1].name, "select_count");  // a keyword inside a name is fine
}

TEST(ManifestModels, DuplicateModelsAndFields) {
    EXPECT_EQ(model_error("  note: {fields: {id: {type: integer, primary_key: true}}}\n"
                          "  note: {fields: {id: {type: integer, primary_key: true}}}\n"),
              "M:6:3: models.note: model declared twice; first declared at line 5, column 3");
    EXPECT_EQ(field_error("id: {type: text}"),
              "M:8:7: models.m.fields.id: field declared twice; first declared at line 7, column 7");
}

TEST(ManifestModels, FieldNames) {
    EXPECT_EQ(field_error("Title: {type: text}"),
              "M:8:7: models.m.fields.Title: field names must be lower-case letters, digits and '_', not starting "
              "with a digit");
    EXPECT_EQ(field_error("\"a b\": {type: text}"),
              "M:8:7: models.m.fields.a b: field names must be lower-case letters, digits and '_', not starting "
              "with a digit");
    for (const std::string keyword : {"select", "table", "order", "group", "where", "from", "user", "index", "key",
                                      "primary", "default", "check", "references"})
        EXPECT_EQ(field_error(keyword + ": {type: text}"),
                  "M:8:7: models.m.fields." + keyword + ": '" + keyword +
                      "' is an SQL keyword; choose another field name");
}

TEST(ManifestModels, FieldTypes) {
    const std::string rule = "M:8:17: models.m.fields.a.type: must be one of integer, real, text, boolean, timestamp, json";
    EXPECT_EQ(field_error("a: {type: txt}"), rule + "; did you mean 'text'?");
    EXPECT_EQ(field_error("a: {type: int}"), rule + "; did you mean 'integer'?");
    EXPECT_EQ(field_error("a: {type: string}"), rule + "; did you mean 'text'?");
    EXPECT_EQ(field_error("a: {type: bool}"), rule + "; did you mean 'boolean'?");
    EXPECT_EQ(field_error("a: {type: float}"), rule + "; did you mean 'real'?");
    EXPECT_EQ(field_error("a: {type: datetime}"), rule + "; did you mean 'timestamp'?");
    EXPECT_EQ(field_error("a: {type: blob}"), rule);
    EXPECT_EQ(field_error("a: {type: [text]}"), rule);
    EXPECT_EQ(field_error("a: {max: 3}"), "M:8:10: models.m.fields.a.type: required key is missing");
    EXPECT_EQ(field_error("a: {type: text, reqired: true}"),
              "M:8:23: models.m.fields.a.reqired: unknown key; did you mean 'required'?");
    EXPECT_EQ(field_error("a: {type: text, primarykey: true}"),
              "M:8:23: models.m.fields.a.primarykey: unknown key; did you mean 'primary_key'?");
    EXPECT_EQ(field_error("a: {type: text, primary: true}"), "M:8:23: models.m.fields.a.primary: unknown key");
}

TEST(ManifestModels, Flags) {
    for (const std::string flag : {"primary_key", "unique", "index", "required"}) {
        const std::string line = "a: {type: text, " + flag + ": yes}";
        EXPECT_EQ(field_error(line),
                  "M:8:" + std::to_string(6 + 16 + flag.size() + 2 + 1) + ": models.m.fields.a." + flag +
                      ": must be true or false")
            << flag;
    }
}

TEST(ManifestModels, PrimaryKeys) {
    EXPECT_EQ(model_error("  m:\n    fields:\n      a: {type: text}\n"),
              "M:5:3: models.m.fields: needs a primary key: mark one integer or text field with primary_key: true");
    EXPECT_EQ(field_error("b: {type: text, primary_key: true}"),
              "M:8:36: models.m.fields.b.primary_key: a model has one primary key and 'id' already is");
    EXPECT_EQ(model_error("  m:\n    fields:\n      a: {type: real, primary_key: true}\n"),
              "M:7:36: models.m.fields.a.primary_key: a primary key must be an integer or text field, not real");
    EXPECT_EQ(model_error("  m:\n    fields:\n      a: {type: boolean, primary_key: true}\n"),
              "M:7:39: models.m.fields.a.primary_key: a primary key must be an integer or text field, not boolean");
    EXPECT_EQ(model_error("  m:\n    fields:\n      a: {type: text, primary_key: true, default: x}\n"),
              "M:7:51: models.m.fields.a.default: a primary key cannot have a default");
    EXPECT_EQ(model_error("  m:\n    fields:\n      k: {type: text, primary_key: true}\n      id: {type: integer}\n"),
              "M:8:7: models.m.fields.id: a field named 'id' must be the primary key (add primary_key: true or "
              "rename it)");
    // primary_key: false is no primary key.
    EXPECT_EQ(model_error("  m:\n    fields:\n      a: {type: integer, primary_key: false}\n"),
              "M:5:3: models.m.fields: needs a primary key: mark one integer or text field with primary_key: true");
}

TEST(ManifestModels, Max) {
    EXPECT_EQ(field_error("a: {type: text, max: 0}"), "M:8:28: models.m.fields.a.max: must be an integer greater than 0");
    EXPECT_EQ(field_error("a: {type: text, max: -5}"), "M:8:28: models.m.fields.a.max: must be an integer greater than 0");
    EXPECT_EQ(field_error("a: {type: text, max: 1.5}"), "M:8:28: models.m.fields.a.max: must be an integer greater than 0");
    EXPECT_EQ(field_error("a: {type: text, max: \"20\"}"),
              "M:8:28: models.m.fields.a.max: must be an integer greater than 0");
    EXPECT_EQ(field_error("a: {type: integer, max: 20}"), "M:8:31: models.m.fields.a.max: applies only to text fields");
    EXPECT_EQ(field_error("a: {max: 20, type: json}"), "M:8:16: models.m.fields.a.max: applies only to text fields");
}

TEST(ManifestModels, DefaultsMustMatchTheType) {
    const auto bad = [](const std::string& type, const std::string& value) {
        return field_error("a: {type: " + type + ", default: " + value + "}");
    };
    EXPECT_EQ(bad("integer", "1.5"), "M:8:35: models.m.fields.a.default: default must be an integer (type integer)");
    EXPECT_EQ(bad("integer", "\"1\""), "M:8:35: models.m.fields.a.default: default must be an integer (type integer)");
    EXPECT_EQ(bad("real", "abc"), "M:8:32: models.m.fields.a.default: default must be a number (type real)");
    EXPECT_EQ(bad("real", ".inf"), "M:8:32: models.m.fields.a.default: default must be a number (type real)");
    EXPECT_EQ(bad("boolean", "1"), "M:8:35: models.m.fields.a.default: default must be true or false (type boolean)");
    EXPECT_EQ(bad("text", "[a]"), "M:8:32: models.m.fields.a.default: default must be a string (type text)");
    EXPECT_EQ(bad("timestamp", "2024-01-01"),
              "M:8:37: models.m.fields.a.default: default must be an ISO-8601 timestamp such as 2024-05-01T12:00:00Z "
              "(type timestamp)");
    EXPECT_EQ(bad("json", "null"), "M:8:23: models.m.fields.a.default: default must be a JSON value other than null (type json)");
    EXPECT_EQ(field_error("a: {type: text, max: 2, default: abc}"),
              "M:8:40: models.m.fields.a.default: default is longer than max (2 characters) (type text)");
    EXPECT_EQ(field_error("a: {type: text, default:}"),
              "M:8:23: models.m.fields.a.default: default must be a string (type text)");  // null: at the key

    const auto parsed = [](const std::string& line) {
        const Manifest m = parse_manifest(
            kHead + "models:\n  m:\n    fields:\n      id: {type: integer, primary_key: true}\n      " + line + "\n",
            kSource);
        return m.models.at(0).fields.at(1).default_json.value_or("(none)");
    };
    EXPECT_EQ(parsed("a: {type: real, default: 2}"), "2.0");
    EXPECT_EQ(parsed("a: {type: real, default: -1e3}"), "-1000.0");
    EXPECT_EQ(parsed("a: {type: text, default: 12}"), "\"12\"");  // text is text, as written
    EXPECT_EQ(parsed("a: {type: text, max: 2, default: \"é€\"}"), "\"é€\"");  // characters, not bytes
    EXPECT_EQ(parsed("a: {type: boolean, default: True}"), "true");
    EXPECT_EQ(parsed("a: {type: integer, default: +7}"), "7");
    EXPECT_EQ(parsed("a: {type: timestamp, default: \"2024-02-29T23:59:59.5+02:00\"}"),
              "\"2024-02-29T23:59:59.5+02:00\"");
    EXPECT_EQ(parsed("a: {type: json, default: [1, x, true]}"), R"([1,"x",true])");
    EXPECT_EQ(parsed("a: {type: json, default: 3}"), "3");
    EXPECT_EQ(parsed("a: {type: text}"), "(none)");
}

TEST(ManifestModels, EveryProblemOfAModelIsReported) {
    EXPECT_EQ(manifest_errors(kHead + R"(models:
  note:
    fields:
      title: {type: txt, max: 0}
      body: {type: text, unique: maybe}
)"),
              (std::vector<std::string>{
                  kSource + ":7:21: models.note.fields.title.type: must be one of integer, real, text, boolean, "
                            "timestamp, json; did you mean 'text'?",
                  kSource + ":7:31: models.note.fields.title.max: must be an integer greater than 0",
                  kSource + ":8:34: models.note.fields.body.unique: must be true or false",
              }));
}

TEST(ManifestMigrations, ParsesStepsInOrder) {
    const Manifest m = parse_manifest(kData, kSource);
    ASSERT_EQ(m.migrations.size(), 4u);
    const MigrationSpec& seed = m.migrations[0];
    EXPECT_EQ(seed.id, "001_seed");
    EXPECT_EQ(seed.line, 20);
    EXPECT_EQ(seed.column, 5);
    EXPECT_EQ(seed.sql, "INSERT INTO tag (name) VALUES ('welcome')");
    EXPECT_TRUE(seed.by_backend.empty());
    ASSERT_NE(seed.sql_for("sqlite"), nullptr);
    EXPECT_EQ(*seed.sql_for("sqlite"), seed.sql);
    EXPECT_EQ(*seed.sql_for("postgresql"), seed.sql);

    const MigrationSpec& fts = m.migrations[1];
    EXPECT_EQ(fts.id, "002.fts");
    EXPECT_TRUE(fts.sql.empty());
    EXPECT_EQ(*fts.sql_for("sqlite"), "CREATE TABLE a (x)");
    EXPECT_EQ(*fts.sql_for("postgresql"), "CREATE TABLE b (x)");

    const MigrationSpec& pg = m.migrations[2];
    EXPECT_EQ(pg.id, "003-pg-only");
    EXPECT_EQ(pg.sql_for("sqlite"), nullptr);  // this step does not exist on SQLite
    EXPECT_EQ(*pg.sql_for("postgresql"), "CREATE EXTENSION IF NOT EXISTS pg_trgm");

    const MigrationSpec& both = m.migrations[3];  // sql is the default, a variant overrides it
    EXPECT_EQ(*both.sql_for("sqlite"), "SELECT 2");
    EXPECT_EQ(*both.sql_for("postgresql"), "SELECT 1");
    EXPECT_EQ(both.sql_for("mysql"), both.sql_for("postgresql"));
}

TEST(ManifestMigrations, Errors) {
    const auto bad = [](const std::string& item) { return only_error(kHead + "migrations:\n  - " + item + "\n"); };
    EXPECT_EQ(only_error(kHead + "migrations: {id: x}\n"),
              "M:4:13: migrations: must be a list of {id, sql} (or {id, sqlite, postgresql})");
    EXPECT_EQ(bad("CREATE TABLE x"), "M:5:5: migrations[0]: must be a map {id, sql} (or {id, sqlite, postgresql})");
    EXPECT_EQ(bad("{sql: SELECT 1}"), "M:5:5: migrations[0].id: required key is missing");
    EXPECT_EQ(bad("{id: a}"), "M:5:5: migrations[0]: needs sql (every backend) or sqlite and/or postgresql");
    const std::string id_rule = "must be made of letters, digits, '_', '.' and '-', e.g. 002_add_tag";
    EXPECT_EQ(bad("{id: \"a b\", sql: x}"), "M:5:10: migrations[0].id: " + id_rule);
    EXPECT_EQ(bad("{id: \"model:note\", sql: x}"), "M:5:10: migrations[0].id: " + id_rule);
    EXPECT_EQ(bad("{id: \"\", sql: x}"), "M:5:10: migrations[0].id: " + id_rule);
    EXPECT_EQ(bad("{id: a, sql: \"\"}"), "M:5:18: migrations[0].sql: must be non-empty SQL text");
    EXPECT_EQ(bad("{id: a, sql: \"  \"}"), "M:5:18: migrations[0].sql: must be non-empty SQL text");
    EXPECT_EQ(bad("{id: a, sqlite: [x]}"), "M:5:21: migrations[0].sqlite: must be non-empty SQL text");
    EXPECT_EQ(bad("{id: a, postgresql:}"), "M:5:13: migrations[0].postgresql: must be non-empty SQL text");
    EXPECT_EQ(bad("{id: a, sql: x, postgres: y}"),
              "M:5:21: migrations[0].postgres: unknown key; did you mean 'postgresql'?");
    EXPECT_EQ(only_error(kHead + "migrations:\n  - {id: a, sql: x}\n  - {id: b, sql: x}\n  - {id: a, sql: y}\n"),
              "M:7:10: migrations[2].id: migration 'a' is already declared at migrations[0]");
}

TEST(ManifestResources, ModelAndPath) {
    const Manifest m = parse_manifest(kData, kSource);
    ASSERT_EQ(m.resources.size(), 2u);
    EXPECT_EQ(m.resources[0].model, "note");
    EXPECT_EQ(m.resources[0].path, "/");
    EXPECT_EQ(m.resources[0].line, 26);
    EXPECT_EQ(m.resources[0].column, 5);
    EXPECT_EQ(m.resources[1].model, "tag");
    EXPECT_EQ(m.resources[1].path, "/tags");
    EXPECT_EQ(m.resources[1].line, 27);

    // The path defaults to the mount itself; resources may come before their models.
    const Manifest early = parse_manifest(
        kHead + "resources:\n  - {model: n}\nmodels:\n  n: {fields: {id: {type: integer, primary_key: true}}}\n",
        kSource);
    ASSERT_EQ(early.resources.size(), 1u);
    EXPECT_EQ(early.resources[0].path, "/");
}

TEST(ManifestResources, Errors) {
    const std::string model = "models:\n  note: {fields: {id: {type: integer, primary_key: true}}}\n";  // lines 4-5
    const auto bad = [&](const std::string& item) { return only_error(kHead + model + "resources:\n  - " + item + "\n"); };
    EXPECT_EQ(only_error(kHead + "resources: {model: note}\n"), "M:4:12: resources: must be a list of {model, path}");
    EXPECT_EQ(bad("note"), "M:7:5: resources[0]: must be a map {model, path}");
    EXPECT_EQ(bad("{path: /x}"), "M:7:5: resources[0].model: required key is missing");
    EXPECT_EQ(bad("{model: note, path: x}"), "M:7:25: resources[0].path: must start with '/'");
    EXPECT_EQ(bad("{model: note, path: /x/}"),
              "M:7:25: resources[0].path: must not end with '/' (use \"/\" for the root)");
    EXPECT_EQ(bad("{model: note, path: /a//b}"), "M:7:25: resources[0].path: must not contain '//'");
    EXPECT_EQ(bad("{model: note, path: \"/x/{id}\"}"),
              "M:7:25: resources[0].path: must not contain '{' or '}' (the resource adds /{id} itself)");
    EXPECT_EQ(bad("{model: nots}"), "M:7:13: resources[0].model: 'nots' is not a model of this manifest; did you mean 'note'?");
    EXPECT_EQ(bad("{model: user_account}"), "M:7:13: resources[0].model: 'user_account' is not a model of this manifest");
    EXPECT_EQ(bad("{model: [note]}"), "M:7:13: resources[0].model: must be the name of a model of this manifest");
    EXPECT_EQ(bad("{model: note, pth: /x}"), "M:7:19: resources[0].pth: unknown key; did you mean 'path'?");
    EXPECT_EQ(only_error(kHead + "resources:\n  - {model: note}\n"),
              "M:5:13: resources[0].model: 'note' is not a model of this manifest");
    EXPECT_EQ(only_error(kHead + model + "resources:\n  - {model: note}\n  - {model: note, path: /}\n"),
              "M:8:25: resources[1].path: '/' is already the path of resources[0]");
    EXPECT_EQ(only_error(kHead + model + "resources:\n  - {model: note, path: /a}\n  - {model: note, path: /b}\n"
                                         "  - {model: note, path: /a}\n"),
              "M:9:25: resources[2].path: '/a' is already the path of resources[0]");
    EXPECT_EQ(only_error(kHead + model + "resources:\n  - {model: note, path: /}\n  - {model: note}\n"),
              "M:8:5: resources[1]: '/' is already the path of resources[0]");
}

TEST(ManifestResources, RefusedModelIsReportedOnce) {
    // The model's own problem is the one to fix; its resource is not reported as well.
    EXPECT_EQ(only_error(kHead + "models:\n  note: {fields: {id: {type: real, primary_key: true}}}\n"
                                 "resources:\n  - {model: note}\n"),
              "M:5:49: models.note.fields.id.primary_key: a primary key must be an integer or text field, not real");
}

TEST(ManifestModels, TablesAreNamespacedByPlugin) {
    const std::string fields = "{fields: {id: {type: integer, primary_key: true}}";
    const Manifest m = parse_manifest(kHead + "models:\n  note: " + fields + "}\n  tag: " + fields + ", table: my_tags}\n",
                                      kSource);
    ASSERT_EQ(m.models.size(), 2u);
    EXPECT_EQ(m.models[0].table, "notes_note");  // <plugin>_<model>, as Django names them
    EXPECT_EQ(m.models[1].table, "my_tags");     // table: chooses
    // The plugin name lower case, '-' as '_'; `plugin:` may come after `models:`.
    const Manifest late = parse_manifest("models:\n  note: " + fields + "}\nplugin: My-Notes\nversion: 1.0.0\nabi: 1.1\n",
                                         kSource);
    EXPECT_EQ(late.models.at(0).table, "my_notes_note");
}

TEST(ManifestModels, TableErrors) {
    const std::string fields = "fields: {id: {type: integer, primary_key: true}}";
    const auto table = [&](const std::string& name) { return model_error("  note: {table: " + name + ", " + fields + "}\n"); };
    EXPECT_EQ(table("\"My Notes\""),
              "M:5:17: models.note.table: table names must be lower-case letters, digits and '_', not starting with a digit");
    EXPECT_EQ(table("[a]"),
              "M:5:17: models.note.table: table names must be lower-case letters, digits and '_', not starting with a digit");
    EXPECT_EQ(table("select"), "M:5:17: models.note.table: 'select' is an SQL keyword; choose another table name");
    EXPECT_EQ(table("trellis_notes"),
              "M:5:17: models.note.table: names starting with 'trellis_' are reserved for the host's tables");
    EXPECT_EQ(table(std::string(64, 'a')),
              "M:5:17: models.note.table: is longer than 63 characters (PostgreSQL would cut it)");
    EXPECT_EQ(parse_manifest(kHead + "models:\n  note: {table: " + std::string(63, 'a') + ", " + fields + "}\n", kSource)
                  .models.at(0)
                  .table,
              std::string(63, 'a'));
    // Two models in one table: the explicit name is the one reported, else the later model.
    EXPECT_EQ(model_error("  a: {table: shared, " + fields + "}\n  b: {table: shared, " + fields + "}\n"),
              "M:6:14: models.b.table: table 'shared' is already the table of model 'a'");
    EXPECT_EQ(model_error("  a: {table: notes_b, " + fields + "}\n  b: {" + fields + "}\n"),
              "M:6:3: models.b: table 'notes_b' is already the table of model 'a'");
    // A default that cannot be a table asks for table:.
    EXPECT_EQ(only_error("plugin: 3d\nversion: 1.0.0\nabi: 1.1\nmodels:\n  note: {" + fields + "}\n"),
              "M:5:3: models.note: the default table '3d_note' (<plugin>_<model>) cannot be used: table names must be "
              "lower-case letters, digits and '_', not starting with a digit; choose one with table:");
    EXPECT_EQ(only_error("plugin: trellis\nversion: 1.0.0\nabi: 1.1\nmodels:\n  migrations: {" + fields + "}\n"),
              "M:5:3: models.migrations: the default table 'trellis_migrations' (<plugin>_<model>) cannot be used: names "
              "starting with 'trellis_' are reserved for the host's tables; choose one with table:");
    EXPECT_EQ(parse_manifest("plugin: 3d\nversion: 1.0.0\nabi: 1.1\nmodels:\n  note: {table: d3_note, " + fields + "}\n",
                             kSource)
                  .models.at(0)
                  .table,
              "d3_note");
}

TEST(ManifestModels, AutoTimestamps) {
    const Manifest m = parse_manifest(kHead + "models:\n  note:\n    fields:\n      id: {type: integer, primary_key: true}\n"
                                              "      created: {type: timestamp, auto: create}\n"
                                              "      updated: {type: timestamp, auto: update, required: true}\n"
                                              "      due: {type: timestamp}\n",
                                      kSource);
    const auto& fields = m.models.at(0).fields;
    EXPECT_EQ(fields[0].auto_timestamp, FieldSpec::Auto::None);
    EXPECT_EQ(fields[1].auto_timestamp, FieldSpec::Auto::Create);
    EXPECT_EQ(fields[2].auto_timestamp, FieldSpec::Auto::Update);
    EXPECT_TRUE(fields[2].required);
    EXPECT_EQ(fields[3].auto_timestamp, FieldSpec::Auto::None);

    const std::string rule = "must be create (set on insert) or update (set on insert and on every PUT and PATCH)";
    EXPECT_EQ(field_error("at: {type: timestamp, auto: now}"), "M:8:35: models.m.fields.at.auto: " + rule);
    EXPECT_EQ(field_error("at: {type: timestamp, auto: creat}"),
              "M:8:35: models.m.fields.at.auto: " + rule + "; did you mean 'create'?");
    EXPECT_EQ(field_error("at: {type: timestamp, auto: [update]}"), "M:8:35: models.m.fields.at.auto: " + rule);
    EXPECT_EQ(field_error("at: {type: text, auto: create}"),
              "M:8:30: models.m.fields.at.auto: applies only to timestamp fields, not text");
    EXPECT_EQ(field_error("at: {type: integer, auto: update}"),
              "M:8:33: models.m.fields.at.auto: applies only to timestamp fields, not integer");
    EXPECT_EQ(field_error("at: {type: timestamp, auto: create, default: \"2024-05-01T12:00:00Z\"}"),
              "M:8:52: models.m.fields.at.default: a field the host fills (auto: create) cannot have a default");
    EXPECT_EQ(field_error("at: {type: timestamp, atuo: create}"),
              "M:8:29: models.m.fields.at.atuo: unknown key; did you mean 'auto'?");
}

TEST(ManifestResources, LimitAndMethodsDefaults) {
    const Manifest m = parse_manifest(kData, kSource);
    const ResourceSpec& r = m.resources.at(0);
    EXPECT_EQ(r.limit_default, 50);  // what resources answered before `limit:` existed
    EXPECT_EQ(r.limit_max, 1000);
    EXPECT_EQ(r.methods, (std::vector<ResourceSpec::Op>{ResourceSpec::Op::List, ResourceSpec::Op::Read,
                                                        ResourceSpec::Op::Create, ResourceSpec::Op::Replace,
                                                        ResourceSpec::Op::Patch, ResourceSpec::Op::Delete}));
    for (const auto op : ResourceSpec::kAllOps) EXPECT_TRUE(r.serves(op));
    std::vector<std::string_view> names;
    for (const auto op : ResourceSpec::kAllOps) names.push_back(ResourceSpec::op_name(op));
    EXPECT_EQ(names, (std::vector<std::string_view>{"list", "read", "create", "replace", "patch", "delete"}));
}

TEST(ManifestResources, Limit) {
    const std::string model = "models:\n  note: {fields: {id: {type: integer, primary_key: true}}}\n";  // lines 4-5
    const auto parsed = [&](const std::string& limit) {
        return parse_manifest(kHead + model + "resources:\n  - {model: note, limit: " + limit + "}\n", kSource).resources.at(0);
    };
    EXPECT_EQ(parsed("{default: 20, max: 100}").limit_default, 20);
    EXPECT_EQ(parsed("{default: 20, max: 100}").limit_max, 100);
    EXPECT_EQ(parsed("{default: 7, max: 7}").limit_default, 7);
    EXPECT_EQ(parsed("{default: 500}").limit_max, 1000);  // each key alone keeps the other's default
    EXPECT_EQ(parsed("{max: 200}").limit_default, 50);
    EXPECT_EQ(parsed("{max: 10}").limit_default, 10);  // the default is never above max
    EXPECT_EQ(parsed("{}").limit_default, 50);

    const auto bad = [&](const std::string& limit) {
        return only_error(kHead + model + "resources:\n  - {model: note, limit: " + limit + "}\n");
    };
    const std::string positive = "must be an integer from 1 to 2147483647";
    EXPECT_EQ(bad("20"), "M:7:26: resources[0].limit: must be a map such as {default: 20, max: 100}");
    EXPECT_EQ(bad("{default: 0}"), "M:7:36: resources[0].limit.default: " + positive);
    EXPECT_EQ(bad("{default: -5}"), "M:7:36: resources[0].limit.default: " + positive);
    EXPECT_EQ(bad("{default: \"20\"}"), "M:7:36: resources[0].limit.default: " + positive);
    EXPECT_EQ(bad("{max: 2.5}"), "M:7:32: resources[0].limit.max: " + positive);
    EXPECT_EQ(bad("{max: 2147483648}"), "M:7:32: resources[0].limit.max: " + positive);
    EXPECT_EQ(bad("{default: 200, max: 100}"), "M:7:36: resources[0].limit.default: is more than max (100)");
    EXPECT_EQ(bad("{default: 2000}"), "M:7:36: resources[0].limit.default: is more than max (1000)");
    EXPECT_EQ(bad("{default: 5, mx: 10}"), "M:7:39: resources[0].limit.mx: unknown key; did you mean 'max'?");
}

TEST(ManifestResources, Methods) {
    using Op = ResourceSpec::Op;
    const std::string model = "models:\n  note: {fields: {id: {type: integer, primary_key: true}}}\n";  // lines 4-5
    const auto parsed = [&](const std::string& methods) {
        return parse_manifest(kHead + model + "resources:\n  - {model: note, methods: " + methods + "}\n", kSource)
            .resources.at(0);
    };
    // Kept in one order, whatever the order written.
    EXPECT_EQ(parsed("[create, read, list]").methods, (std::vector<Op>{Op::List, Op::Read, Op::Create}));
    EXPECT_EQ(parsed("[delete]").methods, (std::vector<Op>{Op::Delete}));
    EXPECT_TRUE(parsed("[patch, replace]").serves(Op::Replace));
    EXPECT_FALSE(parsed("[patch, replace]").serves(Op::List));

    const auto bad = [&](const std::string& methods) {
        return only_error(kHead + model + "resources:\n  - {model: note, methods: " + methods + "}\n");
    };
    const std::string use = "use list, read, create, replace, patch, delete";
    EXPECT_EQ(bad("list"), "M:7:28: resources[0].methods: must be a non-empty list of list, read, create, replace, patch, delete");
    EXPECT_EQ(bad("[]"), "M:7:28: resources[0].methods: must be a non-empty list of list, read, create, replace, patch, delete");
    EXPECT_EQ(bad("[list, lsit]"), "M:7:35: resources[0].methods[1]: 'lsit' is not a method; " + use + "; did you mean 'list'?");
    EXPECT_EQ(bad("[update]"),
              "M:7:29: resources[0].methods[0]: 'update' is not a method; " + use +
                  "; did you mean 'patch' (PATCH) or 'replace' (PUT)?");
    EXPECT_EQ(bad("[GET]"),
              "M:7:29: resources[0].methods[0]: 'GET' is not a method; " + use +
                  "; did you mean 'list' (GET <path>) or 'read' (GET <path>/{id})?");
    EXPECT_EQ(bad("[Create]"), "M:7:29: resources[0].methods[0]: 'Create' is not a method; " + use + "; did you mean 'create'?");
    EXPECT_EQ(bad("[frobnicate]"), "M:7:29: resources[0].methods[0]: 'frobnicate' is not a method; " + use);
    EXPECT_EQ(bad("[[list]]"), "M:7:29: resources[0].methods[0]: must be one of list, read, create, replace, patch, delete");
    EXPECT_EQ(bad("[list, read, list]"), "M:7:41: resources[0].methods[2]: 'list' is listed twice");
    // Every problem at once.
    EXPECT_EQ(manifest_errors(kHead + model + "resources:\n  - {model: note, methods: [lst], limit: {max: 0}}\n"),
              (std::vector<std::string>{
                  kSource + ":7:29: resources[0].methods[0]: 'lst' is not a method; " + use + "; did you mean 'list'?",
                  kSource + ":7:48: resources[0].limit.max: must be an integer from 1 to 2147483647",
              }));
}

// Found by fuzz/fuzz_manifest.cpp: a text default with bytes that are not
// UTF-8 made the JSON serializer throw out of the manifest parser (a plugin
// author would have seen the host abort instead of a message).
TEST(Manifest, TextDefaultWithInvalidUtf8IsNoCrash) {
    const std::string yaml =
        "plugin: m\nversion: 1.0.0\nabi: 1.1\nmodels:\n  note:\n    fields:\n"
        "      id: {type: integer, primary_key: true}\n      tag: {type: text, default: \"f\xe1lse\"}\n";
    EXPECT_NO_THROW({
        try {
            (void)trellis::config::parse_manifest(yaml, "M");
        } catch (const trellis::config::ConfigError&) {
        }
    });
}
