// Blueprints: plugin-scoped and application-scoped hooks, error handlers
// (plugin, operator, default), request ids and the access log, through the
// scoped, apphooks and apphooks2 test plugins (tests/plugins/sdk).
#include <chrono>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "blueprint_support.hpp"

namespace e2e {
namespace {

const Headers kToken{{"Authorization", "Bearer token-123"}};

Headers with_id(const std::string& rid, Headers h = {}) {
    h.emplace_back("X-Request-Id", rid);
    return h;
}

// The default RFC 9457 answer, and nothing of what a plugin tried to say.
::testing::AssertionResult IsDefaultProblem(const Response& r, int status, std::string_view instance) {
    auto p = IsProblem(r, status, instance);
    if (!p) return p;
    for (std::string_view leak : {"SECRET", "partial response"})
        if (r.body.find(leak) != std::string::npos)
            return ::testing::AssertionFailure() << "the body leaks \"" << leak << "\":\n" << r.dump();
    return ::testing::AssertionSuccess();
}

bool ends_with(const std::string& s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// ===========================================================================
// Hooks and plugin error handlers: apphooks (/), apphooks2, scoped (/scoped).
// ===========================================================================

class BlueprintHooksTest : public SharedHostTest<BlueprintHooksTest> {
public:
    static void SetUpTestSuite() {
        start("  apphooks: {mount: /}\n"
              "  apphooks2: {mount: /apphooks2}\n"
              "  scoped: {mount: /scoped}\n");
    }
};

// ---- plugin error handlers --------------------------------------------------

TEST_F(BlueprintHooksTest, PluginNotFoundHandlerAnswersUnderItsMountOnly) {
    Response r = get(port(), "/scoped/no/such/thing");
    ASSERT_EQ(r.status, 404) << r.dump();
    EXPECT_EQ(r.header("Content-Type").value_or(""), "application/json") << r.dump();
    auto j = r.json();
    EXPECT_EQ(j["scoped_error"], "not_found") << r.dump();
    EXPECT_EQ(j["status"], 404) << "req.error() in the error handler gives the failed status";
    EXPECT_EQ(j["path"], "/scoped/no/such/thing");
    EXPECT_TRUE(r.header("X-Request-Id")) << r.dump();

    // Outside the mount: the default problem+json.
    EXPECT_TRUE(IsDefaultProblem(get(port(), "/no/such/thing"), 404, "/no/such/thing"));
    // A path that merely starts with the mount's characters is not under it.
    EXPECT_TRUE(IsDefaultProblem(get(port(), "/scopedx/a"), 404, "/scopedx/a"));
}

TEST_F(BlueprintHooksTest, PluginMethodNotAllowedHandlerKeepsAllow) {
    Response r = http(port(), "DELETE", "/scoped/items", kToken);
    ASSERT_EQ(r.status, 405) << r.dump();
    EXPECT_EQ(r.json()["scoped_error"], "method_not_allowed") << r.dump();
    EXPECT_EQ(r.json()["status"], 405);
    EXPECT_EQ(r.header("Allow").value_or("<none>"), "POST") << r.dump();

    // Elsewhere the default answer, with its Allow too.
    Response d = http(port(), "POST", "/apphooks/echo");
    EXPECT_TRUE(IsDefaultProblem(d, 405, "/apphooks/echo"));
    EXPECT_EQ(d.header("Allow").value_or("<none>"), "GET, HEAD") << d.dump();
}

TEST_F(BlueprintHooksTest, ExactStatusHandlerWinsOverClassHandler) {
    Response boom = get(port(), "/scoped/boom", kToken);  // throws std::runtime_error: 500
    ASSERT_EQ(boom.status, 500) << boom.dump();
    EXPECT_EQ(boom.json()["scoped_error"], "internal") << boom.dump();
    EXPECT_TRUE(NotContains(boom.body, "SECRET")) << "the exception text is not a client-safe detail";
    EXPECT_TRUE(NotContains(boom.body, "partial response"));

    Response unavailable = get(port(), "/scoped/unavailable", kToken);  // HttpError(503): the 5xx handler
    ASSERT_EQ(unavailable.status, 503) << unavailable.dump();
    auto j = unavailable.json();
    EXPECT_EQ(j["scoped_error"], "server");
    EXPECT_EQ(j["status"], 503);
    EXPECT_EQ(j["detail"], "scoped maintenance") << "req.error() carries the HttpError's detail";
    EXPECT_EQ(unavailable.header("Retry-After").value_or("<none>"), "7") << "headers set by the error handler";
}

TEST_F(BlueprintHooksTest, ErrorHandlerThatThrowsFallsBackToDefaultProblem) {
    // scoped_error_throws sets a body, then throws std::runtime_error.
    Response r = get(port(), "/scoped/teapot", kToken);
    EXPECT_TRUE(IsDefaultProblem(r, 418, "/scoped/teapot"));
    EXPECT_EQ(r.json()["detail"], "short and stout") << "the original failure's detail";
    // scoped_error_fails throws HttpError(500, ...): still the original status.
    Response g = get(port(), "/scoped/gone", kToken);
    EXPECT_TRUE(IsDefaultProblem(g, 410, "/scoped/gone"));
    EXPECT_EQ(get(port(), "/scoped/ok", kToken).status, 200) << "the host keeps serving";
}

TEST_F(BlueprintHooksTest, PluginErrorWithoutHandlerIsDefaultProblem) {
    Response r = get(port(), "/scoped/conflict", kToken);  // 409: scoped has no 409/4xx handler
    EXPECT_TRUE(IsDefaultProblem(r, 409, "/scoped/conflict"));
    EXPECT_EQ(r.json()["detail"], "scoped conflict");
}

// ---- plugin-scope before / after hooks -----------------------------------------

TEST_F(BlueprintHooksTest, BeforeHookRejectsWithoutToken) {
    EXPECT_TRUE(IsDefaultProblem(get(port(), "/scoped/ok"), 401, "/scoped/ok"));
    Response wrong = get(port(), "/scoped/ok", {{"Authorization", "Bearer nope"}});
    EXPECT_TRUE(IsDefaultProblem(wrong, 401, "/scoped/ok"));
    EXPECT_EQ(wrong.json()["detail"], "a bearer token is required");

    Response ok = get(port(), "/scoped/ok", kToken);
    ASSERT_EQ(ok.status, 200) << ok.dump();
    EXPECT_EQ(ok.json()["ok"], true);
}

TEST_F(BlueprintHooksTest, BeforeHookAnsweringItselfSkipsTheHandler) {
    const std::string rid = unique_id("self");
    Response r = get(port(), "/scoped/self-answer", with_id(rid));  // no token needed: the hook answers first
    ASSERT_EQ(r.status, 202) << r.dump();
    EXPECT_EQ(r.json()["answered_by"], "before hook") << r.dump();
    EXPECT_EQ(r.header("X-Answered-By").value_or("<none>"), "scoped_auth");
    EXPECT_EQ(r.header("X-Scoped-After").value_or("<none>"), "202") << "after hooks still run:\n" << r.dump();
    ASSERT_TRUE(wait_for_line(host(), {"order scoped:teardown /scoped/self-answer", rid}))
        << host().err();
    EXPECT_TRUE(lines_with(host().err(), {"scoped_never ran", rid}).empty()) << host().err();
}

TEST_F(BlueprintHooksTest, PluginBeforeHookThatThrowsIs500ThroughTheErrorChain) {
    Response r = get(port(), "/scoped/hook-crash", kToken);
    ASSERT_EQ(r.status, 500) << r.dump();
    EXPECT_EQ(r.json()["scoped_error"], "internal") << "the routed plugin's 500 handler answers:\n" << r.dump();
    EXPECT_TRUE(NotContains(r.body, "SECRET"));
}

TEST_F(BlueprintHooksTest, AfterHookRunsOnSuccessAndOnErrors) {
    Response ok = get(port(), "/scoped/ok", kToken);
    ASSERT_EQ(ok.status, 200) << ok.dump();
    EXPECT_EQ(ok.header("X-Scoped-After").value_or("<none>"), "200") << ok.dump();

    Response conflict = get(port(), "/scoped/conflict", kToken);  // handler error
    EXPECT_EQ(conflict.status, 409) << conflict.dump();
    EXPECT_EQ(conflict.header("X-Scoped-After").value_or("<none>"), "409") << conflict.dump();

    Response unauthorized = get(port(), "/scoped/ok");  // before-hook error
    EXPECT_EQ(unauthorized.status, 401) << unauthorized.dump();
    EXPECT_EQ(unauthorized.header("X-Scoped-After").value_or("<none>"), "401") << unauthorized.dump();

    Response boom = get(port(), "/scoped/boom", kToken);  // answered by a plugin error handler
    EXPECT_EQ(boom.status, 500) << boom.dump();
    EXPECT_EQ(boom.header("X-Scoped-After").value_or("<none>"), "500") << boom.dump();
}

TEST_F(BlueprintHooksTest, AfterHookCanChangeTheStatus) {
    Response r = get(port(), "/scoped/ok?after_status=203", kToken);
    EXPECT_EQ(r.status, 203) << r.dump();
    EXPECT_EQ(r.header("X-Scoped-After").value_or("<none>"), "200") << "the status as the handler left it";
    EXPECT_EQ(r.json()["ok"], true) << "the body is kept";
}

TEST_F(BlueprintHooksTest, PluginHooksRunOnlyForTheirOwnRoutes) {
    Response other = get(port(), "/apphooks/echo");
    ASSERT_EQ(other.status, 200) << other.dump();
    EXPECT_FALSE(other.header("X-Scoped-After")) << other.dump();
    EXPECT_TRUE(NotContains(other.header("X-Order").value_or(""), "scoped:"));

    // No route matched under /scoped: there is no routed plugin, so no plugin hooks
    // (even though scoped's error handler answers).
    Response unrouted = get(port(), "/scoped/nothing-here");
    EXPECT_EQ(unrouted.status, 404) << unrouted.dump();
    EXPECT_FALSE(unrouted.header("X-Scoped-After")) << unrouted.dump();

    // An application hook answered before routing: no routed plugin either.
    Response answered = get(port(), "/scoped/ok", {{"X-Hook-Action", "apphooks:answer"}});
    EXPECT_EQ(answered.status, 200) << answered.dump();
    EXPECT_EQ(answered.header("X-Order").value_or("<none>"), "apphooks:before1,apphooks:after,apphooks2:after")
        << answered.dump();
}

// ---- application-scope hooks and ordering ----------------------------------------

TEST_F(BlueprintHooksTest, HookOrderAppHooksInConfigOrderThenThePluginsOwn) {
    Response r = get(port(), "/scoped/ok", kToken);
    ASSERT_EQ(r.status, 200) << r.dump();
    EXPECT_EQ(r.header("X-Order").value_or("<none>"),
              "apphooks:before1,apphooks:before2,apphooks2:before1,apphooks2:before2,scoped:before,"
              "scoped:handler,apphooks:after,apphooks2:after,scoped:after")
        << r.dump();
}

TEST_F(BlueprintHooksTest, HookOrderInTheLogIncludesTeardown) {
    const std::string rid = unique_id("order");
    Response r = get(port(), "/scoped/ok", with_id(rid, kToken));
    ASSERT_EQ(r.status, 200) << r.dump();
    ASSERT_TRUE(wait_for_line(host(), {"order scoped:teardown /scoped/ok", rid})) << host().err();
    EXPECT_EQ(joined(order_markers(host().err(), rid)),
              "apphooks:before1,apphooks:before2,apphooks2:before1,apphooks2:before2,scoped:before,"
              "scoped:handler,apphooks:after,apphooks2:after,scoped:after,"
              "apphooks:teardown,apphooks2:teardown,scoped:teardown")
        << host().err();
}

TEST_F(BlueprintHooksTest, AppHooksRunForUnmatchedPaths) {
    const std::string rid = unique_id("unmatched");
    Response r = get(port(), "/nowhere/at/all", with_id(rid));
    EXPECT_TRUE(IsDefaultProblem(r, 404, "/nowhere/at/all"));
    EXPECT_TRUE(ends_with(r.header("X-Order").value_or(""), "apphooks:after,apphooks2:after")) << r.dump();
    ASSERT_TRUE(wait_for_line(host(), {"order apphooks2:teardown /nowhere/at/all", rid})) << host().err();
    EXPECT_EQ(joined(order_markers(host().err(), rid)),
              "apphooks:before1,apphooks:before2,apphooks2:before1,apphooks2:before2,"
              "apphooks:after,apphooks2:after,apphooks:teardown,apphooks2:teardown")
        << host().err();
}

TEST_F(BlueprintHooksTest, AppBeforeHookAnsweringItselfSkipsTheRest) {
    Response r = get(port(), "/apphooks/echo", {{"X-Hook-Action", "apphooks:answer"}});
    ASSERT_EQ(r.status, 200) << r.dump();
    EXPECT_EQ(r.body, "answered by apphooks");
    EXPECT_EQ(r.header("X-Order").value_or("<none>"), "apphooks:before1,apphooks:after,apphooks2:after")
        << "later before hooks and the handler are skipped, after hooks run:\n" << r.dump();
}

TEST_F(BlueprintHooksTest, AppBeforeHookHttpErrorGoesToTheErrorChain) {
    const std::string rid = unique_id("deny");
    Response r = get(port(), "/apphooks/echo", with_id(rid, {{"X-Hook-Action", "apphooks:deny"}}));
    EXPECT_TRUE(IsDefaultProblem(r, 403, "/apphooks/echo"));
    EXPECT_EQ(r.json()["detail"], "denied by apphooks");
    EXPECT_TRUE(ends_with(r.header("X-Order").value_or(""), "apphooks:after,apphooks2:after")) << r.dump();
    ASSERT_TRUE(wait_for_line(host(), {"order apphooks2:teardown /apphooks/echo", rid})) << host().err();
    auto markers = joined(order_markers(host().err(), rid));
    EXPECT_TRUE(NotContains(markers, "before2")) << "remaining before hooks are skipped";
    EXPECT_TRUE(NotContains(markers, "handler"));
}

TEST_F(BlueprintHooksTest, AppBeforeHookThatThrowsIs500) {
    Response r = get(port(), "/apphooks/echo", {{"X-Hook-Action", "apphooks:crash"}});
    EXPECT_TRUE(IsDefaultProblem(r, 500, "/apphooks/echo"));
}

TEST_F(BlueprintHooksTest, TeardownRunsWhenTheHandlerFailed) {
    const std::string rid = unique_id("teardown");
    Response r = get(port(), "/scoped/boom", with_id(rid, kToken));
    EXPECT_EQ(r.status, 500) << r.dump();
    ASSERT_TRUE(host().wait_for_log("scoped teardown ran for /scoped/boom")) << host().err();
    EXPECT_FALSE(lines_with(host().err(), {"scoped teardown ran for /scoped/boom", rid}).empty())
        << "the teardown line carries the request id:\n" << host().err();

    const std::string rid2 = unique_id("teardown");
    Response denied = get(port(), "/scoped/ok", with_id(rid2));  // rejected by the before hook
    EXPECT_EQ(denied.status, 401) << denied.dump();
    EXPECT_TRUE(wait_for_line(host(), {"order scoped:teardown /scoped/ok", rid2})) << host().err();
}

// ===========================================================================
// Operator error handlers: json, text and handler forms; plugin > operator > default.
// ===========================================================================

class OperatorErrorsTest : public SharedHostTest<OperatorErrorsTest> {
public:
    static void SetUpTestSuite() {
        start("  apphooks: {mount: /}\n"
              "  scoped: {mount: /scoped}\n",
              {.top_level_extra = "errors:\n"
                                  "  500: {json: {error: internal error}}\n"
                                  "  503: {text: \"down for maintenance\"}\n"
                                  "  404: {handler: scoped.scoped_app_not_found}\n"
                                  "  502: {handler: scoped.scoped_error_throws}\n"
                                  "  4xx: {json: {error: client error, from: operator}}\n"});
    }
};

TEST_F(OperatorErrorsTest, JsonForm) {
    Response r = get(port(), "/apphooks/status/500");
    ASSERT_EQ(r.status, 500) << r.dump();
    EXPECT_EQ(r.header("Content-Type").value_or("").rfind("application/json", 0), 0u) << r.dump();
    EXPECT_EQ(r.json(), (nlohmann::json{{"error", "internal error"}}));
    EXPECT_TRUE(r.header("X-Request-Id"));
    EXPECT_TRUE(ends_with(r.header("X-Order").value_or(""), "apphooks:after")) << "after hooks run:\n" << r.dump();
}

TEST_F(OperatorErrorsTest, TextForm) {
    Response r = get(port(), "/apphooks/status/503");
    ASSERT_EQ(r.status, 503) << r.dump();
    EXPECT_EQ(r.header("Content-Type").value_or("").rfind("text/plain", 0), 0u) << r.dump();
    EXPECT_EQ(r.body, "down for maintenance");
}

TEST_F(OperatorErrorsTest, HandlerForm) {
    Response r = get(port(), "/no/such/page");
    ASSERT_EQ(r.status, 404) << r.dump();
    EXPECT_EQ(r.header("X-App-Error").value_or("<none>"), "scoped.scoped_app_not_found") << r.dump();
    EXPECT_EQ(r.json(), (nlohmann::json{{"app_error", "not_found"}, {"status", 404}, {"path", "/no/such/page"}}));
}

TEST_F(OperatorErrorsTest, ClassForm) {
    Response r = get(port(), "/apphooks/status/409");
    ASSERT_EQ(r.status, 409) << r.dump();
    EXPECT_EQ(r.json(), (nlohmann::json{{"error", "client error"}, {"from", "operator"}}));

    Response m = http(port(), "POST", "/apphooks/echo");  // 405 answered by the operator keeps Allow
    ASSERT_EQ(m.status, 405) << m.dump();
    EXPECT_EQ(m.json()["from"], "operator") << m.dump();
    EXPECT_EQ(m.header("Allow").value_or("<none>"), "GET, HEAD") << m.dump();
}

TEST_F(OperatorErrorsTest, UnconfiguredStatusIsDefaultProblem) {
    EXPECT_TRUE(IsDefaultProblem(get(port(), "/apphooks/status/501"), 501, "/apphooks/status/501"));
}

TEST_F(OperatorErrorsTest, OperatorHandlerThatThrowsFallsBackToDefault) {
    Response r = get(port(), "/apphooks/status/502");
    EXPECT_TRUE(IsDefaultProblem(r, 502, "/apphooks/status/502"));
    EXPECT_EQ(r.json()["detail"], "status requested by the test") << "the original failure's detail";
}

TEST_F(OperatorErrorsTest, PluginHandlerWinsOverOperator) {
    Response nf = get(port(), "/scoped/missing");
    ASSERT_EQ(nf.status, 404) << nf.dump();
    EXPECT_EQ(nf.json()["scoped_error"], "not_found") << nf.dump();
    EXPECT_FALSE(nf.header("X-App-Error"));

    Response boom = get(port(), "/scoped/boom", kToken);
    ASSERT_EQ(boom.status, 500) << boom.dump();
    EXPECT_EQ(boom.json()["scoped_error"], "internal") << boom.dump();

    // scoped has no 409/4xx handler: the operator's answers under its mount too.
    Response conflict = get(port(), "/scoped/conflict", kToken);
    ASSERT_EQ(conflict.status, 409) << conflict.dump();
    EXPECT_EQ(conflict.json(), (nlohmann::json{{"error", "client error"}, {"from", "operator"}}));
}

TEST_F(OperatorErrorsTest, FailingPluginErrorHandlerFallsBackToDefaultNotOperator) {
    Response r = get(port(), "/scoped/teapot", kToken);
    EXPECT_TRUE(IsDefaultProblem(r, 418, "/scoped/teapot"));
}

// An operator handler must name an enabled plugin that exports the symbol.
RunResult check_errors(std::string_view plugins_block, std::string_view errors_block) {
    return run_with_config("check", plugins_block, {.top_level_extra = "errors:\n" + std::string(errors_block)});
}

TEST(OperatorErrorsConfig, HandlerSymbolMustExist) {
    RunResult r = check_errors("  scoped: {mount: /scoped}\n", "  404: {handler: scoped.no_such_symbol}\n");
    EXPECT_TRUE(r.status.exited && r.status.code == 1) << r.describe();
    EXPECT_TRUE(Contains(r.err, "no_such_symbol"));
}

TEST(OperatorErrorsConfig, HandlerPluginMustBeEnabled) {
    RunResult absent = check_errors("  scoped: {mount: /scoped}\n", "  404: {handler: apphooks.apphooks_echo}\n");
    EXPECT_TRUE(absent.status.exited && absent.status.code == 1) << absent.describe();
    EXPECT_TRUE(Contains(absent.err, "apphooks"));
    RunResult disabled = check_errors("  scoped: {mount: /scoped}\n  apphooks: {enabled: false}\n",
                                      "  404: {handler: apphooks.apphooks_echo}\n");
    EXPECT_TRUE(disabled.status.exited && disabled.status.code == 1) << disabled.describe();
    EXPECT_TRUE(Contains(disabled.err, "apphooks"));
    RunResult ok = check_errors("  scoped: {mount: /scoped}\n", "  404: {handler: scoped.scoped_app_not_found}\n");
    EXPECT_TRUE(ok.status.exited && ok.status.code == 0) << ok.describe();
}

// ===========================================================================
// Request ids.
// ===========================================================================

class RequestIdTest : public SharedHostTest<RequestIdTest> {
public:
    static void SetUpTestSuite() { start("  apphooks: {mount: /}\n"); }
};

TEST_F(RequestIdTest, SaneIdIsEchoedAndSeenByThePlugin) {
    const std::string rid = "Abc-123.def:ghi_Z";
    Response r = get(port(), "/apphooks/id", with_id(rid));
    ASSERT_EQ(r.status, 200) << r.dump();
    EXPECT_EQ(r.header("X-Request-Id").value_or("<none>"), rid);
    EXPECT_EQ(r.header_count("X-Request-Id"), 1u) << r.dump();
    EXPECT_EQ(r.json()["id"], rid);
    EXPECT_EQ(r.json()["route"], "/apphooks/id");
}

TEST_F(RequestIdTest, IdOf128CharactersIsAccepted) {
    const std::string rid(128, 'a');
    EXPECT_EQ(get(port(), "/apphooks/id", with_id(rid)).header("X-Request-Id").value_or("<none>"), rid);
}

TEST_F(RequestIdTest, InsaneIdsAreReplaced) {
    for (const std::string& bad : {std::string(129, 'a'), std::string("has space"), std::string("a/b"),
                                   std::string("semi;colon"), std::string("quote\"d"), std::string("caf\xC3\xA9")}) {
        Response r = get(port(), "/apphooks/id", with_id(bad));
        ASSERT_EQ(r.status, 200) << bad << "\n" << r.dump();
        auto id = r.header("X-Request-Id").value_or("");
        EXPECT_NE(id, bad) << r.dump();
        EXPECT_TRUE(sane_request_id(id)) << "generated id '" << id << "' for '" << bad << "'";
        EXPECT_EQ(r.json()["id"], id) << "the plugin sees the id that is sent back";
    }
}

TEST_F(RequestIdTest, GeneratedWhenAbsentAndUnique) {
    Response a = get(port(), "/apphooks/id");
    Response b = get(port(), "/apphooks/id");
    auto ida = a.header("X-Request-Id").value_or(""), idb = b.header("X-Request-Id").value_or("");
    EXPECT_TRUE(sane_request_id(ida)) << a.dump();
    EXPECT_TRUE(sane_request_id(idb)) << b.dump();
    EXPECT_NE(ida, idb);
    EXPECT_EQ(a.json()["id"], ida);
}

TEST_F(RequestIdTest, ErrorResponsesCarryTheId) {
    const std::string rid = unique_id("err");
    Response nf = get(port(), "/not/here", with_id(rid));
    EXPECT_TRUE(IsProblem(nf, 404, "/not/here"));
    EXPECT_EQ(nf.header("X-Request-Id").value_or("<none>"), rid);
    Response fail = get(port(), "/apphooks/status/500");
    EXPECT_TRUE(IsProblem(fail, 500, "/apphooks/status/500"));
    EXPECT_TRUE(sane_request_id(fail.header("X-Request-Id").value_or(""))) << fail.dump();
}

TEST_F(RequestIdTest, PluginLogLinesCarryTheId) {
    const std::string rid = unique_id("log");
    ASSERT_EQ(get(port(), "/apphooks/id", with_id(rid)).status, 200);
    ASSERT_TRUE(host().wait_for_log("apphooks id handler ran")) << host().err();
    // The message does not name the id: the host's tag must, with the plugin's name.
    auto lines = lines_with(host().err(), {"apphooks id handler ran", rid});
    ASSERT_EQ(lines.size(), 1u) << host().err();
    EXPECT_TRUE(Contains(lines[0], "apphooks"));
}

// ===========================================================================
// Access log.
// ===========================================================================

// The access line (text or json) of the request with id `rid`.
std::string access_line(const Host& h, const std::string& rid, std::string_view marker) {
    const std::string needle = std::string(marker) + rid;
    if (!h.wait_for_log(needle)) return {};
    auto lines = lines_with(h.err(), {needle});
    return lines.empty() ? std::string() : lines.front();
}

class AccessLogTextTest : public SharedHostTest<AccessLogTextTest> {
public:
    static void SetUpTestSuite() { start("  apphooks: {mount: /}\n"); }  // access on by default, text format
};

struct TextAccess {
    std::string remote, method, path;
    int status = 0;
    std::size_t bytes = 0;
    std::string route, plugin, id;
};

std::optional<TextAccess> parse_text_access(const std::string& line) {
    static const std::regex re(
        R"re(access (\S+) "([A-Z]+) (\S+)" (\d{3}) (\d+) (\d+(?:\.\d+)?)ms route=(\S+) plugin=(\S+) id=(\S+))re");
    std::smatch m;
    if (!std::regex_search(line, m, re)) return std::nullopt;
    TextAccess a;
    a.remote = m[1];
    a.method = m[2];
    a.path = m[3];
    a.status = std::stoi(m[4]);
    a.bytes = std::stoul(m[5]);
    a.route = m[7];
    a.plugin = m[8];
    a.id = m[9];
    return a;
}

TEST_F(AccessLogTextTest, RoutedRequestLine) {
    const std::string rid = unique_id("acc");
    Response r = get(port(), "/apphooks/status/418", with_id(rid));
    ASSERT_EQ(r.status, 418) << r.dump();
    const std::string line = access_line(host(), rid, "id=");
    ASSERT_FALSE(line.empty()) << host().err();
    auto a = parse_text_access(line);
    ASSERT_TRUE(a) << "not the documented text format:\n" << line;
    EXPECT_TRUE(Contains(a->remote, "127.0.0.1"));
    EXPECT_EQ(a->method, "GET");
    EXPECT_EQ(a->path, "/apphooks/status/418");
    EXPECT_EQ(a->status, 418);
    EXPECT_EQ(a->bytes, r.body.size());
    EXPECT_EQ(a->route, "/apphooks/status/{code:int}");
    EXPECT_EQ(a->plugin, "apphooks");
    EXPECT_EQ(a->id, rid);
}

TEST_F(AccessLogTextTest, UnmatchedRequestLine) {
    const std::string rid = unique_id("acc");
    Response r = http(port(), "DELETE", "/nothing", with_id(rid));
    ASSERT_EQ(r.status, 404) << r.dump();
    auto a = parse_text_access(access_line(host(), rid, "id="));
    ASSERT_TRUE(a) << host().err();
    EXPECT_EQ(a->method, "DELETE");
    EXPECT_EQ(a->path, "/nothing");
    EXPECT_EQ(a->status, 404);
    EXPECT_EQ(a->bytes, r.body.size());
    EXPECT_EQ(a->route, "-");
}

TEST_F(AccessLogTextTest, GeneratedIdIsTheOneSentBack) {
    Response r = get(port(), "/apphooks/id");
    ASSERT_EQ(r.status, 200) << r.dump();
    const std::string rid = r.header("X-Request-Id").value_or("");
    ASSERT_TRUE(sane_request_id(rid)) << r.dump();
    auto a = parse_text_access(access_line(host(), rid, "id="));
    ASSERT_TRUE(a) << host().err();
    EXPECT_EQ(a->id, rid);
    EXPECT_EQ(a->route, "/apphooks/id");
}

TEST_F(AccessLogTextTest, OneLinePerRequest) {
    const std::string rid = unique_id("acc");
    ASSERT_EQ(get(port(), "/apphooks/id", with_id(rid)).status, 200);
    ASSERT_FALSE(access_line(host(), rid, "id=").empty()) << host().err();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    EXPECT_EQ(lines_with(host().err(), {"access ", "id=" + rid}).size(), 1u) << host().err();
}

class AccessLogJsonTest : public SharedHostTest<AccessLogJsonTest> {
public:
    static void SetUpTestSuite() { start("  apphooks: {mount: /}\n", {.logging_extra = "  access: true\n  format: json\n"}); }
};

TEST_F(AccessLogJsonTest, LineIsAJsonObjectWithTheDocumentedKeys) {
    const std::string rid = unique_id("accj");
    Response r = get(port(), "/apphooks/status/503?x=1", with_id(rid));
    ASSERT_EQ(r.status, 503) << r.dump();
    const std::string line = access_line(host(), rid, "\"request_id\":\"");
    ASSERT_FALSE(line.empty()) << host().err();
    auto open = line.find('{'), close = line.rfind('}');
    ASSERT_TRUE(open != std::string::npos && close != std::string::npos && close > open) << line;
    auto j = nlohmann::json::parse(line.substr(open, close - open + 1), nullptr, false);
    ASSERT_TRUE(j.is_object()) << line;
    EXPECT_EQ(j.value("method", ""), "GET") << line;
    EXPECT_EQ(j.value("path", ""), "/apphooks/status/503") << line;
    EXPECT_EQ(j.value("route", ""), "/apphooks/status/{code:int}") << line;
    EXPECT_EQ(j.value("plugin", ""), "apphooks") << line;
    EXPECT_EQ(j.value("status", 0), 503) << line;
    ASSERT_TRUE(j.contains("bytes") && j["bytes"].is_number_integer()) << line;
    EXPECT_EQ(j["bytes"].get<std::size_t>(), r.body.size()) << line;
    EXPECT_TRUE(j.contains("duration_ms") && j["duration_ms"].is_number()) << line;
    EXPECT_EQ(j.value("request_id", ""), rid) << line;
    EXPECT_TRUE(Contains(j.value("remote", ""), "127.0.0.1")) << line;
}

class AccessLogOffTest : public SharedHostTest<AccessLogOffTest> {
public:
    static void SetUpTestSuite() { start("  apphooks: {mount: /}\n", {.logging_extra = "  access: false\n"}); }
};

TEST_F(AccessLogOffTest, NoAccessLines) {
    const std::string rid = unique_id("accoff");
    ASSERT_EQ(get(port(), "/apphooks/id", with_id(rid)).status, 200);
    ASSERT_EQ(get(port(), "/nowhere", with_id(rid)).status, 404);
    // The teardown hooks log after the response; give the (absent) access line time too.
    ASSERT_TRUE(wait_for_line(host(), {"order apphooks:teardown /nowhere", rid})) << host().err();
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    const std::string err = host().err();
    EXPECT_TRUE(lines_with(err, {"id=" + rid}).empty()) << err;
    EXPECT_TRUE(lines_with(err, {"\"request_id\""}).empty()) << err;
    EXPECT_TRUE(lines_with(err, {"access ", "/apphooks/id"}).empty()) << err;
}

}  // namespace
}  // namespace e2e
