#include "app/router.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

using trellis::app::join_mount;
using trellis::app::percent_decode;
using trellis::app::RouteError;
using trellis::app::RouteMatch;
using trellis::app::Router;
using Kind = trellis::app::RouteMatch::Kind;
using Params = std::vector<std::pair<std::string, std::string>>;

namespace {

// Expects Found with the given target and returns the match.
RouteMatch found(const Router& r, std::string_view method, std::string_view path, std::uint32_t target) {
    RouteMatch m = r.match(method, path);
    EXPECT_EQ(m.kind, Kind::Found) << method << " " << path;
    EXPECT_EQ(m.target, target) << method << " " << path;
    return m;
}

void not_found(const Router& r, std::string_view method, std::string_view path) {
    RouteMatch m = r.match(method, path);
    EXPECT_EQ(m.kind, Kind::NotFound) << method << " " << path << " matched target " << m.target;
    EXPECT_TRUE(m.params.empty());
    EXPECT_TRUE(m.allow.empty());
}

void not_allowed(const Router& r, std::string_view method, std::string_view path, std::string_view allow) {
    RouteMatch m = r.match(method, path);
    EXPECT_EQ(m.kind, Kind::MethodNotAllowed) << method << " " << path;
    EXPECT_EQ(m.allow, allow) << method << " " << path;
}

// add() must throw a RouteError whose message contains every fragment.
void add_fails(Router& r, const std::string& method, const std::string& tmpl,
               std::initializer_list<std::string> fragments) {
    try {
        r.add(method, tmpl, 999);
        ADD_FAILURE() << "expected RouteError for " << method << " " << tmpl;
    } catch (const RouteError& e) {
        std::string msg = e.what();
        for (const auto& f : fragments) EXPECT_NE(msg.find(f), std::string::npos) << "'" << f << "' not in: " << msg;
    }
}

}  // namespace

// ---------------------------------------------------------------- static

TEST(Router, RootMatchesOnlyRoot) {
    Router r;
    r.add("GET", "/", 1);
    RouteMatch m = found(r, "GET", "/", 1);
    EXPECT_EQ(m.pattern, "/");
    EXPECT_TRUE(m.params.empty());
    not_found(r, "GET", "/x");
    not_found(r, "GET", "//");
}

TEST(Router, StaticSegments) {
    Router r;
    r.add("GET", "/hello", 1);
    r.add("GET", "/hello/world", 2);
    r.add("GET", "/api/v1/status", 3);
    found(r, "GET", "/hello", 1);
    found(r, "GET", "/hello/world", 2);
    found(r, "GET", "/api/v1/status", 3);
    not_found(r, "GET", "/");
    not_found(r, "GET", "/hell");
    not_found(r, "GET", "/hello/worl");
    not_found(r, "GET", "/hello/world/x");
    not_found(r, "GET", "/api/v1");
    not_found(r, "GET", "/Hello");  // case-sensitive
}

TEST(Router, EmptyOrRelativePathIsNotFound) {
    Router r;
    r.add("GET", "/", 1);
    r.add("GET", "/hello", 2);
    not_found(r, "GET", "");
    not_found(r, "GET", "hello");
    not_found(r, "GET", "*");
}

TEST(Router, TrailingSlashIsSignificant) {
    Router r;
    r.add("GET", "/hello", 1);
    r.add("GET", "/dir/{name}", 2);
    found(r, "GET", "/hello", 1);
    not_found(r, "GET", "/hello/");
    not_found(r, "GET", "/dir/");
    not_found(r, "GET", "/dir/a/");
    not_found(r, "GET", "//hello");
    not_found(r, "GET", "/dir//a");
}

TEST(Router, PatternViewsRouterStorage) {
    Router r;
    r.add("GET", "/notes/{id:int}", 7);
    std::string_view pattern;
    {
        std::string path = "/notes/12";
        pattern = r.match("GET", path).pattern;
    }
    // Many more routes: the storage must not move.
    for (std::uint32_t i = 0; i < 500; ++i) r.add("GET", "/p" + std::to_string(i), i);
    EXPECT_EQ(pattern, "/notes/{id:int}");
    Router moved = std::move(r);
    EXPECT_EQ(pattern, "/notes/{id:int}");
    EXPECT_EQ(moved.match("GET", "/notes/3").pattern.data(), pattern.data());
}

// ---------------------------------------------------------------- params

TEST(Router, StrParam) {
    Router r;
    r.add("GET", "/users/{name}", 1);
    r.add("GET", "/users/{name:str}/posts/{post}", 2);
    RouteMatch m = found(r, "GET", "/users/alice", 1);
    EXPECT_EQ(m.params, (Params{{"name", "alice"}}));
    EXPECT_EQ(m.pattern, "/users/{name}");
    m = found(r, "GET", "/users/bob/posts/first-post", 2);
    EXPECT_EQ(m.params, (Params{{"name", "bob"}, {"post", "first-post"}}));
    EXPECT_EQ(m.pattern, "/users/{name:str}/posts/{post}");
    not_found(r, "GET", "/users");
    not_found(r, "GET", "/users/");
    not_found(r, "GET", "/users/bob/posts");
}

TEST(Router, IntParam) {
    Router r;
    r.add("GET", "/notes/{id:int}", 1);
    EXPECT_EQ(found(r, "GET", "/notes/42", 1).params, (Params{{"id", "42"}}));
    EXPECT_EQ(found(r, "GET", "/notes/-7", 1).params, (Params{{"id", "-7"}}));
    EXPECT_EQ(found(r, "GET", "/notes/0", 1).params, (Params{{"id", "0"}}));
    EXPECT_EQ(found(r, "GET", "/notes/007", 1).params, (Params{{"id", "007"}}));
    EXPECT_EQ(found(r, "GET", "/notes/9223372036854775807", 1).params, (Params{{"id", "9223372036854775807"}}));
    EXPECT_EQ(found(r, "GET", "/notes/-9223372036854775808", 1).params,
              (Params{{"id", "-9223372036854775808"}}));
    // Encoded digits are decoded first.
    EXPECT_EQ(found(r, "GET", "/notes/%34%32", 1).params, (Params{{"id", "42"}}));
    not_found(r, "GET", "/notes/abc");
    not_found(r, "GET", "/notes/12abc");
    not_found(r, "GET", "/notes/+5");
    not_found(r, "GET", "/notes/-");
    not_found(r, "GET", "/notes/1.5");
    not_found(r, "GET", "/notes/ 1");
    not_found(r, "GET", "/notes/9223372036854775808");    // int64 max + 1
    not_found(r, "GET", "/notes/-9223372036854775809");   // int64 min - 1
    not_found(r, "GET", "/notes/99999999999999999999");   // 20 digits
    not_found(r, "GET", "/notes/00000000000000000001");   // 20 digits, small value
    not_found(r, "GET", "/notes/");
}

TEST(Router, IntOverflowFallsBackToStr) {
    Router r;
    r.add("GET", "/n/{id:int}", 1);
    r.add("GET", "/n/{slug}", 2);
    found(r, "GET", "/n/9223372036854775807", 1);
    EXPECT_EQ(found(r, "GET", "/n/99999999999999999999", 2).params,
              (Params{{"slug", "99999999999999999999"}}));
}

TEST(Router, PathParamCapturesSeveralSegments) {
    Router r;
    r.add("GET", "/static/{file:path}", 1);
    EXPECT_EQ(found(r, "GET", "/static/app.js", 1).params, (Params{{"file", "app.js"}}));
    EXPECT_EQ(found(r, "GET", "/static/css/site/main.css", 1).params, (Params{{"file", "css/site/main.css"}}));
    EXPECT_EQ(found(r, "GET", "/static/a%20b/c%2Fd", 1).params, (Params{{"file", "a b/c/d"}}));
    not_found(r, "GET", "/static");
    not_found(r, "GET", "/static/");
    not_found(r, "GET", "/static/css/");
    not_found(r, "GET", "/static/css//x");
    not_found(r, "GET", "/static/a/%zz");
}

TEST(Router, PathParamAtRootMount) {
    Router r;
    r.add("GET", "/{rest:path}", 1);
    r.add("GET", "/", 2);
    found(r, "GET", "/", 2);
    EXPECT_EQ(found(r, "GET", "/a/b/c", 1).params, (Params{{"rest", "a/b/c"}}));
}

TEST(Router, ParamsAfterStaticAndMixed) {
    Router r;
    r.add("PUT", "/orgs/{org}/repos/{id:int}/files/{p:path}", 5);
    RouteMatch m = found(r, "PUT", "/orgs/acme/repos/12/files/src/main.cpp", 5);
    EXPECT_EQ(m.params, (Params{{"org", "acme"}, {"id", "12"}, {"p", "src/main.cpp"}}));
    not_found(r, "PUT", "/orgs/acme/repos/x/files/src/main.cpp");
}

TEST(Router, SameShapeDifferentMethodsMayUseDifferentNames) {
    Router r;
    r.add("GET", "/items/{id}", 1);
    r.add("DELETE", "/items/{key}", 2);
    EXPECT_EQ(found(r, "GET", "/items/a", 1).params, (Params{{"id", "a"}}));
    RouteMatch m = found(r, "DELETE", "/items/a", 2);
    EXPECT_EQ(m.params, (Params{{"key", "a"}}));
    EXPECT_EQ(m.pattern, "/items/{key}");
}

// ---------------------------------------------------------------- precedence

TEST(Router, PrecedenceStaticIntStrPath) {
    Router r;
    r.add("GET", "/notes/{rest:path}", 4);
    r.add("GET", "/notes/{slug}", 3);
    r.add("GET", "/notes/{id:int}", 2);
    r.add("GET", "/notes/new", 1);
    found(r, "GET", "/notes/new", 1);
    EXPECT_EQ(found(r, "GET", "/notes/42", 2).params, (Params{{"id", "42"}}));
    EXPECT_EQ(found(r, "GET", "/notes/abc", 3).params, (Params{{"slug", "abc"}}));
    EXPECT_EQ(found(r, "GET", "/notes/a/b", 4).params, (Params{{"rest", "a/b"}}));
    // Insertion order does not matter.
    Router r2;
    r2.add("GET", "/notes/new", 1);
    r2.add("GET", "/notes/{id:int}", 2);
    r2.add("GET", "/notes/{slug}", 3);
    r2.add("GET", "/notes/{rest:path}", 4);
    found(r2, "GET", "/notes/new", 1);
    found(r2, "GET", "/notes/42", 2);
    found(r2, "GET", "/notes/abc", 3);
    found(r2, "GET", "/notes/a/b", 4);
}

TEST(Router, PrecedenceIsLeftmostFirst) {
    Router r;
    r.add("GET", "/a/{x}", 1);          // static then str
    r.add("GET", "/{y}/b", 2);          // str then static
    // Both match "/a/b": the first segment decides (static beats str).
    EXPECT_EQ(found(r, "GET", "/a/b", 1).params, (Params{{"x", "b"}}));
    EXPECT_EQ(found(r, "GET", "/z/b", 2).params, (Params{{"y", "z"}}));
}

TEST(Router, BacktracksFromStaticToParams) {
    Router r;
    r.add("GET", "/notes/new/form", 1);
    r.add("GET", "/notes/{id}/edit", 2);
    r.add("GET", "/notes/{id:int}/history", 3);
    r.add("GET", "/notes/{all:path}", 4);
    found(r, "GET", "/notes/new/form", 1);
    EXPECT_EQ(found(r, "GET", "/notes/new/edit", 2).params, (Params{{"id", "new"}}));
    EXPECT_EQ(found(r, "GET", "/notes/5/history", 3).params, (Params{{"id", "5"}}));
    EXPECT_EQ(found(r, "GET", "/notes/5/edit", 2).params, (Params{{"id", "5"}}));
    EXPECT_EQ(found(r, "GET", "/notes/new/history", 4).params, (Params{{"all", "new/history"}}));
    EXPECT_EQ(found(r, "GET", "/notes/new", 4).params, (Params{{"all", "new"}}));
}

TEST(Router, DeepBacktracking) {
    Router r;
    r.add("GET", "/a/b/c/d", 1);
    r.add("GET", "/a/{x}/c/e", 2);
    r.add("GET", "/{x}/{y}/{z}/f", 3);
    found(r, "GET", "/a/b/c/d", 1);
    EXPECT_EQ(found(r, "GET", "/a/b/c/e", 2).params, (Params{{"x", "b"}}));
    EXPECT_EQ(found(r, "GET", "/a/b/c/f", 3).params, (Params{{"x", "a"}, {"y", "b"}, {"z", "c"}}));
    not_found(r, "GET", "/a/b/c/g");
}

// ---------------------------------------------------------------- methods

TEST(Router, MethodNotAllowedListsAllow) {
    Router r;
    r.add("POST", "/notes", 1);
    r.add("GET", "/notes", 2);
    r.add("DELETE", "/notes/{id:int}", 3);
    found(r, "POST", "/notes", 1);
    found(r, "GET", "/notes", 2);
    not_allowed(r, "PUT", "/notes", "GET, HEAD, POST");
    not_allowed(r, "GET", "/notes/3", "DELETE");
    not_allowed(r, "HEAD", "/notes/3", "DELETE");
    not_found(r, "GET", "/notes/x");    // int doesn't parse: no template matches
    not_found(r, "PUT", "/nothing");
}

TEST(Router, MethodsAreExactUpperCase) {
    Router r;
    r.add("GET", "/x", 1);
    not_allowed(r, "get", "/x", "GET, HEAD");
    not_allowed(r, "Get", "/x", "GET, HEAD");
}

TEST(Router, HeadFallsBackToGet) {
    Router r;
    r.add("GET", "/page", 1);
    RouteMatch m = found(r, "HEAD", "/page", 1);
    EXPECT_EQ(m.pattern, "/page");
    r.add("HEAD", "/page", 2);
    found(r, "HEAD", "/page", 2);  // an explicit HEAD route wins
    found(r, "GET", "/page", 1);
}

TEST(Router, HeadWithoutGetIsNotAllowed) {
    Router r;
    r.add("POST", "/form", 1);
    not_allowed(r, "HEAD", "/form", "POST");
}

TEST(Router, ExplicitHeadIsListedOnce) {
    Router r;
    r.add("GET", "/x", 1);
    r.add("HEAD", "/x", 2);
    r.add("OPTIONS", "/x", 3);
    not_allowed(r, "DELETE", "/x", "GET, HEAD, OPTIONS");
}

TEST(Router, MethodResolutionConsidersEveryMatchingTemplate) {
    Router r;
    r.add("GET", "/notes/{id:int}", 1);
    r.add("DELETE", "/notes/{slug}", 2);
    found(r, "GET", "/notes/5", 1);
    // The int template doesn't allow DELETE; the str one does.
    EXPECT_EQ(found(r, "DELETE", "/notes/5", 2).params, (Params{{"slug", "5"}}));
    found(r, "DELETE", "/notes/abc", 2);
    // abc only matches {slug}: its methods alone.
    not_allowed(r, "GET", "/notes/abc", "DELETE");
    // 5 matches both templates: the union.
    not_allowed(r, "PATCH", "/notes/5", "DELETE, GET, HEAD");
}

TEST(Router, MostSpecificTemplateAcceptingTheMethodWins) {
    Router r;
    r.add("GET", "/f/{p:path}", 4);
    r.add("PUT", "/f/{name}", 3);
    r.add("PUT", "/f/{id:int}", 2);
    r.add("POST", "/f/upload", 1);
    found(r, "PUT", "/f/9", 2);
    found(r, "PUT", "/f/upload", 3);  // static has no PUT: next most specific
    found(r, "GET", "/f/upload", 4);
    found(r, "HEAD", "/f/upload", 4);
    found(r, "POST", "/f/upload", 1);
    not_allowed(r, "DELETE", "/f/upload", "GET, HEAD, POST, PUT");
    not_allowed(r, "DELETE", "/f/a/b", "GET, HEAD");
}

TEST(Router, HeadFallbackFollowsSpecificity) {
    Router r;
    r.add("GET", "/h/{id:int}", 1);
    r.add("HEAD", "/h/{s}", 2);
    // The int template accepts HEAD through GET and is more specific.
    found(r, "HEAD", "/h/5", 1);
    found(r, "HEAD", "/h/x", 2);
}

// ---------------------------------------------------------------- conflicts

TEST(Router, ConflictNamesBothTemplates) {
    Router r;
    r.add("GET", "/notes/{id:int}", 11);
    add_fails(r, "GET", "/notes/{nid:int}", {"/notes/{nid:int}", "/notes/{id:int}", "GET", "11"});
    // The failed add left the router intact.
    EXPECT_EQ(r.size(), 1u);
    EXPECT_EQ(found(r, "GET", "/notes/3", 11).params, (Params{{"id", "3"}}));
}

TEST(Router, ConflictOnIdenticalAndEquivalentTemplates) {
    Router r;
    r.add("GET", "/a/{x}/b", 1);
    r.add("GET", "/p/{rest:path}", 2);
    r.add("GET", "/ab", 3);
    add_fails(r, "GET", "/a/{x}/b", {"'/a/{x}/b'"});
    add_fails(r, "GET", "/a/{y:str}/b", {"/a/{y:str}/b", "/a/{x}/b"});
    add_fails(r, "GET", "/p/{other:path}", {"/p/{other:path}", "/p/{rest:path}"});
    add_fails(r, "GET", "/a%62", {"/a%62", "/ab"});  // same decoded static text
}

TEST(Router, NoConflictForDifferentTypesOrMethods) {
    Router r;
    r.add("GET", "/x/{a}", 1);
    EXPECT_NO_THROW(r.add("GET", "/x/{a:int}", 2));
    EXPECT_NO_THROW(r.add("GET", "/x/{a:path}", 3));
    EXPECT_NO_THROW(r.add("POST", "/x/{a}", 4));
    EXPECT_NO_THROW(r.add("GET", "/x/a", 5));
    EXPECT_NO_THROW(r.add("HEAD", "/x/{a}", 6));
    EXPECT_EQ(r.size(), 6u);
}

// ---------------------------------------------------------------- malformed templates

TEST(Router, MalformedTemplates) {
    Router r;
    add_fails(r, "GET", "", {"''", "start with '/'"});
    add_fails(r, "GET", "hello", {"'hello'", "must start with '/'"});
    add_fails(r, "GET", "/a//b", {"'/a//b'", "empty segment"});
    add_fails(r, "GET", "/a/", {"'/a/'", "trailing '/'"});
    add_fails(r, "GET", "//", {"'//'"});
    add_fails(r, "GET", "/a/{x}/{x}", {"'/a/{x}/{x}'", "'x'", "used twice"});
    add_fails(r, "GET", "/a/{x:int}/{x:str}", {"used twice"});
    add_fails(r, "GET", "/a/{x:float}", {"'/a/{x:float}'", "unknown type 'float'"});
    add_fails(r, "GET", "/a/{x:}", {"unknown type ''"});
    add_fails(r, "GET", "/a/{}", {"'/a/{}'", "not an identifier"});
    add_fails(r, "GET", "/a/{1x}", {"'1x'", "not an identifier"});
    add_fails(r, "GET", "/a/{x-y}", {"not an identifier"});
    add_fails(r, "GET", "/a/pre{x}", {"'/a/pre{x}'", "braces"});
    add_fails(r, "GET", "/a/{x}post", {"'/a/{x}post'"});
    add_fails(r, "GET", "/a/b}", {"braces"});
    add_fails(r, "GET", "/a/{x", {"'/a/{x'"});
    add_fails(r, "GET", "/a/{{x}}", {"'/a/{{x}}'"});
    add_fails(r, "GET", "/a/{p:path}/b", {"'/a/{p:path}/b'", "last segment"});
    add_fails(r, "GET", "/a/%zz", {"'/a/%zz'", "percent"});
    add_fails(r, "GET", "/a?b=1", {"'/a?b=1'"});
    EXPECT_EQ(r.size(), 0u);
    not_found(r, "GET", "/a/b");
}

TEST(Router, MalformedMethods) {
    Router r;
    add_fails(r, "get", "/a", {"'get'", "upper case"});
    add_fails(r, "", "/a", {"empty method"});
    add_fails(r, "GE T", "/a", {"'GE T'"});
    EXPECT_NO_THROW(r.add("M-SEARCH", "/a", 1));
    found(r, "M-SEARCH", "/a", 1);
}

TEST(Router, ValidTemplateEdgeCases) {
    Router r;
    EXPECT_NO_THROW(r.add("GET", "/_x/{_a1}/{B_2:int}", 1));
    EXPECT_NO_THROW(r.add("GET", "/a%20b", 2));
    EXPECT_NO_THROW(r.add("GET", "/with.dot/~tilde", 3));
    EXPECT_EQ(found(r, "GET", "/_x/v/3", 1).params, (Params{{"_a1", "v"}, {"B_2", "3"}}));
    found(r, "GET", "/a%20b", 2);
    found(r, "GET", "/with.dot/~tilde", 3);
    found(r, "GET", "/with.dot/%7Etilde", 3);
}

// ---------------------------------------------------------------- percent-decoding in match

TEST(Router, StaticSegmentsCompareDecoded) {
    Router r;
    r.add("GET", "/hello/world", 1);
    found(r, "GET", "/hello/w%6Frld", 1);
    found(r, "GET", "/hello/w%6frld", 1);
    found(r, "GET", "/%68%65%6C%6C%6F/world", 1);
    not_found(r, "GET", "/hello%2Fworld");  // one segment "hello/world"
}

TEST(Router, EncodedSlashStaysInItsSegment) {
    Router r;
    r.add("GET", "/files/{name}", 1);
    r.add("GET", "/files/{name}/meta", 2);
    EXPECT_EQ(found(r, "GET", "/files/a%2Fb", 1).params, (Params{{"name", "a/b"}}));
    EXPECT_EQ(found(r, "GET", "/files/a%2fb/meta", 2).params, (Params{{"name", "a/b"}}));
    EXPECT_EQ(found(r, "GET", "/files/caf%C3%A9%20au%20lait", 1).params,
              (Params{{"name", "caf\xC3\xA9 au lait"}}));
    // '+' is not a space in a path.
    EXPECT_EQ(found(r, "GET", "/files/a+b", 1).params, (Params{{"name", "a+b"}}));
}

TEST(Router, MalformedEscapeIsNotFound) {
    Router r;
    r.add("GET", "/files/{name}", 1);
    r.add("GET", "/{all:path}", 2);
    r.add("POST", "/files/{name}", 3);
    not_found(r, "GET", "/files/%zz");
    not_found(r, "GET", "/files/%4");
    not_found(r, "GET", "/files/%");
    not_found(r, "GET", "/files/ab%g1");
    not_found(r, "GET", "/%zz/files");
    not_found(r, "PUT", "/files/%4");   // not 405 either
    found(r, "GET", "/files/%41", 1);
}

TEST(Router, NoEscapesMeansNoDecodingSurprises) {
    Router r;
    r.add("GET", "/q/{v}", 1);
    EXPECT_EQ(found(r, "GET", "/q/a=b&c", 1).params, (Params{{"v", "a=b&c"}}));
    EXPECT_EQ(found(r, "GET", "/q/%25", 1).params, (Params{{"v", "%"}}));
    EXPECT_EQ(found(r, "GET", "/q/%2525", 1).params, (Params{{"v", "%25"}}));
}

// ---------------------------------------------------------------- scale

TEST(Router, ManyRoutes) {
    Router r;
    std::uint32_t t = 0;
    for (int i = 0; i < 300; ++i) {
        std::string base = "/svc" + std::to_string(i);
        r.add("GET", base, t++);
        r.add("POST", base, t++);
        r.add("GET", base + "/{id:int}", t++);
        r.add("PUT", base + "/{id:int}", t++);
        r.add("GET", base + "/{slug}/items/{n:int}", t++);
        r.add("GET", base + "/static/{f:path}", t++);
    }
    EXPECT_EQ(r.size(), 1800u);
    for (int i = 0; i < 300; i += 7) {
        std::string base = "/svc" + std::to_string(i);
        std::uint32_t b = static_cast<std::uint32_t>(i) * 6;
        found(r, "GET", base, b);
        found(r, "POST", base, b + 1);
        EXPECT_EQ(found(r, "GET", base + "/12", b + 2).params, (Params{{"id", "12"}}));
        found(r, "PUT", base + "/12", b + 3);
        EXPECT_EQ(found(r, "GET", base + "/x/items/3", b + 4).params, (Params{{"slug", "x"}, {"n", "3"}}));
        EXPECT_EQ(found(r, "GET", base + "/static/a/b.css", b + 5).params, (Params{{"f", "a/b.css"}}));
        not_allowed(r, "DELETE", base, "GET, HEAD, POST");
        not_allowed(r, "POST", base + "/12", "GET, HEAD, PUT");
        not_found(r, "GET", base + "/x/items/y");
    }
    not_found(r, "GET", "/svc300");
    not_found(r, "GET", "/svc");
}

TEST(Router, VeryDeepRequestPath) {
    Router r;
    r.add("GET", "/deep/{p:path}", 1);
    r.add("GET", "/a/b", 2);
    std::string path = "/deep";
    for (int i = 0; i < 200; ++i) path += "/s" + std::to_string(i);
    RouteMatch m = found(r, "GET", path, 1);
    ASSERT_EQ(m.params.size(), 1u);
    EXPECT_EQ(m.params[0].second, path.substr(6));
    std::string nothing;
    for (int i = 0; i < 5000; ++i) nothing += "/a";
    not_found(r, "GET", nothing);
}

TEST(Router, ConcurrentReaders) {
    Router r;
    r.add("GET", "/notes/{id:int}", 1);
    r.add("GET", "/notes/{slug}", 2);
    r.add("DELETE", "/notes/{slug}", 3);
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&r, &failures, t] {
            for (int i = 0; i < 2000; ++i) {
                std::string id = std::to_string(i * 4 + t);
                RouteMatch a = r.match("GET", "/notes/" + id);
                RouteMatch b = r.match("DELETE", "/notes/%41" + id);
                RouteMatch c = r.match("PUT", "/notes/" + id);
                if (a.kind != Kind::Found || a.target != 1 || a.params[0].second != id) ++failures;
                if (b.kind != Kind::Found || b.target != 3 || b.params[0].second != "A" + id) ++failures;
                if (c.kind != Kind::MethodNotAllowed || c.allow != "DELETE, GET, HEAD") ++failures;
            }
        });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(failures.load(), 0);
}

// ---------------------------------------------------------------- join_mount

TEST(JoinMount, Cases) {
    EXPECT_EQ(join_mount("/", "/hello"), "/hello");
    EXPECT_EQ(join_mount("/api/notes", "/"), "/api/notes");
    EXPECT_EQ(join_mount("/api/notes", "/{id:int}"), "/api/notes/{id:int}");
    EXPECT_EQ(join_mount("/", "/"), "/");
    EXPECT_EQ(join_mount("", "/"), "/");
    EXPECT_EQ(join_mount("", "/x"), "/x");
    EXPECT_EQ(join_mount("/api/", "/x"), "/api/x");
    EXPECT_EQ(join_mount("/api//", "/"), "/api");
    EXPECT_EQ(join_mount("api", "/x"), "/api/x");
    // Not a template: returned as is, so that add() refuses it.
    EXPECT_EQ(join_mount("/api", "x"), "x");
    EXPECT_EQ(join_mount("/api", ""), "");
    Router r;
    add_fails(r, "GET", join_mount("/api", "x"), {"'x'", "must start with '/'"});
    add_fails(r, "GET", join_mount("/api", ""), {"''", "must start with '/'"});
}

TEST(JoinMount, ResultIsRoutable) {
    Router r;
    r.add("GET", join_mount("/api/notes", "/"), 1);
    r.add("GET", join_mount("/api/notes", "/{id:int}"), 2);
    r.add("GET", join_mount("/", "/"), 3);
    found(r, "GET", "/api/notes", 1);
    found(r, "GET", "/api/notes/4", 2);
    found(r, "GET", "/", 3);
    not_found(r, "GET", "/api/notes/");
}

// ---------------------------------------------------------------- percent_decode

TEST(PercentDecode, Basics) {
    std::string out = "old";
    EXPECT_TRUE(percent_decode("plain", out));
    EXPECT_EQ(out, "plain");
    EXPECT_TRUE(percent_decode("a%20b%2Fc%2fd", out));
    EXPECT_EQ(out, "a b/c/d");
    EXPECT_TRUE(percent_decode("%e2%82%AC", out));
    EXPECT_EQ(out, "\xE2\x82\xAC");
    EXPECT_TRUE(percent_decode("", out));
    EXPECT_EQ(out, "");
    EXPECT_TRUE(percent_decode("%00", out));
    EXPECT_EQ(out, std::string(1, '\0'));
}

TEST(PercentDecode, PlusAsSpace) {
    std::string out;
    EXPECT_TRUE(percent_decode("a+b%2B", out));
    EXPECT_EQ(out, "a+b+");
    EXPECT_TRUE(percent_decode("a+b%2B", out, true));
    EXPECT_EQ(out, "a b+");
}

TEST(PercentDecode, Malformed) {
    std::string out;
    EXPECT_FALSE(percent_decode("%", out));
    EXPECT_FALSE(percent_decode("%4", out));
    EXPECT_FALSE(percent_decode("abc%4", out));
    EXPECT_FALSE(percent_decode("%zz", out));
    EXPECT_FALSE(percent_decode("%g0", out));
    EXPECT_FALSE(percent_decode("%0g", out));
    EXPECT_FALSE(percent_decode("% 1", out));
}

// ---------------------------------------------------------------- percent_encode_segment

TEST(PercentEncodeSegment, KeepsUnreservedAndEncodesTheRest) {
    EXPECT_EQ(trellis::app::percent_encode_segment("plain-._~!$&'()*+,;=:@AZaz09"), "plain-._~!$&'()*+,;=:@AZaz09");
    EXPECT_EQ(trellis::app::percent_encode_segment("a b/c?d#e%f"), "a%20b%2Fc%3Fd%23e%25f");
    EXPECT_EQ(trellis::app::percent_encode_segment("caf\xC3\xA9"), "caf%C3%A9");
    EXPECT_EQ(trellis::app::percent_encode_segment(std::string(1, '\0')), "%00");
    EXPECT_EQ(trellis::app::percent_encode_segment(""), "");
}

// Whatever a key holds, its encoded form is one path segment that the
// router matches as {id} and decodes back to the key.
TEST(PercentEncodeSegment, RoundTripsThroughTheRouter) {
    Router r;
    r.add("GET", "/things/{id}", 1);
    std::string every_byte;
    for (int c = 1; c < 256; ++c) every_byte += static_cast<char>(c);
    for (const std::string& key : {std::string("a b/c"), std::string("100%"), std::string("..") + "/x", every_byte}) {
        const std::string encoded = trellis::app::percent_encode_segment(key);
        std::string decoded;
        ASSERT_TRUE(percent_decode(encoded, decoded));
        EXPECT_EQ(decoded, key);
        RouteMatch m = found(r, "GET", "/things/" + encoded, 1);
        ASSERT_EQ(m.params.size(), 1u);
        EXPECT_EQ(m.params[0].second, key);
    }
}

TEST(RouterTemplates, RewriteTemplateParamsSeesEachNameAndType) {
    std::vector<std::string> seen;
    const auto out = trellis::app::rewrite_template_params(
        "/a/{id:int}/b/{name}/{rest:path}", [&](std::string_view name, std::string_view type) {
            seen.push_back(std::string(name) + ":" + std::string(type));
            return "<" + std::string(type) + ">";
        });
    EXPECT_EQ(out, "/a/<int>/b/<str>/<path>");
    EXPECT_EQ(seen, (std::vector<std::string>{"id:int", "name:str", "rest:path"}));
    EXPECT_EQ(trellis::app::rewrite_template_params("/a/{open", [](auto, auto) { return std::string("x"); }), "/a/{open");
    EXPECT_EQ(trellis::app::rewrite_template_params("/plain", [](auto, auto) { return std::string("x"); }), "/plain");
}
