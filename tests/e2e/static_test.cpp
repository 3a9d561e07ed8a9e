// Static files shipped by plugins (manifest `static`): the assets plugin
// serves test-plugins/assets/www under /static (mount /), the spa plugin
// serves test-plugins/spa/static as a single-page application under /app.
#include <unistd.h>

#include <memory>
#include <string>
#include <system_error>

#include "fixture.hpp"

namespace e2e {
namespace {

constexpr std::string_view kSecret = "TOP-SECRET-OUTSIDE-MARKER";
const Headers kBrowser{{"Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}};

fs::path www() { return test_plugin_dir() / "assets" / "www"; }
fs::path spa_root() { return test_plugin_dir() / "spa" / "static"; }

// The symlinks live in the shared build tree: named per process, so that
// parallel runs (ctest -j runs each test in its own process) do not collide.
std::string link_file() { return "escape-link-" + std::to_string(::getpid()) + ".txt"; }
std::string link_dir() { return "escape-dir-" + std::to_string(::getpid()); }

class StaticTest : public SharedHostTest<StaticTest> {
public:
    static void SetUpTestSuite() {
        // Symlinks that lead out of the static dirs, to a file the host must never serve.
        outside_ = std::make_unique<TempDir>();
        outside_->write("secret.txt", std::string(kSecret) + "\n");
        remove_links();
        std::error_code ec;
        for (const auto& dir : {www(), spa_root()}) {
            fs::create_symlink(outside_->path() / "secret.txt", dir / link_file(), ec);
            if (ec) setup_error_ = "cannot create a symlink in " + dir.string() + ": " + ec.message();
            fs::create_directory_symlink(outside_->path(), dir / link_dir(), ec);
            if (ec) setup_error_ = "cannot create a symlink in " + dir.string() + ": " + ec.message();
        }
        start("  assets: {mount: /}\n"
              "  spa: {mount: /app}\n");
    }

    static void TearDownTestSuite() {
        SharedHostTest<StaticTest>::TearDownTestSuite();
        remove_links();
        outside_.reset();
    }

    void SetUp() override {
        SharedHostTest<StaticTest>::SetUp();
        if (!setup_error_.empty()) GTEST_FAIL() << setup_error_;
    }

protected:
    static void remove_links() {
        std::error_code ec;
        for (const auto& dir : {www(), spa_root()}) {
            fs::remove(dir / link_file(), ec);
            fs::remove(dir / link_dir(), ec);
        }
    }

    // Asserts a refused path: 404, and neither the outside file nor /etc/passwd leaked.
    static ::testing::AssertionResult Refused(const Response& r) {
        if (r.status != 404) return ::testing::AssertionFailure() << "expected 404\n" << r.dump();
        for (std::string_view leak : {kSecret, std::string_view("root:")})
            if (r.body.find(leak) != std::string::npos)
                return ::testing::AssertionFailure() << "leaked \"" << leak << "\"\n" << r.dump();
        return ::testing::AssertionSuccess();
    }

    static inline std::unique_ptr<TempDir> outside_;
    static inline std::string setup_error_;
};

// ---- plain static files -------------------------------------------------------

TEST_F(StaticTest, FilesServedWithTheirContentType) {
    struct Case {
        std::string target, file, type;
    };
    for (const Case& c : {Case{"/static/index.html", "index.html", "text/html"},
                          Case{"/static/app.js", "app.js", "javascript"},
                          Case{"/static/css/site.css", "css/site.css", "text/css"},
                          Case{"/static/docs/range.txt", "docs/range.txt", "text/plain"}}) {
        Response r = get(port(), c.target);
        ASSERT_EQ(r.status, 200) << c.target << "\n" << r.dump();
        EXPECT_EQ(r.body, read_file(www() / c.file)) << c.target;
        EXPECT_TRUE(Contains(r.header("Content-Type").value_or(""), c.type)) << c.target;
        EXPECT_TRUE(r.header("X-Request-Id")) << r.dump();
    }
}

// A bundler's output: the fingerprinted asset is cached for a year, its
// gzip sibling is sent to a client that accepts gzip, index.html revalidates.
TEST_F(StaticTest, BuiltAppAssetsAreImmutableAndPrecompressed) {
    const std::string asset = "/app/assets/index-4f3a9c1b.js";
    Response gz = get(port(), asset, {{"Accept-Encoding", "gzip, deflate"}});
    ASSERT_EQ(gz.status, 200) << gz.dump();
    EXPECT_EQ(gz.header("Content-Encoding"), "gzip");
    EXPECT_EQ(gz.body, read_file(spa_root() / "assets/index-4f3a9c1b.js.gz"));
    EXPECT_EQ(gz.header("Content-Length"), std::to_string(gz.body.size()));
    EXPECT_TRUE(Contains(gz.header("Content-Type").value_or(""), "text/javascript"));
    EXPECT_EQ(gz.header("Cache-Control"), "public, max-age=31536000, immutable");
    EXPECT_EQ(gz.header("Vary"), "Accept-Encoding");

    Response plain = get(port(), asset);
    ASSERT_EQ(plain.status, 200) << plain.dump();
    EXPECT_FALSE(plain.header("Content-Encoding"));
    EXPECT_EQ(plain.body, read_file(spa_root() / "assets/index-4f3a9c1b.js"));
    EXPECT_EQ(plain.header("Vary"), "Accept-Encoding");

    Response index = get(port(), "/app/", kBrowser);
    ASSERT_EQ(index.status, 200) << index.dump();
    EXPECT_EQ(index.header("Cache-Control"), "no-cache");
}

TEST_F(StaticTest, HeadHasLengthButNoBody) {
    Connection c(port());
    Response r = c.request("HEAD", "/static/app.js");
    ASSERT_EQ(r.status, 200) << r.dump();
    EXPECT_EQ(r.header("Content-Length").value_or(""), std::to_string(read_file(www() / "app.js").size()));
    EXPECT_TRUE(r.body.empty());
    EXPECT_FALSE(c.has_extra_bytes(200)) << "HEAD must not send a body";
}

TEST_F(StaticTest, EtagThenIfNoneMatchIs304) {
    Response first = get(port(), "/static/app.js");
    ASSERT_EQ(first.status, 200) << first.dump();
    auto etag = first.header("ETag");
    ASSERT_TRUE(etag && !etag->empty()) << first.dump();

    Connection c(port());
    Response again = c.request("GET", "/static/app.js", {{"If-None-Match", *etag}});
    EXPECT_EQ(again.status, 304) << again.dump();
    EXPECT_TRUE(again.body.empty());
    EXPECT_FALSE(c.has_extra_bytes(200)) << "a 304 has no body";

    Response other = get(port(), "/static/app.js", {{"If-None-Match", "\"not-the-etag\""}});
    EXPECT_EQ(other.status, 200) << other.dump();
    EXPECT_EQ(other.header("ETag").value_or(""), *etag) << "the ETag is stable";
}

TEST_F(StaticTest, LastModifiedThenIfModifiedSinceIs304) {
    Response first = get(port(), "/static/css/site.css");
    ASSERT_EQ(first.status, 200) << first.dump();
    auto lm = first.header("Last-Modified");
    ASSERT_TRUE(lm && !lm->empty()) << first.dump();
    EXPECT_EQ(get(port(), "/static/css/site.css", {{"If-Modified-Since", *lm}}).status, 304);
    EXPECT_EQ(get(port(), "/static/css/site.css", {{"If-Modified-Since", "Thu, 01 Jan 1970 00:00:00 GMT"}}).status,
              200);
}

TEST_F(StaticTest, RangeIs206) {
    const std::string full = read_file(www() / "docs" / "range.txt");
    ASSERT_EQ(full.size(), 37u);
    const std::string total = "/" + std::to_string(full.size());

    Response head = get(port(), "/static/docs/range.txt", {{"Range", "bytes=0-9"}});
    ASSERT_EQ(head.status, 206) << head.dump();
    EXPECT_EQ(head.body, "0123456789");
    EXPECT_EQ(head.header("Content-Range").value_or(""), "bytes 0-9" + total);
    EXPECT_EQ(head.header("Content-Length").value_or(""), "10");

    Response tail = get(port(), "/static/docs/range.txt", {{"Range", "bytes=-5"}});
    ASSERT_EQ(tail.status, 206) << tail.dump();
    EXPECT_EQ(tail.body, full.substr(32));
    EXPECT_EQ(tail.header("Content-Range").value_or(""), "bytes 32-36" + total);

    Response open = get(port(), "/static/docs/range.txt", {{"Range", "bytes=10-"}});
    ASSERT_EQ(open.status, 206) << open.dump();
    EXPECT_EQ(open.body, full.substr(10));
}

TEST_F(StaticTest, RoutesWinOverFiles) {
    Response r = get(port(), "/static/dynamic");
    ASSERT_EQ(r.status, 200) << r.dump();
    EXPECT_EQ(r.body, "route-not-file-marker");
}

TEST_F(StaticTest, MissingFileIs404Problem) {
    EXPECT_TRUE(IsProblem(get(port(), "/static/nope.txt"), 404, "/static/nope.txt"));
    EXPECT_TRUE(IsProblem(get(port(), "/static/css/nope.css"), 404, "/static/css/nope.css"));
    // Not under static.path: no file lookup at all.
    EXPECT_TRUE(IsProblem(get(port(), "/app.js"), 404, "/app.js"));
}

TEST_F(StaticTest, TraversalIsRefused) {
    for (const char* target : {
             "/static/../../etc/passwd",
             "/static/../../../../../../../../etc/passwd",
             "/static/css/../../../../../../etc/passwd",
             "/static/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
             "/static/%2E%2E/%2E%2E/%2E%2E/%2E%2E/%2E%2E/%2E%2E/etc/passwd",
             "/static/%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
             "/static/..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
             "/static/%2fetc%2fpasswd",
             "/static//etc/passwd",
             "/static/css/..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
         }) {
        EXPECT_TRUE(Refused(get(port(), target))) << target;
    }
    // A NUL byte must not cut the name short ("index.html"): not served.
    Response nul = get(port(), "/static/index.html%00.txt");
    EXPECT_GE(nul.status, 400) << nul.dump();
    EXPECT_TRUE(NotContains(nul.body, "spa-index-marker"));
}

TEST_F(StaticTest, SymlinksOutOfTheDirAreRefused) {
    ASSERT_TRUE(fs::is_symlink(www() / link_file()) && fs::exists(www() / link_file())) << "the suite's symlink is gone";
    EXPECT_TRUE(Refused(get(port(), "/static/" + link_file())));
    EXPECT_TRUE(Refused(get(port(), "/static/" + link_dir() + "/secret.txt")));
    EXPECT_TRUE(Refused(get(port(), "/app/" + link_file(), kBrowser)));
    EXPECT_TRUE(Refused(get(port(), "/app/" + link_dir() + "/secret.txt", kBrowser)));
}

// ---- single-page application ----------------------------------------------------

TEST_F(StaticTest, SpaBrowserNavigationGetsIndexHtml) {
    const std::string index = read_file(spa_root() / "index.html");
    for (const char* target : {"/app/some/page", "/app/settings", "/app/"}) {
        Response r = get(port(), target, kBrowser);
        ASSERT_EQ(r.status, 200) << target << "\n" << r.dump();
        EXPECT_TRUE(Contains(r.header("Content-Type").value_or(""), "text/html")) << target;
        EXPECT_EQ(r.body, index) << target;
    }
}

TEST_F(StaticTest, SpaServesItsAssets) {
    Response js = get(port(), "/app/app.js", kBrowser);
    ASSERT_EQ(js.status, 200) << js.dump();
    EXPECT_EQ(js.body, read_file(spa_root() / "app.js"));
    EXPECT_TRUE(Contains(js.header("Content-Type").value_or(""), "javascript"));
    Response css = get(port(), "/app/css/site.css");
    ASSERT_EQ(css.status, 200) << css.dump();
    EXPECT_TRUE(Contains(css.body, "site-css-marker"));
}

TEST_F(StaticTest, SpaRoutesWin) {
    Response r = get(port(), "/app/api/ping", kBrowser);
    ASSERT_EQ(r.status, 200) << r.dump();
    EXPECT_EQ(r.json(), (nlohmann::json{{"pong", true}}));
}

TEST_F(StaticTest, SpaApiCallsToUnknownPathsGet404Problem) {
    Response r = get(port(), "/app/some/page", {{"Accept", "application/json"}});
    EXPECT_TRUE(IsProblem(r, 404, "/app/some/page"));
    EXPECT_TRUE(NotContains(r.body, "spa-index-marker"));
    EXPECT_TRUE(IsProblem(get(port(), "/app/api/unknown", {{"Accept", "application/json"}}), 404, "/app/api/unknown"));
}

TEST_F(StaticTest, SpaMissingAssetWithExtensionIs404) {
    Response r = get(port(), "/app/missing.js", kBrowser);
    EXPECT_TRUE(IsProblem(r, 404, "/app/missing.js"));
    EXPECT_TRUE(IsProblem(get(port(), "/app/deep/path/logo.png", kBrowser), 404, "/app/deep/path/logo.png"));
}

TEST_F(StaticTest, SpaFallbackIsForGetOnly) {
    Response r = http(port(), "POST", "/app/some/page", kBrowser, std::string("x=1"));
    EXPECT_GE(r.status, 400) << r.dump();
    EXPECT_TRUE(NotContains(r.body, "spa-index-marker"));
}

TEST_F(StaticTest, SpaTraversalIsRefused) {
    for (const char* target : {"/app/../../../../etc/passwd", "/app/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
                               "/app/..%2f..%2f..%2f..%2fetc%2fpasswd"}) {
        EXPECT_TRUE(Refused(get(port(), target, kBrowser))) << target;
    }
}

}  // namespace
}  // namespace e2e
