// The options of a manifest `resources` entry and of its model, against the
// real binary over a socket, on SQLite and on PostgreSQL: the page size
// (limit: {default, max}), a subset of the methods, the timestamps the host
// fills (auto: create / update), and tables namespaced per plugin. The
// plugin is tests/plugins/data/memo.plugin.yaml (no handler code).
#include <signal.h>

#include <chrono>
#include <cstdint>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "data_support.hpp"

namespace e2e::data {
namespace {

template <class B>
class ResourceOptions : public DataHostTest<ResourceOptions<B>, B> {
public:
    static constexpr const char* kPluginsBlock = "  memo: {mount: /memo}\n";

protected:
    using Fixture = DataHostTest<ResourceOptions<B>, B>;
    using Fixture::send;

    // POSTs `body` to `collection`; the created row, or null (after a test failure).
    json create(std::string_view collection, const json& body) const {
        Response r = send("POST", collection, body);
        EXPECT_TRUE(IsJson(r, 201)) << "creating " << body.dump();
        return r.status == 201 ? r.json() : json();
    }
};

TYPED_TEST_SUITE(ResourceOptions, Backends, BackendNames);

// A 422 problem+json answer naming `fields` in its `errors`.
::testing::AssertionResult IsInvalid(const Response& r, const std::vector<std::string>& fields) {
    if (r.status != 422 || error_fields(r) != fields)
        return ::testing::AssertionFailure() << "expected 422 naming the fields given\n--- response ---\n" << r.dump();
    return ::testing::AssertionSuccess();
}

// What the host writes: UTC to the millisecond, fixed width.
::testing::AssertionResult IsHostTimestamp(const json& value) {
    static const std::regex shape(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)");
    if (value.is_string() && std::regex_match(value.get<std::string>(), shape)) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << value.dump() << " is not YYYY-MM-DDTHH:MM:SS.mmmZ";
}

// The stored precision is a millisecond: wait past one so that a later write
// gets a later time.
void next_millisecond() { std::this_thread::sleep_for(std::chrono::milliseconds(3)); }

// ---- limit: {default: 2, max: 3} ----

TYPED_TEST(ResourceOptions, LimitDefaultAndMaxApply) {
    const std::string title = unique_name("page");
    for (int i = 0; i < 4; ++i) ASSERT_FALSE(this->create("/memo", {{"title", title}}).is_null());
    const std::string base = "/memo?title=" + title;

    Response page = this->get(base);  // no ?limit=: the resource's default
    ASSERT_TRUE(IsJson(page, 200));
    EXPECT_EQ(page.json()["items"].size(), 2u) << page.body;
    EXPECT_EQ(page.json().value("limit", -1), 2) << page.body;
    EXPECT_EQ(page.json().value("total", -1), 4) << page.body;
    EXPECT_EQ(page.json().value("offset", -1), 0) << page.body;

    Response most = this->get(base + "&limit=3");  // the max itself
    ASSERT_TRUE(IsJson(most, 200));
    EXPECT_EQ(most.json()["items"].size(), 3u) << most.body;
    EXPECT_EQ(most.json().value("limit", -1), 3) << most.body;

    // Above the max: refused (400), as the hard-coded maximum always was, never clamped.
    Response over = this->get(base + "&limit=4");
    EXPECT_TRUE(IsProblem(over, 400, "/memo"));
    EXPECT_TRUE(Contains(over.body, "limit must be an integer from 0 to 3"));

    Response rest = this->get(base + "&offset=2&limit=3");
    ASSERT_TRUE(IsJson(rest, 200));
    EXPECT_EQ(rest.json()["items"].size(), 2u) << rest.body;
}

// ---- methods: [list, read, create] and [create] ----

TYPED_TEST(ResourceOptions, MethodLeftOutAnswers405WithAllow) {
    const json entry = this->create("/memo/journal", {{"text", "first"}});
    ASSERT_FALSE(entry.is_null());
    const std::string item = "/memo/journal/" + std::to_string(entry["id"].get<std::int64_t>());
    EXPECT_TRUE(IsJson(this->get(item), 200));
    EXPECT_TRUE(IsJson(this->get("/memo/journal"), 200));

    for (const char* method : {"PUT", "PATCH", "DELETE"}) {
        Response r = this->send(method, item, {{"text", "changed"}});
        EXPECT_TRUE(IsProblem(r, 405, item)) << method;
        EXPECT_EQ(r.header("Allow").value_or("<none>"), "GET, HEAD") << method;
    }
    Response collection = http(this->port(), "DELETE", "/memo/journal");
    EXPECT_TRUE(IsProblem(collection, 405, "/memo/journal"));
    EXPECT_EQ(collection.header("Allow").value_or("<none>"), "GET, HEAD, POST");
    EXPECT_EQ(this->get(item).json().value("text", ""), "first") << "nothing was changed";

    // Only create: the collection takes POST alone, and no item path is routed at all.
    const json sent = this->create("/memo/inbox", {{"text", "for later"}});
    ASSERT_FALSE(sent.is_null());
    Response list = this->get("/memo/inbox");
    EXPECT_TRUE(IsProblem(list, 405, "/memo/inbox"));
    EXPECT_EQ(list.header("Allow").value_or("<none>"), "POST");
    const std::string inbox_item = "/memo/inbox/" + std::to_string(sent["id"].get<std::int64_t>());
    EXPECT_TRUE(IsProblem(this->get(inbox_item), 404, inbox_item));
    EXPECT_TRUE(IsProblem(http(this->port(), "DELETE", inbox_item), 404, inbox_item));
    // Both resources serve one table (memo_journal, from table:).
    EXPECT_EQ(this->get(item).json()["id"], entry["id"]);
    EXPECT_TRUE(IsJson(this->get("/memo/journal/" + std::to_string(sent["id"].get<std::int64_t>())), 200));
}

// ---- auto: create / auto: update ----

TYPED_TEST(ResourceOptions, CreatedStaysAndUpdatedMovesOnPutAndPatch) {
    const json made = this->create("/memo", {{"title", "first"}});
    ASSERT_FALSE(made.is_null());
    ASSERT_TRUE(IsHostTimestamp(made["created"]));
    ASSERT_TRUE(IsHostTimestamp(made["updated"]));
    EXPECT_EQ(made["created"], made["updated"]) << "both set by the one insert";
    const std::string item = "/memo/" + std::to_string(made["id"].get<std::int64_t>());

    next_millisecond();
    Response put = this->send("PUT", item, {{"title", "second"}});  // PUT leaves out created: it is not reset
    ASSERT_TRUE(IsJson(put, 200));
    const json replaced = put.json();
    EXPECT_EQ(replaced["title"], "second");
    EXPECT_EQ(replaced["created"], made["created"]);
    ASSERT_TRUE(IsHostTimestamp(replaced["updated"]));
    EXPECT_GT(replaced["updated"].get<std::string>(), made["updated"].get<std::string>());

    next_millisecond();
    Response patch = this->send("PATCH", item, {{"title", "third"}});
    ASSERT_TRUE(IsJson(patch, 200));
    const json patched = patch.json();
    EXPECT_EQ(patched["created"], made["created"]);
    EXPECT_GT(patched["updated"].get<std::string>(), replaced["updated"].get<std::string>());

    Response read = this->get(item);
    ASSERT_TRUE(IsJson(read, 200));
    EXPECT_EQ(read.json(), patched) << "what the answer said is what was stored";
}

TYPED_TEST(ResourceOptions, HostFilledFieldsAreReadOnlyLikeTheKey) {
    // Create: giving one is refused, as giving the generated id is.
    Response given = this->send("POST", "/memo", {{"title", "x"}, {"created", "2024-05-01T12:00:00Z"}});
    EXPECT_TRUE(IsInvalid(given, {"created"}));
    EXPECT_TRUE(Contains(given.body, "is set by the host"));

    const json made = this->create("/memo", {{"title", "x"}});
    ASSERT_FALSE(made.is_null());
    const std::string item = "/memo/" + std::to_string(made["id"].get<std::int64_t>());

    // A client that PUTs back what it read (key and timestamps included) is fine...
    next_millisecond();
    json back = made;
    back["title"] = "y";
    Response put = this->send("PUT", item, back);
    ASSERT_TRUE(IsJson(put, 200)) << put.dump();
    EXPECT_EQ(put.json()["created"], made["created"]);
    EXPECT_GT(put.json()["updated"].get<std::string>(), made["updated"].get<std::string>());

    // ...another value is not, and nothing changes.
    Response moved = this->send("PATCH", item, {{"created", "2024-05-01T12:00:00.000Z"}, {"title", "z"}});
    EXPECT_TRUE(IsInvalid(moved, {"created"}));
    EXPECT_TRUE(Contains(moved.body, "cannot be changed"));
    Response stale = this->send("PUT", item, back);  // `updated` moved since it was read
    EXPECT_TRUE(IsInvalid(stale, {"updated"}));
    EXPECT_EQ(this->get(item).json(), put.json());
    EXPECT_TRUE(IsProblem(this->send("PATCH", "/memo/999999999", {{"created", made["created"]}}), 404,
                          "/memo/999999999"));
}

// ---- tables: <plugin>_<model> ----

TYPED_TEST(ResourceOptions, TablesAreNamedAfterPluginAndModel) {
    ASSERT_FALSE(this->create("/memo", {{"title", "in memo_note"}}).is_null());
    ASSERT_FALSE(this->create("/memo/journal", {{"text", "in memo_journal"}}).is_null());
    {
        const auto n = this->db().query("SELECT count(*) FROM memo_note WHERE title = 'in memo_note'");
        ASSERT_TRUE(n) << "no SQL client for this backend (sqlite3 / psql: scripts/install-deps.sh)";
        EXPECT_EQ(*n, "1");
    }
    {
        const auto n = this->db().query("SELECT count(*) FROM memo_journal WHERE text = 'in memo_journal'");
        ASSERT_TRUE(n) << "no SQL client for this backend (sqlite3 / psql: scripts/install-deps.sh)";
        EXPECT_EQ(*n, "1");
    }
}

// Two plugins that each declare a `note` model, in one database: each has its
// table (notes_note, memo_note), and neither sees the other's rows.
TYPED_TEST(ResourceOptions, TwoPluginsWithANoteModelCoexist) {
    std::unique_ptr<TestDatabase> db = TestDatabase::create(TypeParam::value);
    auto host = start_host(HostSpec(db->url(), "  notes: {mount: /notes}\n  memo: {mount: /memo}\n"));
    const int port = host->port();
    Response a = send_json(port, "POST", "/notes", {{"title", "a notes note"}, {"body", "b"}});
    ASSERT_TRUE(IsJson(a, 201));
    Response b = send_json(port, "POST", "/memo", {{"title", "a memo note"}});
    ASSERT_TRUE(IsJson(b, 201));
    EXPECT_EQ(a.json()["id"], 1);  // each table counts its own keys
    EXPECT_EQ(b.json()["id"], 1);
    EXPECT_EQ(get(port, "/notes/1").json().value("title", ""), "a notes note");
    EXPECT_EQ(get(port, "/memo/1").json().value("title", ""), "a memo note");
    EXPECT_EQ(get(port, "/notes").json().value("total", -1), 1);
    EXPECT_EQ(get(port, "/memo").json().value("total", -1), 1);
    {
        const auto n = db->query("SELECT count(*) FROM notes_note");
        ASSERT_TRUE(n) << "no SQL client for this backend (sqlite3 / psql: scripts/install-deps.sh)";
        EXPECT_EQ(*n, "1");
    }
    {
        const auto n = db->query("SELECT count(*) FROM memo_note");
        ASSERT_TRUE(n) << "no SQL client for this backend (sqlite3 / psql: scripts/install-deps.sh)";
        EXPECT_EQ(*n, "1");
    }
    EXPECT_EQ(host->stop(SIGTERM).code, 0);
}

}  // namespace
}  // namespace e2e::data
