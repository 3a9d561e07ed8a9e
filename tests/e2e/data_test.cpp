// The declarative REST resource and the custom handlers of plugins/notes,
// against the real binary, on SQLite and on PostgreSQL (typed tests: every
// test runs once per backend). One host and one fresh database per suite;
// tests keep apart by tagging their rows with a name of their own.
#include <signal.h>

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "data_support.hpp"

namespace e2e::data {
namespace {

constexpr const char* kPlugins =
    "  notes: {mount: /notes}\n"
    "  labels: {mount: /labels}\n"
    "  hello: {mount: /}\n";

template <class B>
class DataApi : public DataHostTest<DataApi<B>, B> {
public:
    static constexpr const char* kPluginsBlock = kPlugins;

protected:
    using Fixture = DataHostTest<DataApi<B>, B>;
    using Fixture::get;
    using Fixture::send;

    // POSTs a note; the created row, or null (after a test failure).
    json create(const json& body, std::string_view collection = "/notes") const {
        Response r = send("POST", collection, body);
        EXPECT_TRUE(IsJson(r, 201)) << "creating " << body.dump();
        if (r.status != 201) return nullptr;
        json row = r.json();
        EXPECT_TRUE(row.contains("id") && row["id"].is_number_integer()) << r.dump();
        return row;
    }

    // The ids of `GET target` (a list answer), in order.
    std::vector<std::int64_t> list_ids(const std::string& target, json* whole = nullptr) const {
        Response r = get(target);
        EXPECT_TRUE(IsJson(r, 200)) << target;
        std::vector<std::int64_t> ids;
        if (r.status != 200) return ids;
        json j = r.json();
        if (whole) *whole = j;
        for (const auto& item : j.at("items")) ids.push_back(item.at("id").get<std::int64_t>());
        return ids;
    }
};

TYPED_TEST_SUITE(DataApi, Backends, BackendNames);

std::string item_path(std::int64_t id) { return "/notes/" + std::to_string(id); }

// ---- create, read, list ----

TYPED_TEST(DataApi, CreateAnswers201WithLocationAndGeneratedId) {
    const std::string tag = unique_name("t");
    Response r = this->send("POST", "/notes", {{"title", "First"}, {"body", "hello"}, {"tag", tag}});
    ASSERT_TRUE(IsJson(r, 201));
    const json note = r.json();
    ASSERT_TRUE(note.contains("id") && note["id"].is_number_integer()) << r.dump();
    const auto id = note["id"].get<std::int64_t>();
    EXPECT_GT(id, 0);
    EXPECT_EQ(note.value("title", ""), "First");
    EXPECT_EQ(note.value("body", ""), "hello");
    EXPECT_EQ(note.value("tag", ""), tag);
    EXPECT_EQ(note.value("pinned", json()), json(false)) << "the manifest's default: " << r.body;
    EXPECT_TRUE(note.contains("created") && note["created"].is_null()) << r.body;
    EXPECT_EQ(r.header("Location").value_or("<none>"), item_path(id));

    // Location points at the row.
    Response read = this->get(r.header("Location").value_or(item_path(id)));
    ASSERT_TRUE(IsJson(read, 200));
    EXPECT_EQ(read.json(), note);

    // The next row gets another id.
    json second = this->create({{"title", "Second"}, {"tag", tag}});
    ASSERT_FALSE(second.is_null());
    EXPECT_NE(second["id"], note["id"]);
}

TYPED_TEST(DataApi, EveryFieldTypeRoundTrips) {
    const std::string tag = unique_name("t");
    const json sent = {{"title", "Typed"}, {"body", "b"}, {"tag", tag}, {"pinned", true},
                       {"created", "2024-05-01T12:00:00Z"}};
    json note = this->create(sent);
    ASSERT_FALSE(note.is_null());
    for (const auto& [key, value] : sent.items()) EXPECT_EQ(note[key], value) << key << " in " << note.dump();
    Response read = this->get(item_path(note["id"]));
    ASSERT_TRUE(IsJson(read, 200));
    EXPECT_EQ(read.json(), note);
}

TYPED_TEST(DataApi, ListPaginatesWithTotal) {
    const std::string tag = unique_name("t");
    std::vector<std::int64_t> ids;
    for (int i = 0; i < 5; ++i) {
        json n = this->create({{"title", "page " + std::to_string(i)}, {"tag", tag}});
        ASSERT_FALSE(n.is_null());
        ids.push_back(n["id"]);
    }
    const std::string base = "/notes?tag=" + tag;

    json page;
    EXPECT_EQ(this->list_ids(base + "&limit=2", &page), std::vector<std::int64_t>(ids.begin(), ids.begin() + 2));
    EXPECT_EQ(page.value("total", -1), 5) << page.dump();
    EXPECT_EQ(page.value("limit", -1), 2) << page.dump();
    EXPECT_EQ(page.value("offset", -1), 0) << page.dump();

    EXPECT_EQ(this->list_ids(base + "&limit=2&offset=2", &page),
              std::vector<std::int64_t>(ids.begin() + 2, ids.begin() + 4));
    EXPECT_EQ(page.value("total", -1), 5);
    EXPECT_EQ(page.value("offset", -1), 2);

    EXPECT_EQ(this->list_ids(base + "&limit=2&offset=4", &page), std::vector<std::int64_t>{ids[4]});
    EXPECT_EQ(page.value("total", -1), 5);

    EXPECT_EQ(this->list_ids(base + "&offset=10", &page), std::vector<std::int64_t>{});
    EXPECT_EQ(page.value("total", -1), 5) << "total counts every match, not the page";

    EXPECT_EQ(this->list_ids(base, &page), ids);
    EXPECT_EQ(page.value("limit", -1), 50) << "the default page size";

    // Whole collection: every row of every test so far, at least ours.
    Response all = this->get("/notes?limit=1");
    ASSERT_TRUE(IsJson(all, 200));
    EXPECT_GE(all.json().value("total", -1), 5);
    EXPECT_EQ(all.json()["items"].size(), 1u);

    for (const char* bad : {"limit=-1", "limit=abc", "limit=1000000", "offset=-3", "offset=x"})
        EXPECT_TRUE(IsProblem(this->get("/notes?" + std::string(bad)), 400, "/notes")) << bad;
}

TYPED_TEST(DataApi, ListFiltersByFieldEquality) {
    const std::string a = unique_name("ta"), b = unique_name("tb");
    json a1 = this->create({{"title", "a1"}, {"tag", a}, {"pinned", true}});
    json a2 = this->create({{"title", "a2"}, {"tag", a}});
    json a3 = this->create({{"title", "a3"}, {"tag", a}, {"pinned", true}});
    json b1 = this->create({{"title", "b1"}, {"tag", b}, {"pinned", true}});
    ASSERT_FALSE(a1.is_null() || a2.is_null() || a3.is_null() || b1.is_null());
    using Ids = std::vector<std::int64_t>;

    json whole;
    EXPECT_EQ(this->list_ids("/notes?tag=" + a, &whole), (Ids{a1["id"], a2["id"], a3["id"]}));
    EXPECT_EQ(whole.value("total", -1), 3);
    for (const auto& item : whole["items"]) EXPECT_EQ(item["tag"], a);

    EXPECT_EQ(this->list_ids("/notes?tag=" + a + "&pinned=true", &whole), (Ids{a1["id"], a3["id"]}));
    EXPECT_EQ(whole.value("total", -1), 2);
    EXPECT_EQ(this->list_ids("/notes?pinned=true&tag=" + a), (Ids{a1["id"], a3["id"]})) << "order of parameters";
    EXPECT_EQ(this->list_ids("/notes?tag=" + a + "&pinned=false"), (Ids{a2["id"]}));
    EXPECT_EQ(this->list_ids("/notes?tag=" + b + "&pinned=true"), (Ids{b1["id"]}));
    EXPECT_EQ(this->list_ids("/notes?tag=" + a + "&title=a2"), (Ids{a2["id"]}));
    EXPECT_EQ(this->list_ids("/notes?tag=" + a + "&id=" + std::to_string(a3["id"].get<std::int64_t>())),
              (Ids{a3["id"]}));
    EXPECT_EQ(this->list_ids("/notes?tag=" + unique_name("none"), &whole), Ids{});
    EXPECT_EQ(whole.value("total", -1), 0);
    // Equality, not a pattern: the tag's prefix matches nothing.
    EXPECT_EQ(this->list_ids("/notes?tag=" + a.substr(0, a.size() - 1)), Ids{});

    EXPECT_TRUE(IsProblem(this->get("/notes?pinned=maybe"), 400, "/notes"));
    EXPECT_TRUE(IsProblem(this->get("/notes?id=abc"), 400, "/notes"));
    EXPECT_TRUE(IsProblem(this->get("/notes?colour=red"), 400, "/notes"));
}

TYPED_TEST(DataApi, ListSorts) {
    const std::string tag = unique_name("t");
    json c = this->create({{"title", "c"}, {"tag", tag}});
    json a = this->create({{"title", "a"}, {"tag", tag}});
    json b = this->create({{"title", "b"}, {"tag", tag}});
    ASSERT_FALSE(a.is_null() || b.is_null() || c.is_null());
    using Ids = std::vector<std::int64_t>;
    const std::string base = "/notes?tag=" + tag;
    EXPECT_EQ(this->list_ids(base + "&sort=-id"), (Ids{b["id"], a["id"], c["id"]}));
    EXPECT_EQ(this->list_ids(base + "&sort=id"), (Ids{c["id"], a["id"], b["id"]}));
    EXPECT_EQ(this->list_ids(base + "&sort=title"), (Ids{a["id"], b["id"], c["id"]}));
    EXPECT_EQ(this->list_ids(base + "&sort=-title"), (Ids{c["id"], b["id"], a["id"]}));
    json page;
    EXPECT_EQ(this->list_ids(base + "&sort=-id&limit=1", &page), (Ids{b["id"]}));
    EXPECT_EQ(page.value("total", -1), 3);

    // Newest first over the whole collection: ours is the newest so far or
    // something newer (another test's) comes first.
    Ids newest = this->list_ids("/notes?sort=-id&limit=1");
    ASSERT_EQ(newest.size(), 1u);
    EXPECT_GE(newest[0], b["id"].get<std::int64_t>());

    EXPECT_TRUE(IsProblem(this->get("/notes?sort=colour"), 400, "/notes"));
    EXPECT_TRUE(IsProblem(this->get("/notes?sort=-colour"), 400, "/notes"));
}

// ---- replace, patch, delete ----

TYPED_TEST(DataApi, PutReplacesTheWholeRow) {
    const std::string tag = unique_name("t");
    json note = this->create(
        {{"title", "orig"}, {"body", "b"}, {"tag", tag}, {"pinned", true}, {"created", "2024-05-01T12:00:00Z"}});
    ASSERT_FALSE(note.is_null());
    const std::string path = item_path(note["id"]);

    Response r = this->send("PUT", path, {{"title", "replaced"}});
    ASSERT_TRUE(IsJson(r, 200));
    const json replaced = r.json();
    EXPECT_EQ(replaced["id"], note["id"]);
    EXPECT_EQ(replaced["title"], "replaced");
    EXPECT_TRUE(replaced["body"].is_null()) << "absent fields become null: " << r.body;
    EXPECT_TRUE(replaced["tag"].is_null()) << r.body;
    EXPECT_TRUE(replaced["created"].is_null()) << r.body;
    EXPECT_EQ(replaced["pinned"], false) << "absent fields with a default get it: " << r.body;

    Response read = this->get(path);
    ASSERT_TRUE(IsJson(read, 200));
    EXPECT_EQ(read.json(), replaced);

    // Repeating the row's own id in the body is fine (PUT back what was read).
    json full = replaced;
    full["title"] = "again";
    full["tag"] = tag;
    r = this->send("PUT", path, full);
    ASSERT_TRUE(IsJson(r, 200));
    EXPECT_EQ(r.json(), full);
}

TYPED_TEST(DataApi, PatchChangesOnlyTheGivenFields) {
    const std::string tag = unique_name("t");
    json note = this->create({{"title", "orig"}, {"body", "keep me"}, {"tag", tag}});
    ASSERT_FALSE(note.is_null());
    const std::string path = item_path(note["id"]);

    Response r = this->send("PATCH", path, {{"pinned", true}});
    ASSERT_TRUE(IsJson(r, 200));
    json expected = note;
    expected["pinned"] = true;
    EXPECT_EQ(r.json(), expected);

    r = this->send("PATCH", path, {{"body", nullptr}, {"title", "renamed"}});
    ASSERT_TRUE(IsJson(r, 200));
    expected["body"] = nullptr;
    expected["title"] = "renamed";
    EXPECT_EQ(r.json(), expected);

    r = this->send("PATCH", path, json::object());
    ASSERT_TRUE(IsJson(r, 200)) << "an empty patch changes nothing";
    EXPECT_EQ(r.json(), expected);

    Response read = this->get(path);
    ASSERT_TRUE(IsJson(read, 200));
    EXPECT_EQ(read.json(), expected);
}

TYPED_TEST(DataApi, DeleteAnswers204ThenTheRowIsGone) {
    const std::string tag = unique_name("t");
    json note = this->create({{"title", "doomed"}, {"tag", tag}});
    json other = this->create({{"title", "survivor"}, {"tag", tag}});
    ASSERT_FALSE(note.is_null() || other.is_null());
    const std::string path = item_path(note["id"]);

    Response r = this->del(path);
    EXPECT_EQ(r.status, 204) << r.dump();
    EXPECT_TRUE(r.body.empty()) << r.dump();

    EXPECT_TRUE(IsProblem(this->get(path), 404, path));
    EXPECT_TRUE(IsProblem(this->del(path), 404, path)) << "deleting twice";
    EXPECT_TRUE(IsProblem(this->send("PATCH", path, {{"title", "x"}}), 404, path));
    EXPECT_TRUE(IsProblem(this->send("PUT", path, {{"title", "x"}}), 404, path)) << "PUT does not resurrect";
    EXPECT_EQ(this->list_ids("/notes?tag=" + tag), std::vector<std::int64_t>{other["id"]});
}

// A text primary key can hold anything, '/' and '%' included: Location
// carries it percent-encoded as one path segment, and every operation on
// that path reaches the row.
TYPED_TEST(DataApi, TextKeysAreAddressedByTheirEncodedForm) {
    const std::string suffix = unique_name("s");  // letters and digits
    const std::string name = "sea green/blue 100% \"x\" " + suffix;
    const std::string encoded = "sea%20green%2Fblue%20100%25%20%22x%22%20" + suffix;
    Response r = this->send("POST", "/labels/swatches", {{"name", name}, {"hex", "#2e8b57"}});
    ASSERT_TRUE(IsJson(r, 201));
    EXPECT_EQ(r.json(), json({{"name", name}, {"hex", "#2e8b57"}}));
    const std::string path = "/labels/swatches/" + encoded;
    EXPECT_EQ(r.header("Location").value_or("<none>"), path);

    Response read = this->get(path);
    ASSERT_TRUE(IsJson(read, 200));
    EXPECT_EQ(read.json(), r.json());
    Response patched = this->send("PATCH", path, {{"hex", "#000000"}});
    ASSERT_TRUE(IsJson(patched, 200));
    EXPECT_EQ(patched.json().value("hex", ""), "#000000");
    EXPECT_EQ(patched.json().value("name", ""), name);
    EXPECT_EQ(this->del(path).status, 204);
    EXPECT_TRUE(IsProblem(this->get(path), 404, path));
}

TYPED_TEST(DataApi, MissingIdAnswers404) {
    const std::string path = "/notes/987654321";
    EXPECT_TRUE(IsProblem(this->get(path), 404, path));
    EXPECT_TRUE(IsProblem(this->send("PUT", path, {{"title", "x"}}), 404, path));
    EXPECT_TRUE(IsProblem(this->send("PATCH", path, {{"title", "x"}}), 404, path));
    EXPECT_TRUE(IsProblem(this->del(path), 404, path));
    EXPECT_TRUE(IsProblem(this->get(path + "/summary"), 404, path + "/summary"));
}

TYPED_TEST(DataApi, IdThatIsNotAnIntegerAnswers404) {
    for (std::string path : {"/notes/abc", "/notes/1.5", "/notes/1abc", "/notes/1%20OR%201=1",
                             "/notes/1%27%3B%20DROP%20TABLE%20note%3B%20--"}) {
        EXPECT_EQ(this->get(path).status, 404) << path;
        EXPECT_EQ(this->del(path).status, 404) << path;
        EXPECT_EQ(this->send("PATCH", path, {{"title", "x"}}).status, 404) << path;
    }
    EXPECT_TRUE(IsProblem(this->get("/notes/abc"), 404, "/notes/abc"));
    EXPECT_TRUE(IsJson(this->get("/notes?limit=1"), 200)) << "the table is still there";
}

// ---- validation ----

// field -> message of a 422 answer.
std::map<std::string, std::string> error_messages(const Response& r) {
    std::map<std::string, std::string> out;
    auto j = json::parse(r.body, nullptr, false);
    if (j.is_discarded() || !j.contains("errors")) return out;
    for (const auto& e : j["errors"]) out[e.value("field", "?")] = e.value("message", "");
    return out;
}

using Fields = std::vector<std::string>;

TYPED_TEST(DataApi, WrongTypesAre422ListingEachField) {
    const std::string tag = unique_name("t");
    Response r = this->send("POST", "/notes",
                            {{"title", 42}, {"body", json::array({"x"})}, {"tag", true}, {"pinned", "yes"}, {"created", 5}});
    ASSERT_TRUE(IsProblem(r, 422, "/notes"));
    EXPECT_EQ(error_fields(r), (Fields{"body", "created", "pinned", "tag", "title"})) << r.body;
    for (const auto& [field, message] : error_messages(r)) EXPECT_FALSE(message.empty()) << field;
    EXPECT_TRUE(Contains(error_messages(r)["title"], "string"));
    EXPECT_TRUE(Contains(error_messages(r)["pinned"], "true or false"));

    // One wrong field among valid ones is still refused, alone.
    r = this->send("POST", "/notes", {{"title", "ok"}, {"tag", tag}, {"pinned", 1}});
    ASSERT_TRUE(IsProblem(r, 422, "/notes"));
    EXPECT_EQ(error_fields(r), Fields{"pinned"}) << r.body;
    r = this->send("POST", "/notes", {{"title", "ok"}, {"tag", tag}, {"created", "yesterday"}});
    ASSERT_TRUE(IsProblem(r, 422, "/notes"));
    EXPECT_EQ(error_fields(r), Fields{"created"}) << r.body;

    EXPECT_EQ(this->list_ids("/notes?tag=" + tag), std::vector<std::int64_t>{}) << "nothing was stored";
}

TYPED_TEST(DataApi, MissingRequiredTitleIs422) {
    const std::string tag = unique_name("t");
    for (const json& body : {json{{"body", "no title"}, {"tag", tag}}, json{{"title", nullptr}, {"tag", tag}},
                             json{{"tag", tag}}}) {
        Response r = this->send("POST", "/notes", body);
        ASSERT_TRUE(IsProblem(r, 422, "/notes")) << body.dump();
        EXPECT_EQ(error_fields(r), Fields{"title"}) << r.body;
    }
    Response r = this->send("POST", "/notes", {{"tag", tag}});
    EXPECT_TRUE(Contains(error_messages(r)["title"], "required"));
    EXPECT_EQ(this->list_ids("/notes?tag=" + tag), std::vector<std::int64_t>{});
}

TYPED_TEST(DataApi, TooLongTextIs422CountingCharacters) {
    const std::string tag = unique_name("t");
    Response r = this->send("POST", "/notes", {{"title", std::string(201, 'x')}, {"tag", tag}});
    ASSERT_TRUE(IsProblem(r, 422, "/notes"));
    EXPECT_EQ(error_fields(r), Fields{"title"}) << r.body;
    EXPECT_TRUE(Contains(error_messages(r)["title"], "200"));

    r = this->send("POST", "/notes", {{"title", "ok"}, {"tag", std::string(41, 't')}});
    ASSERT_TRUE(IsProblem(r, 422, "/notes"));
    EXPECT_EQ(error_fields(r), Fields{"tag"}) << r.body;

    // Exactly the maximum is fine; the maximum is in characters, not bytes.
    json ok = this->create({{"title", std::string(200, 'x')}, {"tag", tag}});
    ASSERT_FALSE(ok.is_null());
    EXPECT_EQ(ok["title"], std::string(200, 'x'));
    std::string accented;
    for (int i = 0; i < 200; ++i) accented += "\xC3\xA9";  // é: 2 bytes, 1 character
    json wide = this->create({{"title", accented}, {"tag", tag}});
    ASSERT_FALSE(wide.is_null()) << "200 characters of 2 bytes each are 200 characters";
    EXPECT_EQ(wide["title"], accented);
    r = this->send("POST", "/notes", {{"title", accented + "\xC3\xA9"}, {"tag", tag}});
    EXPECT_TRUE(IsProblem(r, 422, "/notes"));
    EXPECT_EQ(this->list_ids("/notes?tag=" + tag).size(), 2u);
}

TYPED_TEST(DataApi, UnknownFieldIs422) {
    const std::string tag = unique_name("t");
    Response r = this->send("POST", "/notes", {{"title", "x"}, {"tag", tag}, {"colour", "red"}});
    ASSERT_TRUE(IsProblem(r, 422, "/notes"));
    EXPECT_EQ(error_fields(r), Fields{"colour"}) << r.body;
    EXPECT_TRUE(Contains(error_messages(r)["colour"], "not a field"));

    // Every problem at once, each field listed.
    r = this->send("POST", "/notes",
                   {{"title", std::string(201, 'x')}, {"pinned", 1}, {"colour", "red"}, {"size", 2}, {"tag", tag}});
    ASSERT_TRUE(IsProblem(r, 422, "/notes"));
    EXPECT_EQ(error_fields(r), (Fields{"colour", "pinned", "size", "title"})) << r.body;
    auto j = r.json();
    EXPECT_TRUE(j["detail"].is_string() && Contains(j["detail"].get<std::string>(), "colour")) << r.body;

    // The generated primary key cannot be chosen by the client.
    r = this->send("POST", "/notes", {{"id", 5}, {"title", "x"}, {"tag", tag}});
    ASSERT_TRUE(IsProblem(r, 422, "/notes"));
    EXPECT_EQ(error_fields(r), Fields{"id"}) << r.body;
    EXPECT_EQ(this->list_ids("/notes?tag=" + tag), std::vector<std::int64_t>{});
}

TYPED_TEST(DataApi, InvalidJsonIs400AndNotAnObjectIs422) {
    for (std::string body : {"{\"title\": \"x\",", "not json", "", "{\"title\": 'single'}"}) {
        Response r = send_raw_body(this->port(), "POST", "/notes", body);
        EXPECT_TRUE(IsProblem(r, 400, "/notes")) << "body: " << body;
    }
    for (std::string body : {"[\"title\"]", "\"title\"", "42", "null"}) {
        Response r = send_raw_body(this->port(), "POST", "/notes", body);
        EXPECT_TRUE(IsProblem(r, 422, "/notes")) << "body: " << body;
    }
}

TYPED_TEST(DataApi, PutAndPatchAreValidatedToo) {
    const std::string tag = unique_name("t");
    json note = this->create({{"title", "orig"}, {"body", "b"}, {"tag", tag}});
    json other = this->create({{"title", "other"}, {"tag", tag}});
    ASSERT_FALSE(note.is_null() || other.is_null());
    const std::string path = item_path(note["id"]);

    struct Case {
        const char* method;
        json body;
        Fields fields;
    };
    const std::vector<Case> cases = {
        {"PUT", {{"body", "no title"}}, {"title"}},
        {"PUT", {{"title", 5}}, {"title"}},
        {"PUT", {{"title", "x"}, {"colour", "red"}}, {"colour"}},
        {"PUT", {{"title", "x"}, {"id", other["id"]}}, {"id"}},
        {"PATCH", {{"title", 5}}, {"title"}},
        {"PATCH", {{"title", nullptr}}, {"title"}},
        {"PATCH", {{"title", std::string(201, 'y')}}, {"title"}},
        {"PATCH", {{"nope", 1}}, {"nope"}},
        {"PATCH", {{"pinned", "true"}}, {"pinned"}},
        {"PATCH", {{"id", other["id"]}}, {"id"}},
    };
    for (const auto& c : cases) {
        Response r = this->send(c.method, path, c.body);
        EXPECT_TRUE(IsProblem(r, 422, path)) << c.method << " " << c.body.dump();
        EXPECT_EQ(error_fields(r), c.fields) << c.method << " " << c.body.dump() << " -> " << r.body;
    }
    EXPECT_TRUE(IsProblem(send_raw_body(this->port(), "PATCH", path, "{oops"), 400, path));
    EXPECT_TRUE(IsProblem(send_raw_body(this->port(), "PUT", path, "{oops"), 400, path));

    Response read = this->get(path);
    ASSERT_TRUE(IsJson(read, 200));
    EXPECT_EQ(read.json(), note) << "refused updates changed nothing";
}

// ---- SQL metacharacters ----

TYPED_TEST(DataApi, SqlMetacharactersAreStoredVerbatimAndNeverExecuted) {
    const std::string uid = unique_name("");
    struct Value {
        std::string text, tag;
    };
    const std::vector<Value> values = {
        {"'); DROP TABLE note; --", "'); DROP TABLE note; --"},
        {"Robert'); DELETE FROM note WHERE ('1'='1", "' OR '1'='1"},
        {"O'Reilly \"quoted\" `backtick` ''doubled''", "\"; DROP TABLE note; --"},
        {"back\\slash \\' \\\" \\\\ \\n \\x00", "\\'; --"},
        {"100% _under_ [a-z]* %% _%", "%_%"},
        {"semi; colon -- comment /* block */ */", "/* x */ --"},
        {"$1 :id :title ? @p $$dollar$$ $tag$", ":id $1 ?"},
        {"h\xC3\xA9llo w\xC3\xB6rld \xE2\x9C\x93 \xE6\x97\xA5\xE6\x9C\xAC", "\xE2\x9C\x93 \xC3\xA9"},
        {"line\nbreak\ttab\r\nend", "a\tb\nc"},
    };
    std::vector<std::int64_t> ids;
    for (const auto& v : values) {
        const std::string tag = v.tag + uid;
        SCOPED_TRACE(v.text);
        Response r = this->send("POST", "/notes", {{"title", v.text}, {"body", v.text}, {"tag", tag}});
        ASSERT_TRUE(IsJson(r, 201));
        json note = r.json();
        EXPECT_EQ(note["title"], v.text);
        EXPECT_EQ(note["body"], v.text);
        EXPECT_EQ(note["tag"], tag);
        const std::int64_t id = note["id"];
        ids.push_back(id);

        Response read = this->get(item_path(id));
        ASSERT_TRUE(IsJson(read, 200));
        EXPECT_EQ(read.json(), note);

        // As a filter value: matches exactly this row.
        json whole;
        EXPECT_EQ(this->list_ids("/notes?tag=" + url_encode(tag), &whole), std::vector<std::int64_t>{id});
        EXPECT_EQ(this->list_ids("/notes?title=" + url_encode(v.text) + "&tag=" + url_encode(tag)),
                  std::vector<std::int64_t>{id});

        // Through a patch and a replace.
        r = this->send("PATCH", item_path(id), {{"body", v.text + v.text}});
        ASSERT_TRUE(IsJson(r, 200));
        EXPECT_EQ(r.json()["body"], v.text + v.text);
        r = this->send("PUT", item_path(id), {{"title", v.text}, {"body", v.text}, {"tag", tag}});
        ASSERT_TRUE(IsJson(r, 200));
        EXPECT_EQ(r.json(), note);
    }

    // Every row is still there, and so is the table.
    for (std::size_t i = 0; i < ids.size(); ++i) {
        Response read = this->get(item_path(ids[i]));
        ASSERT_TRUE(IsJson(read, 200)) << values[i].text;
        EXPECT_EQ(read.json()["title"], values[i].text);
    }
    Response all = this->get("/notes?limit=1");
    ASSERT_TRUE(IsJson(all, 200));
    EXPECT_GE(all.json().value("total", 0), static_cast<int>(values.size()));
    if (auto count = this->db().query("SELECT count(*) FROM notes_note")) {
        EXPECT_GE(std::stoi(*count), static_cast<int>(values.size())) << "counted directly in the database";
    }
}

// ---- custom handlers (trellis::Db) ----

TYPED_TEST(DataApi, SearchFindsByTitleAndBodyLiterally) {
    const std::string uid = unique_name("s");
    json a = this->create({{"title", uid + " 50% off"}, {"body", "discount"}});
    json b = this->create({{"title", uid + " 500 off"}, {"body", "no discount"}});
    json c = this->create({{"title", uid + " a_b"}});
    json d = this->create({{"title", uid + " axb"}, {"body", "x"}});
    json e = this->create({{"title", "plain"}, {"body", "the body mentions " + uid + " back\\slash"}});
    json f = this->create({{"title", uid + " back-slash"}});
    ASSERT_FALSE(a.is_null() || b.is_null() || c.is_null() || d.is_null() || e.is_null() || f.is_null());

    auto search = [&](const std::string& q) {
        std::vector<std::int64_t> ids;
        Response r = this->get("/notes/search?q=" + url_encode(q));
        EXPECT_TRUE(IsJson(r, 200)) << q;
        if (r.status != 200) return ids;
        json j = r.json();
        EXPECT_EQ(j.value("query", "<none>"), q);
        for (const auto& item : j.at("items")) {
            EXPECT_TRUE(item.contains("title")) << item.dump();
            ids.push_back(item.at("id"));
        }
        return ids;
    };
    using Ids = std::vector<std::int64_t>;
    EXPECT_EQ(search(uid + " 50%"), (Ids{a["id"]})) << "% is a literal, not a wildcard";
    EXPECT_EQ(search(uid + " 50"), (Ids{a["id"], b["id"]}));
    EXPECT_EQ(search(uid + " a_b"), (Ids{c["id"]})) << "_ is a literal, not a wildcard";
    EXPECT_EQ(search(uid + " back\\slash"), (Ids{e["id"]})) << "found in the body; \\ is a literal";
    EXPECT_EQ(search(uid), (Ids{a["id"], b["id"], c["id"], d["id"], e["id"], f["id"]}));
    EXPECT_EQ(search(uid + " nothing like this"), Ids{});
    EXPECT_EQ(search("'); DROP TABLE note; -- " + uid), Ids{});
    EXPECT_TRUE(IsJson(this->get("/notes?limit=1"), 200)) << "the table is still there";

    EXPECT_TRUE(IsProblem(this->get("/notes/search"), 400, "/notes/search"));
    EXPECT_TRUE(IsProblem(this->get("/notes/search?q="), 400, "/notes/search"));
}

TYPED_TEST(DataApi, SummaryGivesTitleAndBodyLength) {
    json note = this->create({{"title", "Sum"}, {"body", "hello world"}});
    json empty = this->create({{"title", "Empty"}});
    json wide = this->create({{"title", "Wide"}, {"body", "h\xC3\xA9llo"}});
    ASSERT_FALSE(note.is_null() || empty.is_null() || wide.is_null());

    Response r = this->get(item_path(note["id"]) + "/summary");
    ASSERT_TRUE(IsJson(r, 200));
    EXPECT_EQ(r.json(), (json{{"title", "Sum"}, {"chars", 11}}));

    r = this->get(item_path(empty["id"]) + "/summary");
    ASSERT_TRUE(IsJson(r, 200));
    EXPECT_EQ(r.json(), (json{{"title", "Empty"}, {"chars", 0}}));

    r = this->get(item_path(wide["id"]) + "/summary");
    ASSERT_TRUE(IsJson(r, 200));
    EXPECT_EQ(r.json(), (json{{"title", "Wide"}, {"chars", 5}})) << "length in characters on every backend";

    // After a patch the summary follows.
    ASSERT_TRUE(IsJson(this->send("PATCH", item_path(note["id"]), {{"body", "hi"}}), 200));
    r = this->get(item_path(note["id"]) + "/summary");
    ASSERT_TRUE(IsJson(r, 200));
    EXPECT_EQ(r.json().value("chars", -1), 2);
}

// ---- unique fields ----

TYPED_TEST(DataApi, UniqueViolationIs409) {
    const std::string tag = unique_name("l"), tag2 = unique_name("l");
    json first = this->create({{"tag", tag}, {"color", "red"}}, "/labels");
    ASSERT_FALSE(first.is_null());
    EXPECT_EQ(this->get("/labels/" + std::to_string(first["id"].get<std::int64_t>())).status, 200);

    // Several times in a row: each pooled session must recover from the
    // failed statement (on PostgreSQL, from the aborted transaction).
    for (int i = 0; i < 6; ++i) {
        Response r = this->send("POST", "/labels", {{"tag", tag}, {"color", "blue"}});
        EXPECT_TRUE(IsProblem(r, 409, "/labels")) << "attempt " << i;
    }
    json whole;
    EXPECT_EQ(this->list_ids("/labels?tag=" + tag, &whole), std::vector<std::int64_t>{first["id"]});
    EXPECT_EQ(whole["items"][0]["color"], "red") << "the first row is untouched";

    json second = this->create({{"tag", tag2}}, "/labels");
    ASSERT_FALSE(second.is_null()) << "the host still writes after conflicts";
    const std::string path2 = "/labels/" + std::to_string(second["id"].get<std::int64_t>());
    EXPECT_TRUE(IsProblem(this->send("PATCH", path2, {{"tag", tag}}), 409, path2));
    EXPECT_TRUE(IsProblem(this->send("PUT", path2, {{"tag", tag}, {"color", "x"}}), 409, path2));
    Response read = this->get(path2);
    ASSERT_TRUE(IsJson(read, 200));
    EXPECT_EQ(read.json()["tag"], tag2);

    // Writing the same value to its own row is no conflict.
    EXPECT_TRUE(IsJson(this->send("PATCH", path2, {{"tag", tag2}, {"color", "green"}}), 200));
    // And the notes resource is unaffected by the conflicts on labels.
    EXPECT_FALSE(this->create({{"title", "after conflicts"}}).is_null());
}

// ---- transactions: the labels plugin's POST /batch (trellis::DbTransaction) ----

// A JSON array of the given labels.
json label_batch(std::initializer_list<json> labels) {
    json batch = json::array();
    for (const auto& label : labels) batch.push_back(label);
    return batch;
}

TYPED_TEST(DataApi, BatchInsertInATransactionCommitsEveryLabel) {
    const std::string a = unique_name("ba"), b = unique_name("bb"), c = unique_name("bc");
    const json batch = label_batch({{{"tag", a}, {"color", "red"}}, {{"tag", b}}, {{"tag", c}, {"color", "blue"}}});
    Response r = this->send("POST", "/labels/batch", batch);
    ASSERT_TRUE(IsJson(r, 201));
    EXPECT_EQ(r.json().value("inserted", -1), 3) << r.body;

    const std::map<std::string, json> colors = {{a, "red"}, {b, nullptr}, {c, "blue"}};
    for (const auto& [tag, color] : colors) {
        json whole;
        EXPECT_EQ(this->list_ids("/labels?tag=" + tag, &whole).size(), 1u) << tag << " committed";
        if (whole.contains("items") && whole["items"].size() == 1) {
            EXPECT_EQ(whole["items"][0]["color"], color) << tag;
        }
    }
}

TYPED_TEST(DataApi, BatchWithADuplicateTagAnswers409AndStoresNone) {
    // A tag repeated inside the batch: the third insert violates the unique
    // constraint after two inserts succeeded; they must be rolled back.
    const std::string a = unique_name("da"), b = unique_name("db");
    const json batch = label_batch({{{"tag", a}, {"color", "red"}}, {{"tag", b}}, {{"tag", a}, {"color", "blue"}}});
    Response r = this->send("POST", "/labels/batch", batch);
    EXPECT_TRUE(IsProblem(r, 409, "/labels/batch"));
    EXPECT_EQ(this->list_ids("/labels?tag=" + a), std::vector<std::int64_t>{}) << "rolled back";
    EXPECT_EQ(this->list_ids("/labels?tag=" + b), std::vector<std::int64_t>{}) << "rolled back";

    // A tag already stored: the new label before it is rolled back, the
    // stored row is untouched.
    const std::string taken = unique_name("dt"), fresh = unique_name("df");
    json kept = this->create({{"tag", taken}, {"color", "red"}}, "/labels");
    ASSERT_FALSE(kept.is_null());
    r = this->send("POST", "/labels/batch", label_batch({{{"tag", fresh}}, {{"tag", taken}, {"color", "blue"}}}));
    EXPECT_TRUE(IsProblem(r, 409, "/labels/batch"));
    EXPECT_EQ(this->list_ids("/labels?tag=" + fresh), std::vector<std::int64_t>{}) << "rolled back";
    json whole;
    EXPECT_EQ(this->list_ids("/labels?tag=" + taken, &whole), std::vector<std::int64_t>{kept["id"]});
    if (whole.contains("items") && whole["items"].size() == 1) {
        EXPECT_EQ(whole["items"][0]["color"], "red") << "the stored row is untouched";
    }

    // After the rollbacks the host's sessions still write: the same batch
    // without the duplicate commits.
    r = this->send("POST", "/labels/batch", label_batch({{{"tag", a}}, {{"tag", b}}, {{"tag", fresh}}}));
    ASSERT_TRUE(IsJson(r, 201));
    EXPECT_EQ(r.json().value("inserted", -1), 3) << r.body;
    for (const auto& tag : {a, b, fresh}) EXPECT_EQ(this->list_ids("/labels?tag=" + tag).size(), 1u) << tag;
}

// Writers on several connections at once (the pool's sessions in parallel;
// on SQLite, one file with several writers): every write is acknowledged
// and every acknowledged row is there.
TYPED_TEST(DataApi, ConcurrentWritesAllSucceed) {
    constexpr int kClients = 4, kPerClient = 40;
    const std::string tag = unique_name("c");
    std::vector<std::vector<int>> statuses(kClients);
    std::vector<std::thread> clients;
    for (int c = 0; c < kClients; ++c) {
        clients.emplace_back([&, c] {
            try {
                Connection conn(this->port());
                for (int i = 0; i < kPerClient; ++i) {
                    json body = {{"title", "c" + std::to_string(c) + " #" + std::to_string(i)}, {"tag", tag}};
                    Response r = conn.request("POST", "/notes", {{"Content-Type", "application/json"}}, body.dump());
                    statuses[c].push_back(r.status);
                    if (r.status == 201) {
                        const std::string path = item_path(r.json().at("id"));
                        statuses[c].push_back(conn.request("PATCH", path, {{"Content-Type", "application/json"}},
                                                           json{{"pinned", true}}.dump())
                                                  .status);
                    }
                }
            } catch (const std::exception&) {
                statuses[c].push_back(-1);
            }
        });
    }
    for (auto& t : clients) t.join();
    std::map<int, int> histogram;
    for (const auto& s : statuses)
        for (int status : s) ++histogram[status];
    std::string seen;
    for (const auto& [status, n] : histogram) seen += " " + std::to_string(status) + " x" + std::to_string(n);
    EXPECT_EQ(histogram[201], kClients * kPerClient) << "statuses:" << seen;
    EXPECT_EQ(histogram[200], kClients * kPerClient) << "statuses:" << seen;
    json page;
    this->list_ids("/notes?tag=" + tag + "&pinned=true&limit=1000", &page);
    EXPECT_EQ(page.value("total", -1), histogram[200]);
}

TYPED_TEST(DataApi, NonDatabaseRoutesAnswerBesideTheResource) {
    EXPECT_EQ(this->get("/hello").status, 200);
    EXPECT_TRUE(IsJson(this->get("/notes?limit=1"), 200));
    EXPECT_TRUE(IsProblem(this->get("/notes/1/nothing"), 404, "/notes/1/nothing"));
    EXPECT_EQ(this->send("POST", "/notes/5", {{"title", "x"}}).status, 405) << "item routes do not take POST";
}

}  // namespace
}  // namespace e2e::data
