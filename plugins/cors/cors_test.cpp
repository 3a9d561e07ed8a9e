// The cors plugin in process, through the SDK's test client: its policy is
// parsed once per instance (its ABI 1.2 state) and answers preflights and
// actual requests. tests/e2e/cors_test.cpp covers the same over sockets.
#include <gtest/gtest.h>
#include <trellis/testing.hpp>

namespace {

using trellis::testing::Headers;
using trellis::testing::Host;

const std::string kApp = "https://app.example.com";

Host make_host(const std::string& settings) {
    return Host("logging: {level: warn, access: false}\n"
                "plugins:\n"
                "  cors: {settings: " + settings + "}\n"
                "  hello: {mount: /}\n");
}

Headers preflight(const std::string& origin, const std::string& method) {
    return {{"Origin", origin}, {"Access-Control-Request-Method", method}};
}

TEST(Cors, PreflightFromAnAllowedOriginIs204WithThePolicy) {
    auto host = make_host("{origins: [\"" + kApp + "\"], max_age: 120}");
    auto res = host.request("OPTIONS", "/echo", preflight(kApp, "PUT"));
    EXPECT_EQ(res.status, 204);
    EXPECT_EQ(res.header("Access-Control-Allow-Origin"), kApp);
    EXPECT_EQ(res.header("Access-Control-Max-Age"), "120");
    EXPECT_NE(res.header("Vary").value_or("").find("Origin"), std::string::npos);
}

TEST(Cors, DisallowedOriginOrMethodIs403) {
    auto host = make_host("{origins: [\"" + kApp + "\"], methods: [GET]}");
    EXPECT_EQ(host.request("OPTIONS", "/hello", preflight("https://evil.example", "GET")).status, 403);
    EXPECT_EQ(host.request("OPTIONS", "/hello", preflight(kApp, "DELETE")).status, 403);
}

TEST(Cors, ActualRequestsGetTheHeadersOnlyForAllowedOrigins) {
    auto host = make_host("{origins: [\"" + kApp + "\"], expose_headers: [X-Total-Count], credentials: true}");
    auto allowed = host.get("/hello", {{"Origin", kApp}});
    EXPECT_EQ(allowed.status, 200);
    EXPECT_EQ(allowed.header("Access-Control-Allow-Origin"), kApp);
    EXPECT_EQ(allowed.header("Access-Control-Allow-Credentials"), "true");
    EXPECT_EQ(allowed.header("Access-Control-Expose-Headers"), "X-Total-Count");
    auto other = host.get("/hello", {{"Origin", "https://evil.example"}});
    EXPECT_FALSE(other.header("Access-Control-Allow-Origin"));
    EXPECT_NE(other.header("Vary").value_or("").find("Origin"), std::string::npos);
}

TEST(Cors, AMalformedOriginRefusesThePluginAtLoad) {
    try {
        make_host("{origins: [\"https://app.example.com/\"]}");
        FAIL() << "loaded";
    } catch (const trellis::testing::LoadError& e) {
        EXPECT_NE(std::string(e.what()).find("is not an origin"), std::string::npos) << e.what();
    }
}

}  // namespace
