// The OpenAPI document as the real binary prints it (`trellis openapi`) and
// serves it (GET openapi.path): its content for the hello and notes plugins,
// the switches, and the bad input. tests/openapi/ validates the same document
// with an independent validator and checks it against live answers.
#include <algorithm>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "fixture.hpp"

namespace e2e {
namespace {

using nlohmann::json;

constexpr std::string_view kPlugins =
    "  hello: {mount: /}\n"
    "  notes: {mount: /api/notes}\n";


RunResult openapi_command(const TempDir& dir, std::string_view plugins, const std::string& top_level = {},
                          const std::vector<std::string>& extra = {}) {
    const auto config = dir.write("trellis.yaml", config_yaml(free_port(), plugins, {.top_level_extra = top_level}));
    std::vector<std::string> args{"openapi", "--config", config.string()};
    for (const auto& a : default_plugin_args()) args.push_back(a);
    for (const auto& a : extra) args.push_back(a);
    return run_trellis(args);
}

json document_of(const RunResult& r) {
    try {
        return json::parse(r.out);
    } catch (const std::exception& e) {
        ADD_FAILURE() << "stdout is not JSON (" << e.what() << "):\n" << r.describe();
        return {};
    }
}

TEST(OpenApiCommand, DescribesRoutesResourcesAndProblems) {
    TempDir dir;
    const RunResult r = openapi_command(dir, kPlugins, "openapi: {title: Notes API}\n");
    ASSERT_TRUE(exited_with(r, 0)) << r.describe();
    const json doc = document_of(r);
    EXPECT_EQ(doc["openapi"], "3.1.0");
    EXPECT_EQ(doc["info"]["title"], "Notes API");
    ASSERT_FALSE(doc["info"]["version"].get<std::string>().empty());
    const RunResult version = run_trellis({"--version"});
    EXPECT_TRUE(Contains(version.out, doc["info"]["version"].get<std::string>()));
    EXPECT_TRUE(Contains(doc["info"]["description"].get<std::string>(), "notes (notes 1.0.0) at /api/notes"));

    // Every route with its mount, the host's own document among them.
    std::vector<std::string> paths;
    for (const auto& [path, item] : doc["paths"].items()) paths.push_back(path);
    EXPECT_EQ(paths, (std::vector<std::string>{"/api/notes", "/api/notes/search", "/api/notes/{id}",
                                               "/api/notes/{id}/summary", "/echo", "/hello", "/hello/{name}",
                                               "/openapi.json"}));
    const json& item = doc["paths"]["/api/notes/{id}"];
    for (const char* method : {"get", "put", "patch", "delete"}) EXPECT_TRUE(item.contains(method)) << method;
    EXPECT_EQ(item["get"]["parameters"][0],
              (json{{"name", "id"}, {"in", "path"}, {"required", true}, {"schema", {{"type", "integer"}, {"format", "int64"}}}}));
    EXPECT_EQ(doc["paths"]["/hello/{name}"]["get"]["parameters"][0]["schema"]["type"], "string");

    // Manifest documentation: summary and response schema.
    const json& hello = doc["paths"]["/hello"]["get"];
    EXPECT_EQ(hello["summary"], "Greet the world");
    EXPECT_EQ(hello["responses"]["200"]["content"]["application/json"]["schema"]["required"], json::array({"message"}));
    EXPECT_EQ(hello["tags"], json::array({"hello"}));

    // The model as JSON Schema: types, max lengths, required, read-only key.
    const json& note = doc["components"]["schemas"]["notes_note"];
    EXPECT_EQ(note["required"], json::array({"title"}));
    EXPECT_EQ(note["properties"]["title"], (json{{"type", "string"}, {"maxLength", 200}}));
    EXPECT_EQ(note["properties"]["id"]["readOnly"], true);
    EXPECT_EQ(note["properties"]["pinned"]["default"], false);
    EXPECT_EQ(note["properties"]["created"]["format"], "date-time");
    EXPECT_FALSE(doc["components"]["schemas"]["notes_note_patch"].contains("required"));

    // Paging, sort and filters on the list; statuses with problem+json.
    const json& list = doc["paths"]["/api/notes"]["get"];
    std::vector<std::string> query;
    for (const auto& p : list["parameters"]) query.push_back(p["name"]);
    EXPECT_EQ(query, (std::vector<std::string>{"limit", "offset", "sort", "id", "title", "body", "tag", "pinned",
                                               "created"}));
    const json& create = doc["paths"]["/api/notes"]["post"];
    for (const char* status : {"201", "400", "409", "422", "5XX"}) EXPECT_TRUE(create["responses"].contains(status)) << status;
    EXPECT_EQ(create["responses"]["422"], (json{{"$ref", "#/components/responses/Problem"}}));
    EXPECT_TRUE(doc["paths"]["/api/notes/{id}"]["delete"]["responses"].contains("204"));
    EXPECT_TRUE(doc["components"]["responses"]["Problem"]["content"].contains("application/problem+json"));
}

TEST(OpenApiCommand, WritesToAFileAndFailsInOneLine) {
    TempDir dir;
    const auto out = dir.path() / "openapi.json";
    const RunResult written = openapi_command(dir, kPlugins, {}, {"-o", out.string()});
    ASSERT_TRUE(exited_with(written, 0)) << written.describe();
    EXPECT_EQ(written.out, "");
    EXPECT_EQ(json::parse(read_file(out))["openapi"], "3.1.0");

    const RunResult unwritable = openapi_command(dir, kPlugins, {}, {"-o", (dir.path() / "no/such/dir.json").string()});
    EXPECT_TRUE(exited_with(unwritable, 1)) << unwritable.describe();
    EXPECT_TRUE(Contains(unwritable.err, "no/such/dir.json: cannot write: No such file or directory"));

    const RunResult missing = run_trellis({"openapi", "--config", (dir.path() / "absent.yaml").string()});
    EXPECT_TRUE(exited_with(missing, 1)) << missing.describe();
    EXPECT_EQ(std::count(missing.err.begin(), missing.err.end(), '\n'), 1) << missing.err;
    EXPECT_TRUE(Contains(missing.err, "absent.yaml"));
}

TEST(OpenApiCommand, TheReadinessPathIsRefused) {
    const RunResult r = run_with_config(
        "check", kPlugins, {.server_extra = "  readiness_path: /openapi.json\n"});
    EXPECT_TRUE(exited_with(r, 1)) << r.describe();
    EXPECT_TRUE(Contains(r.err, "openapi.path /openapi.json is server.readiness_path too"));
}

TEST(OpenApiCommand, APluginRouteOnTheDocumentsPathIsRefused) {
    const RunResult r = run_with_config("check", kPlugins, {.top_level_extra = "openapi: {path: /hello}\n"});
    EXPECT_TRUE(exited_with(r, 1)) << r.describe();
    EXPECT_TRUE(Contains(r.err, "openapi.path /hello is taken by plugin 'hello' route GET /hello; set openapi.path to "
                                "another path, or openapi.enabled: false"));
}

class OpenApiServed : public SharedHostTest<OpenApiServed> {
public:
    static void SetUpTestSuite() { start(kPlugins, {.top_level_extra = "openapi: {path: /api/openapi.json}\n"}); }
};

TEST_F(OpenApiServed, AtItsConfiguredPathForGetAndHead) {
    const Response r = get(port(), "/api/openapi.json");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.header("Content-Type"), "application/json");
    const json doc = r.json();
    EXPECT_EQ(doc["openapi"], "3.1.0");
    EXPECT_TRUE(doc["paths"].contains("/api/openapi.json"));
    EXPECT_FALSE(doc["paths"].contains("/openapi.json"));

    const Response head = http(port(), "HEAD", "/api/openapi.json");
    EXPECT_EQ(head.status, 200);
    EXPECT_EQ(head.body, "");
    EXPECT_EQ(get(port(), "/openapi.json").status, 404);
}

TEST_F(OpenApiServed, OtherMethodsAre405WithAllow) {
    const Response r = http(port(), "POST", "/api/openapi.json", {{"Content-Type", "application/json"}}, "{}");
    EXPECT_TRUE(IsProblem(r, 405, "/api/openapi.json"));
    EXPECT_EQ(r.header("Allow"), "GET, HEAD");
}

TEST(OpenApiSwitch, OffMeansNotServed) {
    auto host = Host::start(kPlugins, {.top_level_extra = "openapi: {enabled: false}\n"});
    EXPECT_TRUE(IsProblem(get(host->port(), "/openapi.json"), 404, "/openapi.json"));
    EXPECT_EQ(get(host->port(), "/hello").status, 200);
    EXPECT_EQ(host->stop(SIGTERM).code, 0);
}

}  // namespace
}  // namespace e2e
