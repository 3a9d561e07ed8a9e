// The notes plugin in process, through the SDK's test client, on a private
// in-memory SQLite database: the REST resource (no handler code) and the
// two handlers that query it.
#include <gtest/gtest.h>
#include <trellis/testing.hpp>

namespace {

class Notes : public ::testing::Test {
protected:
    trellis::testing::Host host{"logging: {level: warn, access: false}\n"
                                "plugins:\n  notes: {mount: /api/notes, settings: {max_results: 2}}\n"};

    long long create(const nlohmann::json& note) {
        auto res = host.post_json("/api/notes", note);
        EXPECT_EQ(res.status, 201) << res.body;
        return res.json().value("id", -1LL);
    }
};

TEST_F(Notes, CreateReadUpdateDelete) {
    const auto id = create({{"title", "first"}, {"body", "hello there"}, {"tag", "x"}});
    const auto path = "/api/notes/" + std::to_string(id);
    auto created = host.get(path);
    ASSERT_EQ(created.status, 200);
    EXPECT_EQ(created.json()["title"], "first");
    EXPECT_EQ(created.json()["pinned"], false);  // the model's default
    EXPECT_EQ(host.patch_json(path, {{"pinned", true}}).status, 200);
    EXPECT_EQ(host.get(path).json()["pinned"], true);
    EXPECT_EQ(host.del(path).status, 204);
    EXPECT_EQ(host.get(path).status, 404);
}

TEST_F(Notes, ValidationIs422WithTheFieldsAtFault) {
    auto res = host.post_json("/api/notes", {{"title", std::string(201, 'x')}});
    EXPECT_EQ(res.status, 422);
    EXPECT_EQ(res.header("Content-Type"), "application/problem+json");
    EXPECT_NE(res.body.find("title"), std::string::npos) << res.body;
}

TEST_F(Notes, SearchMatchesTitleOrBodyUpToMaxResults) {
    create({{"title", "apple pie"}});
    create({{"title", "banana"}, {"body", "goes with apple"}});
    create({{"title", "apple tart"}});
    create({{"title", "cherry"}});
    auto res = host.get("/api/notes/search?q=apple");
    ASSERT_EQ(res.status, 200) << res.body;
    EXPECT_EQ(res.json()["items"].size(), 2u);  // max_results: 2
    EXPECT_EQ(res.json()["items"][0]["title"], "apple pie");
    EXPECT_EQ(host.get("/api/notes/search").status, 400);
    // LIKE's wildcards in the query are literal.
    EXPECT_EQ(host.get("/api/notes/search?q=%25").json()["items"].size(), 0u);
}

TEST_F(Notes, SummaryCountsTheBody) {
    const auto id = create({{"title", "t"}, {"body", "12345"}});
    auto res = host.get("/api/notes/" + std::to_string(id) + "/summary");
    ASSERT_EQ(res.status, 200);
    EXPECT_EQ(res.json(), (nlohmann::json{{"title", "t"}, {"chars", 5}}));
    EXPECT_EQ(host.get("/api/notes/999/summary").status, 404);
}

}  // namespace
