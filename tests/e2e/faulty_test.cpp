// Handlers that fail in every way, and the host API's request/response
// accessors seen through real HTTP (tests/plugins/sdk/faulty.cpp).
#include <cstdint>
#include <string>

#include "fixture.hpp"

namespace e2e {
namespace {

class FaultyTest : public SharedHostTest<FaultyTest> {
public:
    static void SetUpTestSuite() { start("  faulty: {mount: /, settings: {label: from-config}}\n"); }
};

TEST_F(FaultyTest, ThrowingHandlerIs500WithoutInternalDetail) {
    Response r = get(port(), "/faulty/throw");
    EXPECT_TRUE(IsProblem(r, 500, "/faulty/throw", "Internal Server Error"));
    EXPECT_TRUE(NotContains(r.dump(), "SECRET"));
    EXPECT_TRUE(NotContains(r.body, "partial response"));
}

TEST_F(FaultyTest, ThrowingHandlerIsLoggedForTheOperator) {
    ASSERT_EQ(get(port(), "/faulty/throw").status, 500);
    EXPECT_TRUE(host().wait_for_log("SECRET-internal-detail"))
        << "the exception text should reach the host log (via host->log):\n" << host().err();
}

TEST_F(FaultyTest, HostKeepsServingAfterThrowingHandler) {
    Connection c(port());
    for (int i = 0; i < 3; ++i) {
        Response r = c.request("GET", "/faulty/throw");
        ASSERT_EQ(r.status, 500) << r.dump();
    }
    Response same_connection = c.request("GET", "/faulty/notes/7");
    ASSERT_EQ(same_connection.status, 200) << same_connection.dump();
    EXPECT_EQ(same_connection.json()["id"], 7);
    Response fresh = get(port(), "/faulty/notes/8");
    ASSERT_EQ(fresh.status, 200) << fresh.dump();
    EXPECT_EQ(fresh.json()["id"], 8);
}

TEST_F(FaultyTest, ErrorStatusWithoutFailIs500) {
    Response r = get(port(), "/faulty/error");
    EXPECT_TRUE(IsProblem(r, 500, "/faulty/error", "Internal Server Error"));
    EXPECT_TRUE(NotContains(r.body, "partial response"));
}

TEST_F(FaultyTest, FailWith418IsProblemWithDetail) {
    Response r = get(port(), "/faulty/teapot");
    ASSERT_TRUE(IsProblem(r, 418, "/faulty/teapot"));
    EXPECT_EQ(r.json()["detail"], "I'm a teapot");
}

TEST_F(FaultyTest, FailDiscardsResponseSetBefore) {
    Response r = get(port(), "/faulty/teapot");
    ASSERT_EQ(r.status, 418) << r.dump();
    EXPECT_TRUE(NotContains(r.body, "discard me"));
    EXPECT_FALSE(r.header("X-Should-Vanish")) << r.dump();
}

TEST_F(FaultyTest, SdkHttpErrorBecomesProblem) {
    Response r = get(port(), "/faulty/http-error");
    ASSERT_TRUE(IsProblem(r, 409, "/faulty/http-error", "Conflict"));
    EXPECT_EQ(r.json()["detail"], "conflict reported by faulty");
}

TEST_F(FaultyTest, TypedIntParameter) {
    Response r = get(port(), "/faulty/notes/42");
    ASSERT_EQ(r.status, 200) << r.dump();
    EXPECT_EQ(r.json(), (nlohmann::json{{"id", 42}, {"raw", "42"}}));

    Response neg = get(port(), "/faulty/notes/-7");
    ASSERT_EQ(neg.status, 200) << neg.dump();
    EXPECT_EQ(neg.json()["id"], -7);

    Response max = get(port(), "/faulty/notes/9223372036854775807");
    ASSERT_EQ(max.status, 200) << max.dump();
    EXPECT_EQ(max.json()["id"].get<std::int64_t>(), INT64_MAX);
}

TEST_F(FaultyTest, TypedParameterMismatchIs404) {
    for (const char* path : {"/faulty/notes/abc", "/faulty/notes/1.5", "/faulty/notes/12x",
                             "/faulty/notes/99999999999999999999"}) {
        EXPECT_TRUE(IsProblem(get(port(), path), 404, path, "Not Found")) << path;
    }
}

TEST_F(FaultyTest, MethodNotAllowedListsAllMethodsSorted) {
    Response r = http(port(), "DELETE", "/faulty/notes/1");
    ASSERT_TRUE(IsProblem(r, 405, "/faulty/notes/1", "Method Not Allowed"));
    EXPECT_EQ(r.header("Allow").value_or("<none>"), "GET, HEAD, PUT") << r.dump();
}

TEST_F(FaultyTest, PutRouteAnswersWithHandlerStatus) {
    Response r = http(port(), "PUT", "/faulty/notes/3", {}, std::string("{}"));
    EXPECT_EQ(r.status, 204) << r.dump();
    EXPECT_EQ(r.body, "");
}

TEST_F(FaultyTest, QueryParametersReachTheHandler) {
    Response r = get(port(), "/faulty/inspect?a=1&b=hello%20world&c&a=2&d=x+y&e=");
    ASSERT_EQ(r.status, 200) << r.dump();
    auto q = r.json()["query"];
    EXPECT_EQ(q["a"], "1") << "first occurrence wins";
    EXPECT_EQ(q["b"], "hello world") << "percent-decoded";
    EXPECT_EQ(q["c"], "") << "key without '=' is present with an empty value";
    EXPECT_EQ(q["d"], "x y") << "'+' is a space in a query string";
    EXPECT_EQ(q["e"], "");
    EXPECT_TRUE(q["missing"].is_null()) << q.dump();
}

TEST_F(FaultyTest, MethodAndRawPathReachTheHandler) {
    Response r = get(port(), "/faulty/inspect?x=%2F");
    ASSERT_EQ(r.status, 200) << r.dump();
    auto j = r.json();
    EXPECT_EQ(j["method"], "GET");
    EXPECT_EQ(j["path"], "/faulty/inspect") << "path without the query string";
    EXPECT_EQ(j["body_bytes"], 0);
}

TEST_F(FaultyTest, RequestHeadersAreCaseInsensitive) {
    Response r = get(port(), "/faulty/inspect", {{"X-Trellis-Test", "Value-42"}});
    ASSERT_EQ(r.status, 200) << r.dump();
    auto h = r.json()["headers"];
    EXPECT_EQ(h["X-Trellis-Test"], "Value-42");
    EXPECT_EQ(h["x-trellis-test"], "Value-42");
    EXPECT_EQ(h["X-TRELLIS-TEST"], "Value-42");
    EXPECT_TRUE(h["X-Absent"].is_null()) << h.dump();
}

TEST_F(FaultyTest, OperatorSettingReachesTheHandler) {
    Response r = get(port(), "/faulty/inspect");
    ASSERT_EQ(r.status, 200) << r.dump();
    EXPECT_EQ(r.json()["label"], "from-config");
}

TEST_F(FaultyTest, InitRanWithValidatedSettings) {
    EXPECT_TRUE(host().wait_for_log("faulty init label=from-config")) << host().err();
}

TEST_F(FaultyTest, ResponseApiRefusesInvalidInput) {
    Response r = get(port(), "/faulty/headers");
    ASSERT_EQ(r.status, 201) << r.dump();
    auto j = r.json();
    EXPECT_EQ(j["status_99"], 0);
    EXPECT_EQ(j["status_600"], 0);
    EXPECT_EQ(j["status_201"], 1);
    EXPECT_EQ(j["content_length"], 0) << "Content-Length belongs to the host";
    EXPECT_EQ(j["connection"], 0) << "Connection belongs to the host";
    EXPECT_EQ(j["bad_name"], 0) << "\"Bad Name\" is not a token";
    EXPECT_EQ(j["crlf_value"], 0) << "CR/LF in a value must be refused";
    EXPECT_EQ(j["nul_value"], 0) << "NUL in a value must be refused";
    EXPECT_EQ(j["custom"], 1);
    EXPECT_EQ(j["content_type"], 1);

    EXPECT_EQ(r.header("X-Custom").value_or("<none>"), "yes") << r.dump();
    EXPECT_FALSE(r.header("X-Injected")) << r.dump();
    EXPECT_FALSE(r.header("X-Split")) << r.dump();
    EXPECT_FALSE(r.header("X-Nul")) << r.dump();
    EXPECT_FALSE(r.header("Connection").value_or("") == "close") << r.dump();
    EXPECT_EQ(r.header_count("Content-Length"), 1u) << r.dump();
    EXPECT_EQ(r.header("Content-Length").value_or(""), std::to_string(r.body.size())) << r.dump();
    EXPECT_EQ(r.header_count("Content-Type"), 1u) << "setting Content-Type replaces the default:\n" << r.dump();
    EXPECT_EQ(r.header("Content-Type").value_or(""), "application/json") << r.dump();
}

TEST_F(FaultyTest, LargeBodyUnderDefaultLimitIsAccepted) {
    // max_request_bytes defaults to 1MiB: far above Pistache's 4096-byte default.
    std::string body(200000, 'z');
    Response r = http(port(), "POST", "/faulty/size", {{"Content-Type", "application/octet-stream"}}, body);
    ASSERT_EQ(r.status, 200) << r.dump().substr(0, 2000);
    EXPECT_EQ(r.json()["bytes"], 200000);
}

}  // namespace
}  // namespace e2e
