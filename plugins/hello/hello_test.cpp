// The hello plugin in process, through the SDK's test client.
#include <gtest/gtest.h>
#include <trellis/testing.hpp>

namespace {

trellis::testing::Host make_host(const std::string& settings = "{}") {
    return trellis::testing::Host("logging: {level: warn, access: false}\n"
                                  "plugins:\n  hello: {mount: /, settings: " + settings + "}\n");
}

TEST(Hello, GreetsTheWorldAndByName) {
    auto host = make_host();
    EXPECT_EQ(host.get("/hello").json(), (nlohmann::json{{"message", "Hello, world!"}}));
    auto named = host.get("/hello/ada");
    EXPECT_EQ(named.status, 200);
    EXPECT_EQ(named.header("Content-Type"), "application/json");
    EXPECT_EQ(named.json(), (nlohmann::json{{"message", "Hello, ada!"}}));
}

TEST(Hello, GreetingIsASetting) {
    auto host = make_host("{greeting: Bonjour}");
    EXPECT_EQ(host.get("/hello/ada").json()["message"], "Bonjour, ada!");
}

TEST(Hello, EchoReturnsItsJsonAndRefusesInvalidJsonWith400) {
    auto host = make_host();
    auto echoed = host.post_json("/echo", {{"a", 1}, {"b", {true, nullptr}}});
    EXPECT_EQ(echoed.status, 200);
    EXPECT_EQ(echoed.json(), (nlohmann::json{{"a", 1}, {"b", {true, nullptr}}}));
    auto bad = host.post("/echo", "{not json", {{"Content-Type", "application/json"}});
    EXPECT_EQ(bad.status, 400);
    EXPECT_EQ(bad.header("Content-Type"), "application/problem+json");
    EXPECT_EQ(bad.json()["detail"], "request body is not valid JSON");
}

TEST(Hello, UnknownSettingRefusesThePlugin) {
    EXPECT_THROW(make_host("{colour: blue}"), trellis::testing::LoadError);
}

}  // namespace
