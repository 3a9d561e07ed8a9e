// The core without sockets: hooks, routing, handlers and the error chain
// driven through the in-process test client (trellis::testing::Host), with
// the SDK-built test plugins of tests/plugins/sdk and the first-party
// plugins. The same behaviour over real sockets is in tests/e2e.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include <trellis/testing.hpp>

using trellis::testing::Headers;
using trellis::testing::Host;
using trellis::testing::LoadError;
using trellis::testing::Options;
using trellis::testing::Response;

namespace {

Options plugin_dirs() { return Options{{TRELLIS_TEST_PLUGIN_DIR, TRELLIS_PLUGIN_DIR}, {}}; }

const Headers kToken{{"Authorization", "Bearer token-123"}};

std::string dump(const Response& r) {
    std::string out = std::to_string(r.status) + "\n";
    for (const auto& [name, value] : r.headers) out += name + ": " + value + "\n";
    return out + "\n" + r.body;
}

// RFC 9457 problem+json with this status and instance, and no leak of what
// a plugin said before it failed.
::testing::AssertionResult IsDefaultProblem(const Response& r, int status, const std::string& instance) {
    if (r.status != status) return ::testing::AssertionFailure() << "status " << r.status << ":\n" << dump(r);
    if (r.header("Content-Type").value_or("") != "application/problem+json")
        return ::testing::AssertionFailure() << "not problem+json:\n" << dump(r);
    const auto doc = r.json();
    if (doc.value("status", 0) != status || doc.value("instance", "") != instance)
        return ::testing::AssertionFailure() << "wrong problem:\n" << dump(r);
    for (const char* leak : {"SECRET", "partial response"})
        if (r.body.find(leak) != std::string::npos) return ::testing::AssertionFailure() << "leaks " << leak;
    return ::testing::AssertionSuccess();
}

class PipelineTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        host_ = new Host("logging: {level: warn, access: false}\n"
                         "plugins:\n"
                         "  apphooks: {mount: /}\n"
                         "  apphooks2: {mount: /apphooks2}\n"
                         "  scoped: {mount: /scoped}\n"
                         "  hello: {mount: /greet}\n",
                         plugin_dirs());
    }
    static void TearDownTestSuite() {
        delete host_;
        host_ = nullptr;
    }
    static Host& host() { return *host_; }
    static Host* host_;
};
Host* PipelineTest::host_ = nullptr;

TEST_F(PipelineTest, HooksRunAppHooksInConfigOrderThenThePluginsOwn) {
    Response r = host().get("/scoped/ok", kToken);
    ASSERT_EQ(r.status, 200) << dump(r);
    EXPECT_EQ(r.header("X-Order").value_or("<none>"),
              "apphooks:before1,apphooks:before2,apphooks2:before1,apphooks2:before2,scoped:before,"
              "scoped:handler,apphooks:after,apphooks2:after,scoped:after");
    EXPECT_EQ(r.json()["route"], "/scoped/ok");
}

TEST_F(PipelineTest, PluginHooksRunOnlyForTheirOwnRoutes) {
    Response r = host().get("/greet/hello/ada");
    ASSERT_EQ(r.status, 200) << dump(r);
    EXPECT_EQ(r.header("X-Order").value_or("<none>"),
              "apphooks:before1,apphooks:before2,apphooks2:before1,apphooks2:before2,apphooks:after,apphooks2:after");
}

TEST_F(PipelineTest, BeforeHookHttpErrorGoesThroughTheErrorChainAndAfterHooksStillRun) {
    Response r = host().get("/scoped/ok");  // no token: scoped_auth refuses with 401
    EXPECT_TRUE(IsDefaultProblem(r, 401, "/scoped/ok"));
    EXPECT_EQ(r.json()["detail"], "a bearer token is required");
    EXPECT_NE(r.header("X-Order").value_or("").find("scoped:after"), std::string::npos) << dump(r);
}

TEST_F(PipelineTest, AppBeforeHookAnsweringItselfSkipsRoutingAndTheHandler) {
    Response r = host().get("/greet/hello/ada", {{"X-Hook-Action", "apphooks:answer"}});
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "answered by apphooks");
    EXPECT_EQ(r.header("X-Order").value_or("<none>"), "apphooks:before1,apphooks:after,apphooks2:after");
}

TEST_F(PipelineTest, AppBeforeHookThatThrowsIs500WithoutLeaking) {
    Response r = host().get("/greet/hello/ada", {{"X-Hook-Action", "apphooks:crash"}});
    EXPECT_TRUE(IsDefaultProblem(r, 500, "/greet/hello/ada"));
}

TEST_F(PipelineTest, NotFoundUnderAMountGoesToThatPluginsHandler) {
    Response r = host().get("/scoped/nothing-here", kToken);
    ASSERT_EQ(r.status, 404) << dump(r);
    EXPECT_EQ(r.json()["scoped_error"], "not_found");
    // Outside any plugin's own mount: the default problem.
    EXPECT_TRUE(IsDefaultProblem(host().get("/nothing-here"), 404, "/nothing-here"));
}

TEST_F(PipelineTest, MethodNotAllowedKeepsAllow) {
    Response r = host().del("/greet/hello/ada");
    EXPECT_TRUE(IsDefaultProblem(r, 405, "/greet/hello/ada"));
    EXPECT_NE(r.header("Allow").value_or("").find("GET"), std::string::npos) << dump(r);
    Response scoped = host().del("/scoped/ok", kToken);
    ASSERT_EQ(scoped.status, 405) << dump(scoped);
    EXPECT_EQ(scoped.json()["scoped_error"], "method_not_allowed");
    EXPECT_NE(scoped.header("Allow").value_or("").find("GET"), std::string::npos) << dump(scoped);
}

TEST_F(PipelineTest, ExactStatusHandlerWinsOverClassHandler) {
    EXPECT_EQ(host().get("/scoped/boom", kToken).json()["scoped_error"], "internal");
    Response r = host().get("/scoped/unavailable", kToken);
    EXPECT_EQ(r.status, 503);
    EXPECT_EQ(r.json()["scoped_error"], "server");
    EXPECT_EQ(r.header("Retry-After").value_or(""), "7");
}

TEST_F(PipelineTest, FailingErrorHandlersFallBackToTheDefaultProblem) {
    EXPECT_TRUE(IsDefaultProblem(host().get("/scoped/teapot", kToken), 418, "/scoped/teapot"));  // throws
    EXPECT_TRUE(IsDefaultProblem(host().get("/scoped/gone", kToken), 410, "/scoped/gone"));      // HttpError
}

TEST_F(PipelineTest, HeadAnswersTheGetHeadersWithoutABody) {
    Response get = host().get("/greet/hello/ada");
    Response head = host().head("/greet/hello/ada");
    EXPECT_EQ(head.status, 200);
    EXPECT_TRUE(head.body.empty());
    EXPECT_EQ(head.header("Content-Type"), get.header("Content-Type"));
    EXPECT_FALSE(get.body.empty());
}

TEST_F(PipelineTest, RequestIdIsTheClientsWhenSaneElseFresh) {
    EXPECT_EQ(host().get("/greet/hello/ada", {{"X-Request-Id", "abc-123"}}).header("X-Request-Id"), "abc-123");
    const auto fresh = host().get("/greet/hello/ada", {{"X-Request-Id", "no spaces allowed"}}).header("X-Request-Id");
    ASSERT_TRUE(fresh);
    EXPECT_EQ(fresh->size(), 16u);
    EXPECT_NE(host().get("/greet/hello/ada").header("X-Request-Id"), host().get("/greet/hello/ada").header("X-Request-Id"));
}

TEST(PipelineOperatorErrors, OperatorFormsAnswerWhenThePluginHasNoHandler) {
    Host host("logging: {level: warn, access: false}\n"
              "plugins:\n"
              "  apphooks: {mount: /}\n"
              "  scoped: {mount: /scoped}\n"
              "errors:\n"
              "  500: {json: {error: internal error}}\n"
              "  503: {text: \"down for maintenance\"}\n"
              "  404: {handler: scoped.scoped_app_not_found}\n"
              "  502: {handler: scoped.scoped_error_throws}\n",
              plugin_dirs());
    Response json = host.get("/apphooks/status/500");
    EXPECT_EQ(json.status, 500);
    EXPECT_EQ(json.json(), (nlohmann::json{{"error", "internal error"}}));
    Response text = host.get("/apphooks/status/503");
    EXPECT_EQ(text.body, "down for maintenance");
    EXPECT_EQ(text.header("Content-Type").value_or("").rfind("text/plain", 0), 0u);
    EXPECT_EQ(host.get("/no/such/page").header("X-App-Error"), "scoped.scoped_app_not_found");
    EXPECT_TRUE(IsDefaultProblem(host.get("/apphooks/status/502"), 502, "/apphooks/status/502"));
}

TEST(PipelineLoad, BadConfigurationIsALoadErrorWithItsPosition) {
    try {
        Host host("plugins:\n  hello: {mount: 42x, colour: blue}\n", plugin_dirs());
        FAIL() << "loaded";
    } catch (const LoadError& e) {
        EXPECT_NE(std::string(e.what()).find("test-config.yaml:2:"), std::string::npos) << e.what();
    }
    EXPECT_THROW(Host("plugins:\n  no_such_plugin: {}\n", plugin_dirs()), LoadError);
}

TEST(PipelineData, NotesResourceOnAPrivateInMemoryDatabase) {
    Host host("logging: {level: warn, access: false}\nplugins:\n  notes: {mount: /api/notes}\n", plugin_dirs());
    Response created = host.post_json("/api/notes", {{"title", "first"}, {"body", "in memory"}});
    ASSERT_EQ(created.status, 201) << dump(created);
    const auto id = created.json()["id"].get<long long>();
    Response read = host.get("/api/notes/" + std::to_string(id));
    ASSERT_EQ(read.status, 200) << dump(read);
    EXPECT_EQ(read.json()["title"], "first");
    EXPECT_EQ(host.post_json("/api/notes", {{"body", "no title"}}).status, 422);
    // Another host, another database: nothing shared.
    Host other("logging: {level: warn, access: false}\nplugins:\n  notes: {mount: /api/notes}\n", plugin_dirs());
    EXPECT_EQ(other.get("/api/notes/" + std::to_string(id)).status, 404);
}

}  // namespace

// ---- ABI 1.2: instances and their state, failure headers -------------------

namespace {

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream out;
    out << in.rdbuf();
    return out.str();
}

TEST(PluginInstances, TwoMountsOfOneLibraryKeepTheirOwnSettingsStateAndHooks) {
    const std::string freed = ::testing::TempDir() + "stateful-freed-" + std::to_string(::getpid()) + ".txt";
    std::remove(freed.c_str());
    {
        Host host("logging: {level: warn, access: false}\n"
                  "plugins:\n"
                  "  stateful: {mount: /a, settings: {label: first, freed_file: \"" + freed + "\"}}\n"
                  "  second: {plugin: stateful, mount: /b, settings: {label: other, freed_file: \"" + freed + "\"}}\n",
                  plugin_dirs());
        for (int i = 0; i < 3; ++i) host.get("/a/whoami");
        Response a = host.get("/a/whoami");
        Response b = host.get("/b/whoami");
        ASSERT_EQ(a.status, 200) << dump(a);
        ASSERT_EQ(b.status, 200) << dump(b);
        EXPECT_EQ(a.json(), (nlohmann::json{{"instance", "stateful"}, {"label", "first"}, {"hits", 4}}));
        EXPECT_EQ(b.json(), (nlohmann::json{{"instance", "second"}, {"label", "other"}, {"hits", 1}}));
        // Plugin-scope hooks run per instance, with the instance's own state.
        EXPECT_EQ(a.header("X-Stateful-Label"), "first");
        EXPECT_EQ(b.header("X-Stateful-Label"), "other");
        EXPECT_EQ(read_file(freed), "") << "no state is freed while the host runs";
    }
    // Shutdown freed each instance's state exactly once, with its own count.
    EXPECT_EQ(read_file(freed), "stateful first 4\nsecond other 1\n");
    std::remove(freed.c_str());
}

TEST(PluginInstances, AnInstanceWhoseStateRefusesToBuildRefusesTheLoad) {
    try {
        Host host("plugins:\n  stateful: {mount: /a, settings: {label: refuse}}\n", plugin_dirs());
        FAIL() << "loaded";
    } catch (const LoadError& e) {
        EXPECT_NE(std::string(e.what()).find("init failed"), std::string::npos) << e.what();
    }
}

TEST(PluginInstances, AnUnknownLibraryNameIsRefusedNamingTheInstance) {
    try {
        Host host("plugins:\n  extra: {plugin: no_such_lib, mount: /x}\n", plugin_dirs());
        FAIL() << "loaded";
    } catch (const LoadError& e) {
        EXPECT_NE(std::string(e.what()).find("libno_such_lib.so not found"), std::string::npos) << e.what();
    }
}

TEST(PluginInstances, InstancesOfOnePluginShareItsTables) {
    Host host("logging: {level: warn, access: false}\n"
              "plugins:\n"
              "  notes: {mount: /api/notes}\n"
              "  admin_notes: {plugin: notes, mount: /admin/notes}\n",
              plugin_dirs());
    Response created = host.post_json("/api/notes", {{"title", "shared"}});
    ASSERT_EQ(created.status, 201) << dump(created);
    const auto id = std::to_string(created.json()["id"].get<long long>());
    Response seen = host.get("/admin/notes/" + id);
    ASSERT_EQ(seen.status, 200) << dump(seen);
    EXPECT_EQ(seen.json()["title"], "shared");
}

TEST(FailureHeaders, HttpErrorHeadersGoOutWithTheProblem) {
    Host host("logging: {level: warn, access: false}\nplugins:\n  stateful: {mount: /}\n", plugin_dirs());
    Response r = host.get("/secret");
    EXPECT_TRUE(IsDefaultProblem(r, 401, "/secret"));
    EXPECT_EQ(r.header("WWW-Authenticate"), "Bearer realm=\"stateful\"") << dump(r);
    EXPECT_EQ(r.json()["detail"], "a bearer token is required");
    // Only with that failure: the next answer does not carry it.
    EXPECT_FALSE(host.get("/whoami").header("WWW-Authenticate"));
}

// ---- golden plugins: frozen headers, hand-written C ------------------------

TEST(GoldenPlugins, Abi10AndAbi11PluginsStillLoadAndAnswer) {
    Host host("logging: {level: warn, access: false}\n"
              "plugins:\n"
              "  golden: {mount: /, settings: {salutation: Bonjour}}\n"
              "  golden11: {mount: /}\n",
              plugin_dirs());
    Response g10 = host.get("/golden/Ada");
    ASSERT_EQ(g10.status, 200) << dump(g10);
    EXPECT_EQ(g10.json()["salutation"], "Bonjour");
    EXPECT_EQ(g10.json()["abi"], "1.0");

    Response sum = host.get("/golden11/sum/40/2", {{"X-Request-Id", "golden-11"}});
    ASSERT_EQ(sum.status, 200) << dump(sum);
    EXPECT_EQ(sum.json(), (nlohmann::json{{"sum", 42}, {"route", "/golden11/sum/{a:int}/{b:int}"}, {"id", "golden-11"}}));
    EXPECT_EQ(sum.header("X-Golden11-After"), "200");
    Response fail = host.get("/golden11/fail");
    EXPECT_EQ(fail.status, 409);
    EXPECT_EQ(fail.json(), (nlohmann::json{{"golden11_error", 409}}));
    EXPECT_EQ(fail.header("X-Golden11-After"), "409");
}

TEST(GoldenPlugins, Abi12PluginKeepsItsInstanceStateAndFailureHeaders) {
    Host host("logging: {level: warn, access: false}\n"
              "plugins:\n"
              "  golden12: {mount: /}\n"
              "  second12: {plugin: golden12, mount: /two}\n",
              plugin_dirs());
    for (int i = 1; i <= 3; ++i) {
        Response r = host.get("/golden12/whoami");
        ASSERT_EQ(r.status, 200) << dump(r);
        EXPECT_EQ(r.json(), (nlohmann::json{{"instance", "golden12"}, {"hits", i}}));
    }
    Response other = host.get("/two/golden12/whoami");
    ASSERT_EQ(other.status, 200) << dump(other);
    EXPECT_EQ(other.json(), (nlohmann::json{{"instance", "second12"}, {"hits", 1}})) << "each instance has its own state";

    Response locked = host.get("/two/golden12/locked");
    EXPECT_TRUE(IsDefaultProblem(locked, 401, "/two/golden12/locked"));
    EXPECT_EQ(locked.json()["detail"], "golden12 is locked");
    EXPECT_EQ(locked.header("WWW-Authenticate"), "Golden12 realm=\"second12\"") << dump(locked);
}

// ---- ABI 1.3: the request deadline ------------------------------------------

std::int64_t unix_ms_now() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

Options deadline_in(std::chrono::milliseconds ms) {
    Options options = plugin_dirs();
    options.deadline = ms;
    return options;
}

constexpr const char* kDeadlinePlugin = "logging: {level: warn, access: false}\nplugins:\n  deadline: {mount: /}\n";

TEST(Deadline, NoneUnlessTheTestClientSetsOne) {
    Host host(kDeadlinePlugin, plugin_dirs());
    Response r = host.get("/deadline");
    ASSERT_EQ(r.status, 200) << dump(r);
    EXPECT_TRUE(r.json()["deadline_ms"].is_null()) << r.body;
    EXPECT_TRUE(r.json()["left_ms"].is_null()) << r.body;
    EXPECT_EQ(r.header("X-Deadline-Hook"), "none");
    EXPECT_EQ(host.get("/deadline/guarded?need_ms=1000000000").status, 200) << "no deadline, no hurry";
}

TEST(Deadline, TestClientOptionGivesEachRequestOne) {
    Host host(kDeadlinePlugin, deadline_in(std::chrono::seconds(5)));
    for (int i = 0; i < 2; ++i) {
        const auto before = unix_ms_now();
        Response r = host.get("/deadline");
        const auto after = unix_ms_now();
        ASSERT_EQ(r.status, 200) << dump(r);
        const auto j = r.json();
        ASSERT_TRUE(j["deadline_ms"].is_number_integer()) << r.body;
        const auto due = j["deadline_ms"].get<std::int64_t>();
        EXPECT_GE(due, before + 5000) << "counted from the request's start";
        EXPECT_LE(due, after + 5000);
        EXPECT_GT(j["left_ms"].get<std::int64_t>(), 4000) << r.body;
        EXPECT_LE(j["left_ms"].get<std::int64_t>(), 5000) << r.body;
        EXPECT_EQ(r.header("X-Deadline-Hook"), std::to_string(due)) << "hooks see the handler's deadline";
    }
    EXPECT_EQ(host.get("/deadline/guarded?need_ms=100").status, 200);
    Response hurried = host.get("/deadline/guarded?need_ms=60000");
    EXPECT_TRUE(IsDefaultProblem(hurried, 503, "/deadline/guarded"));
    EXPECT_EQ(hurried.header("Retry-After"), "1") << dump(hurried);
}

TEST(Deadline, TestClientDeadlineMayAlreadyHavePassed) {
    Host host(kDeadlinePlugin, deadline_in(std::chrono::milliseconds(-1000)));
    Response r = host.get("/deadline");
    ASSERT_EQ(r.status, 200) << dump(r);
    EXPECT_LE(r.json()["left_ms"].get<std::int64_t>(), -1000) << r.body;
    EXPECT_TRUE(IsDefaultProblem(host.get("/deadline/guarded?need_ms=0"), 503, "/deadline/guarded"));
}

}  // namespace
