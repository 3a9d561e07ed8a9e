// The first-party cors plugin (plugins/cors) in front of the hello plugin:
// preflights for any path, CORS headers on actual responses (errors
// included), wildcard and credentials, and a refused configuration.
#include <strings.h>

#include <optional>
#include <string>
#include <vector>

#include "fixture.hpp"

namespace e2e {
namespace {

constexpr const char* kApp = "https://app.example.com";
constexpr const char* kLocal = "http://localhost:3000";
constexpr const char* kEvil = "https://evil.example.net";

Headers preflight(std::string origin, std::string method, std::optional<std::string> headers = std::nullopt) {
    Headers h{{"Origin", std::move(origin)}, {"Access-Control-Request-Method", std::move(method)}};
    if (headers) h.emplace_back("Access-Control-Request-Headers", *headers);
    return h;
}

// Names of the Access-Control-* headers of a response.
std::vector<std::string> cors_headers(const Response& r) {
    std::vector<std::string> names;
    for (const auto& [k, v] : r.headers)
        if (::strncasecmp(k.c_str(), "Access-Control-", 15) == 0) names.push_back(k);
    return names;
}

bool varies_on_origin(const Response& r) {
    auto vary = r.header("Vary").value_or("");
    return vary.find("Origin") != std::string::npos;
}

// ---- explicit origins --------------------------------------------------------------

class CorsTest : public SharedHostTest<CorsTest> {
public:
    static void SetUpTestSuite() {
        start("  cors:\n"
              "    settings:\n"
              "      origins: [\"https://app.example.com\", \"http://localhost:3000\"]\n"
              "      expose_headers: [X-Total-Count]\n"
              "      max_age: 120\n"
              "  hello: {mount: /}\n");
    }
};

TEST_F(CorsTest, PreflightFromAllowedOriginIs204WithThePolicy) {
    Response r = http(port(), "OPTIONS", "/echo", preflight(kApp, "PUT", "content-type, Authorization"));
    ASSERT_EQ(r.status, 204) << r.dump();
    EXPECT_TRUE(r.body.empty());
    EXPECT_EQ(r.header("Access-Control-Allow-Origin").value_or("<none>"), kApp) << r.dump();
    EXPECT_EQ(r.header_count("Access-Control-Allow-Origin"), 1u) << "the after hook must not add a second one";
    EXPECT_EQ(r.header("Access-Control-Allow-Methods").value_or("<none>"), "GET, HEAD, POST, PUT, PATCH, DELETE");
    EXPECT_EQ(r.header("Access-Control-Allow-Headers").value_or("<none>"), "Content-Type, Authorization");
    EXPECT_EQ(r.header("Access-Control-Max-Age").value_or("<none>"), "120");
    EXPECT_FALSE(r.header("Access-Control-Allow-Credentials")) << r.dump();
    EXPECT_TRUE(varies_on_origin(r)) << r.dump();
    EXPECT_TRUE(r.header("X-Request-Id")) << r.dump();
}

TEST_F(CorsTest, PreflightWorksForAnyPath) {
    // No route at all, and a route that has no OPTIONS method: the cors hook
    // runs before routing and answers.
    for (const char* target : {"/no/such/route", "/hello/Ada"}) {
        Response r = http(port(), "OPTIONS", target, preflight(kLocal, "DELETE"));
        ASSERT_EQ(r.status, 204) << target << "\n" << r.dump();
        EXPECT_EQ(r.header("Access-Control-Allow-Origin").value_or("<none>"), kLocal);
    }
}

TEST_F(CorsTest, PreflightFromDisallowedOriginIs403) {
    for (const char* origin : {kEvil, "https://app.example.com.evil.net", "http://app.example.com", "null"}) {
        Response r = http(port(), "OPTIONS", "/hello", preflight(origin, "GET"));
        EXPECT_TRUE(IsProblem(r, 403, "/hello")) << origin;
        EXPECT_FALSE(r.header("Access-Control-Allow-Origin")) << origin << "\n" << r.dump();
    }
}

TEST_F(CorsTest, PreflightForDisallowedMethodOrHeaderIs403) {
    Response m = http(port(), "OPTIONS", "/hello", preflight(kApp, "PROPFIND"));
    EXPECT_TRUE(IsProblem(m, 403, "/hello"));
    Response h = http(port(), "OPTIONS", "/hello", preflight(kApp, "GET", "X-Secret-Header"));
    EXPECT_TRUE(IsProblem(h, 403, "/hello"));
}

TEST_F(CorsTest, PlainOptionsIsNotAPreflight) {
    // Without Access-Control-Request-Method it is an ordinary request: routed (405).
    Response r = http(port(), "OPTIONS", "/hello", {{"Origin", kApp}});
    EXPECT_TRUE(IsProblem(r, 405, "/hello"));
    EXPECT_EQ(r.header("Allow").value_or("<none>"), "GET, HEAD") << r.dump();
    EXPECT_EQ(r.header("Access-Control-Allow-Origin").value_or("<none>"), kApp) << r.dump();
}

TEST_F(CorsTest, SimpleRequestFromAllowedOriginGetsCorsHeaders) {
    Response r = get(port(), "/hello", {{"Origin", kApp}});
    ASSERT_EQ(r.status, 200) << r.dump();
    EXPECT_EQ(r.json()["message"], "Hello, world!");
    EXPECT_EQ(r.header("Access-Control-Allow-Origin").value_or("<none>"), kApp);
    EXPECT_EQ(r.header("Access-Control-Expose-Headers").value_or("<none>"), "X-Total-Count");
    EXPECT_FALSE(r.header("Access-Control-Allow-Credentials"));
    EXPECT_FALSE(r.header("Access-Control-Allow-Methods")) << "only preflights carry the policy";
    EXPECT_TRUE(varies_on_origin(r)) << r.dump();

    Response post = http(port(), "POST", "/echo", {{"Origin", kLocal}, {"Content-Type", "application/json"}},
                         std::string("{\"a\":1}"));
    ASSERT_EQ(post.status, 200) << post.dump();
    EXPECT_EQ(post.header("Access-Control-Allow-Origin").value_or("<none>"), kLocal);
}

TEST_F(CorsTest, ErrorResponsesGetCorsHeadersToo) {
    Response nf = get(port(), "/no/such/page", {{"Origin", kApp}});
    EXPECT_TRUE(IsProblem(nf, 404, "/no/such/page"));
    EXPECT_EQ(nf.header("Access-Control-Allow-Origin").value_or("<none>"), kApp) << nf.dump();

    Response bad = http(port(), "POST", "/echo", {{"Origin", kApp}}, std::string("{not json"));
    EXPECT_TRUE(IsProblem(bad, 400, "/echo"));
    EXPECT_EQ(bad.header("Access-Control-Allow-Origin").value_or("<none>"), kApp) << bad.dump();
}

TEST_F(CorsTest, NoOriginNoCorsHeaders) {
    Response r = get(port(), "/hello");
    ASSERT_EQ(r.status, 200) << r.dump();
    EXPECT_TRUE(cors_headers(r).empty()) << r.dump();
    EXPECT_TRUE(varies_on_origin(r)) << "the response would differ with an Origin:\n" << r.dump();
}

TEST_F(CorsTest, DisallowedOriginGetsNoCorsHeaders) {
    Response r = get(port(), "/hello", {{"Origin", kEvil}});
    ASSERT_EQ(r.status, 200) << r.dump();
    EXPECT_TRUE(cors_headers(r).empty()) << r.dump();
}

// ---- "*" without and with credentials ----------------------------------------------

class CorsWildcardTest : public SharedHostTest<CorsWildcardTest> {
public:
    static void SetUpTestSuite() {
        start("  cors: {settings: {origins: [\"*\"]}}\n"
              "  hello: {mount: /}\n");
    }
};

TEST_F(CorsWildcardTest, AnyOriginGetsStar) {
    Response r = get(port(), "/hello", {{"Origin", "https://anyone.example"}});
    ASSERT_EQ(r.status, 200) << r.dump();
    EXPECT_EQ(r.header("Access-Control-Allow-Origin").value_or("<none>"), "*");
    EXPECT_FALSE(r.header("Access-Control-Allow-Credentials"));
    EXPECT_FALSE(r.header("Access-Control-Expose-Headers")) << "none configured";

    Response p = http(port(), "OPTIONS", "/hello", preflight("https://anyone.example", "PATCH", "Content-Type"));
    ASSERT_EQ(p.status, 204) << p.dump();
    EXPECT_EQ(p.header("Access-Control-Allow-Origin").value_or("<none>"), "*");
    EXPECT_EQ(p.header("Access-Control-Max-Age").value_or("<none>"), "600") << "the default";
}

class CorsCredentialsTest : public SharedHostTest<CorsCredentialsTest> {
public:
    static void SetUpTestSuite() {
        start("  cors: {settings: {origins: [\"*\"], credentials: true, headers: [\"*\"]}}\n"
              "  hello: {mount: /}\n");
    }
};

TEST_F(CorsCredentialsTest, WildcardWithCredentialsEchoesTheOrigin) {
    Response r = get(port(), "/hello", {{"Origin", "https://anyone.example"}, {"Cookie", "session=1"}});
    ASSERT_EQ(r.status, 200) << r.dump();
    EXPECT_EQ(r.header("Access-Control-Allow-Origin").value_or("<none>"), "https://anyone.example")
        << "browsers refuse \"*\" with credentials";
    EXPECT_EQ(r.header("Access-Control-Allow-Credentials").value_or("<none>"), "true");
    EXPECT_TRUE(varies_on_origin(r)) << r.dump();
}

TEST_F(CorsCredentialsTest, PreflightEchoesOriginAndRequestedHeaders) {
    Response r = http(port(), "OPTIONS", "/echo", preflight("https://anyone.example", "POST", "X-Custom, Content-Type"));
    ASSERT_EQ(r.status, 204) << r.dump();
    EXPECT_EQ(r.header("Access-Control-Allow-Origin").value_or("<none>"), "https://anyone.example");
    EXPECT_EQ(r.header("Access-Control-Allow-Credentials").value_or("<none>"), "true");
    EXPECT_EQ(r.header("Access-Control-Allow-Headers").value_or("<none>"), "X-Custom, Content-Type")
        << "with credentials \"*\" is literal: the requested headers are echoed";
}

TEST_F(CorsCredentialsTest, NullOriginIsNotCoveredByTheWildcard) {
    EXPECT_TRUE(IsProblem(http(port(), "OPTIONS", "/hello", preflight("null", "GET")), 403, "/hello"));
    Response r = get(port(), "/hello", {{"Origin", "null"}});
    ASSERT_EQ(r.status, 200) << r.dump();
    EXPECT_FALSE(r.header("Access-Control-Allow-Origin")) << r.dump();
}

// ---- configuration ----------------------------------------------------------------

TEST(CorsConfig, MalformedOriginRefusesThePlugin) {
    RunResult r = run_with_config("check", "  cors: {settings: {origins: [\"https://app.example.com/\"]}}\n");
    EXPECT_TRUE(r.status.exited && r.status.code == 1) << r.describe();
    EXPECT_TRUE(Contains(r.err, "cors"));
    EXPECT_TRUE(Contains(r.err, "'https://app.example.com/' is not an origin"));
}

TEST(CorsConfig, DefaultsAreAccepted) {
    RunResult r = run_with_config("check", "  cors: {}\n");
    EXPECT_TRUE(r.status.exited && r.status.code == 0) << r.describe();
    EXPECT_TRUE(Contains(r.err, "no origins configured")) << "the operator is told the plugin does nothing";
}

}  // namespace
}  // namespace e2e
