#include "app/static_files.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace fs = std::filesystem;
using trellis::app::format_http_date;
using trellis::app::is_fingerprinted;
using trellis::app::parse_http_date;
using trellis::app::static_content_type;
using trellis::app::StaticAnswer;
using trellis::app::StaticRequest;
using trellis::app::StaticSite;

namespace {

using Headers = std::map<std::string, std::string>;

constexpr long long kMtime = 1700000000;  // Tue, 14 Nov 2023 22:13:20 GMT
constexpr const char* kMtimeText = "Tue, 14 Nov 2023 22:13:20 GMT";

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

void write_file(const fs::path& p, const std::string& content, long long mtime = kMtime) {
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
    struct timespec times[2] = {{mtime, 0}, {mtime, 0}};
    ASSERT_EQ(::utimensat(AT_FDCWD, p.c_str(), times, 0), 0) << p;
}

// A temp tree per test:
//   <tmp>/site/           the root
//     index.html app.js style.css data.json logo.png blob.bin empty.txt
//     "hello world.txt" Upper.PNG
//     sub/index.html sub/page.txt
//     nodir/              (a directory without index.html)
//     link_inside -> app.js, link_dir -> sub              (symlinks inside)
//     escape_file -> /etc/passwd, escape_dir -> <tmp>/outside,
//     escape_secret -> <tmp>/outside/secret.txt,
//     sibling -> <tmp>/site2/x.txt                        (symlinks outside)
//   <tmp>/outside/secret.txt   <tmp>/site2/x.txt
class StaticFiles : public ::testing::Test {
protected:
    void SetUp() override {
        std::string tmpl = (fs::temp_directory_path() / "trellis-static-XXXXXX").string();
        ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
        tmp_ = tmpl;
        root_ = tmp_ / "site";
        write_file(root_ / "index.html", "<html>root</html>");
        write_file(root_ / "app.js", "console.log('app');");
        write_file(root_ / "style.css", "body{}");
        write_file(root_ / "data.json", "{\"a\":1}");
        write_file(root_ / "logo.png", std::string("\x89PNG\0\r\n\x1a\n", 9));
        write_file(root_ / "Upper.PNG", "png");
        write_file(root_ / "blob.bin", "0123456789abcdefghij");  // 20 bytes
        write_file(root_ / "empty.txt", "");
        write_file(root_ / "hello world.txt", "spaced");
        write_file(root_ / "sub" / "index.html", "<html>sub</html>");
        write_file(root_ / "sub" / "page.txt", "sub page");
        fs::create_directories(root_ / "nodir");
        write_file(tmp_ / "outside" / "secret.txt", "secret");
        write_file(tmp_ / "site2" / "x.txt", "sibling");
        fs::create_symlink("app.js", root_ / "link_inside");
        fs::create_directory_symlink("sub", root_ / "link_dir");
        fs::create_symlink("/etc/passwd", root_ / "escape_file");
        fs::create_directory_symlink(tmp_ / "outside", root_ / "escape_dir");
        fs::create_symlink(tmp_ / "outside" / "secret.txt", root_ / "escape_secret");
        fs::create_symlink(tmp_ / "site2" / "x.txt", root_ / "sibling");
        site_.emplace(root_, false);
        spa_site_.emplace(root_, true);
    }
    void TearDown() override {
        std::error_code ec;
        fs::permissions(root_, fs::perms::owner_all, fs::perm_options::add, ec);
        fs::remove_all(tmp_, ec);
    }

    static std::optional<StaticAnswer> serve(const StaticSite& site, std::string_view method, std::string_view path,
                                             const Headers& headers = {}) {
        StaticRequest req;
        req.method = method;
        req.path = path;
        req.header = [headers](std::string_view name) -> std::optional<std::string> {
            for (const auto& [k, v] : headers)
                if (lower(k) == lower(std::string(name))) return v;
            return std::nullopt;
        };
        return site.serve(req);
    }
    std::optional<StaticAnswer> get(std::string_view path, const Headers& headers = {}) const {
        return serve(*site_, "GET", path, headers);
    }
    std::optional<StaticAnswer> spa_get(std::string_view path, const Headers& headers = {}) const {
        return serve(*spa_site_, "GET", path, headers);
    }
    static std::string header(const StaticAnswer& a, std::string_view name) {
        const std::string* v = a.find_header(name);
        return v ? *v : std::string("<absent>");
    }
    std::string etag_of(std::string_view path) const {
        auto a = get(path);
        EXPECT_TRUE(a);
        return a ? header(*a, "ETag") : "";
    }

    fs::path tmp_;
    fs::path root_;
    std::optional<StaticSite> site_;      // spa == false, built at the end of SetUp
    std::optional<StaticSite> spa_site_;  // spa == true
};

}  // namespace

// ------------------------------------------------------------ construction

TEST_F(StaticFiles, RootIsCanonicalized) {
    StaticSite site(root_ / "sub" / "..", false);
    EXPECT_EQ(site.root(), fs::canonical(root_));
    EXPECT_FALSE(site.spa());
    fs::create_directory_symlink(root_, tmp_ / "alias");
    StaticSite aliased(tmp_ / "alias", true);
    EXPECT_EQ(aliased.root(), fs::canonical(root_));
    EXPECT_TRUE(aliased.spa());
    auto a = serve(aliased, "GET", "/app.js");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->body, "console.log('app');");
}

TEST_F(StaticFiles, ConstructorRefusesMissingRootOrFile) {
    try {
        StaticSite site(tmp_ / "nope", false);
        FAIL() << "expected runtime_error";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find((tmp_ / "nope").string()), std::string::npos) << e.what();
    }
    try {
        StaticSite site(root_ / "app.js", false);
        FAIL() << "expected runtime_error";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("not a directory"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("app.js"), std::string::npos) << e.what();
    }
}

// ------------------------------------------------------------ plain serving

TEST_F(StaticFiles, ServesFileWithTypeValidatorsAndCaching) {
    auto a = get("/app.js");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->status, 200);
    EXPECT_EQ(a->body, "console.log('app');");
    EXPECT_EQ(a->content_type, "text/javascript; charset=utf-8");
    // "<hex mtime ns>-<hex size>": 1700000000e9 ns = 0x17979cfe362a0000, 19 bytes = 0x13
    EXPECT_EQ(header(*a, "ETag"), "\"17979cfe362a0000-13\"");
    EXPECT_EQ(header(*a, "Last-Modified"), kMtimeText);
    EXPECT_EQ(header(*a, "Cache-Control"), "public, max-age=3600");
    EXPECT_EQ(header(*a, "Accept-Ranges"), "bytes");
    EXPECT_EQ(header(*a, "Content-Range"), "<absent>");
    EXPECT_EQ(header(*a, "Vary"), "<absent>");
    EXPECT_EQ(a->find_header("Content-Type"), nullptr);
    EXPECT_EQ(a->find_header("Content-Length"), nullptr);
}

TEST_F(StaticFiles, EtagChangesWithContent) {
    const std::string before = etag_of("/app.js");
    write_file(root_ / "app.js", "console.log('app v2');", kMtime + 1);
    const std::string after = etag_of("/app.js");
    EXPECT_NE(before, after);
    auto a = get("/app.js", {{"If-None-Match", before}});
    ASSERT_TRUE(a);
    EXPECT_EQ(a->status, 200);
    EXPECT_EQ(a->body, "console.log('app v2');");
}

TEST_F(StaticFiles, RootServesIndexWithNoCache) {
    auto a = get("/");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->status, 200);
    EXPECT_EQ(a->body, "<html>root</html>");
    EXPECT_EQ(a->content_type, "text/html; charset=utf-8");
    EXPECT_EQ(header(*a, "Cache-Control"), "no-cache");
    auto direct = get("/index.html");
    ASSERT_TRUE(direct);
    EXPECT_EQ(direct->body, "<html>root</html>");
    EXPECT_EQ(header(*direct, "Cache-Control"), "no-cache");
}

TEST_F(StaticFiles, DirectoryServesItsIndexWithOrWithoutSlash) {
    for (const char* path : {"/sub", "/sub/", "/sub/index.html", "/link_dir/"}) {
        auto a = get(path);
        ASSERT_TRUE(a) << path;
        EXPECT_EQ(a->status, 200) << path;
        EXPECT_EQ(a->body, "<html>sub</html>") << path;
        EXPECT_EQ(header(*a, "Cache-Control"), "no-cache") << path;
    }
    auto page = get("/sub/page.txt");
    ASSERT_TRUE(page);
    EXPECT_EQ(page->body, "sub page");
    EXPECT_EQ(page->content_type, "text/plain; charset=utf-8");
}

TEST_F(StaticFiles, NoDirectoryListingAndNoSuchFile) {
    EXPECT_FALSE(get("/nodir"));
    EXPECT_FALSE(get("/nodir/"));
    EXPECT_FALSE(get("/missing.js"));
    EXPECT_FALSE(get("/missing"));
    EXPECT_FALSE(get("/sub/missing.txt"));
    EXPECT_FALSE(get("/app.js/child"));  // a file used as a directory
    EXPECT_FALSE(get("/app.js/"));       // trailing slash names a directory
}

TEST_F(StaticFiles, OnlyGetAndHeadAreServed) {
    for (const char* method : {"POST", "PUT", "DELETE", "PATCH", "OPTIONS", "get", "head", ""})
        EXPECT_FALSE(serve(*site_, method, "/app.js")) << method;
    EXPECT_TRUE(serve(*site_, "HEAD", "/app.js"));
}

TEST_F(StaticFiles, HeadAnswersLikeGetWithBodyForContentLength) {
    auto g = get("/style.css");
    auto h = serve(*site_, "HEAD", "/style.css");
    ASSERT_TRUE(g);
    ASSERT_TRUE(h);
    EXPECT_EQ(h->status, 200);
    EXPECT_EQ(h->content_type, g->content_type);
    EXPECT_EQ(h->headers, g->headers);
    EXPECT_EQ(h->body, g->body);  // documented: the caller strips it
}

TEST_F(StaticFiles, HeadIgnoresRange) {
    auto h = serve(*site_, "HEAD", "/blob.bin", {{"Range", "bytes=0-3"}});
    ASSERT_TRUE(h);
    EXPECT_EQ(h->status, 200);
    EXPECT_EQ(h->body.size(), 20u);
    EXPECT_EQ(header(*h, "Content-Range"), "<absent>");
}

TEST_F(StaticFiles, PercentEncodedNamesAreDecoded) {
    auto a = get("/hello%20world.txt");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->body, "spaced");
    auto b = get("/%61pp.js");  // %61 = 'a'
    ASSERT_TRUE(b);
    EXPECT_EQ(b->body, "console.log('app');");
    EXPECT_FALSE(get("/hello+world.txt"));  // '+' is not a space in a path
}

TEST_F(StaticFiles, BinaryContentIsPreserved) {
    auto a = get("/logo.png");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->body, std::string("\x89PNG\0\r\n\x1a\n", 9));
    EXPECT_EQ(a->content_type, "image/png");
    EXPECT_EQ(a->body.size(), 9u);
}

TEST_F(StaticFiles, EmptyFile) {
    auto a = get("/empty.txt");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->status, 200);
    EXPECT_EQ(a->body, "");
    EXPECT_EQ(header(*a, "ETag"), "\"17979cfe362a0000-0\"");
}

// ------------------------------------------------------------ safety

TEST_F(StaticFiles, TraversalAttemptsAreRefused) {
    const std::vector<std::string> attempts = {
        "/../../etc/passwd",
        "/..",
        "/.",
        "/./app.js",
        "/sub/../app.js",
        "/sub/./page.txt",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/%2E%2E/%2E%2E/etc/passwd",
        "/%2e/app.js",
        "/..%2f..%2fetc/passwd",
        "/..%2F..%2Fetc%2Fpasswd",
        "/sub%2f..%2fapp.js",
        "/sub%2fpage.txt",  // an encoded '/' is never a separator
        "/%2e%2e%5cetc",
        "/..%5c..%5cetc%5cpasswd",
        "/sub%5cpage.txt",
        "/app.js%00",
        "/app.js%00.png",
        "/%00",
        "/%2e%2e",
        "/.%2e/.%2e/etc/passwd",
        "//etc/passwd",
        "/sub//page.txt",
        "//",
        "/sub//",
        "",
        "app.js",
        "/%",
        "/%zz",
        "/app%2",
        "/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    };
    for (const auto& path : attempts) {
        EXPECT_FALSE(get(path)) << path;
        EXPECT_FALSE(serve(*site_, "HEAD", path)) << path;
        // Refused paths never fall back to the SPA index, even for a navigation.
        EXPECT_FALSE(spa_get(path, {{"Accept", "text/html"}})) << path;
    }
}

TEST_F(StaticFiles, SymlinksInsideTheRootAreServed) {
    auto a = get("/link_inside");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->body, "console.log('app');");
    EXPECT_EQ(a->content_type, "text/javascript; charset=utf-8");  // by the target's name
    auto b = get("/link_dir/page.txt");
    ASSERT_TRUE(b);
    EXPECT_EQ(b->body, "sub page");
}

TEST_F(StaticFiles, SymlinksEscapingTheRootAreRefused) {
    for (const char* path : {"/escape_file", "/escape_dir", "/escape_dir/", "/escape_dir/secret.txt",
                             "/escape_secret", "/sibling"}) {
        EXPECT_FALSE(get(path)) << path;
        EXPECT_FALSE(spa_get(path, {{"Accept", "text/html"}})) << path;
    }
}

TEST_F(StaticFiles, IndexSymlinkEscapingTheRootIsRefused) {
    fs::create_directories(root_ / "trap");
    fs::create_symlink(tmp_ / "outside" / "secret.txt", root_ / "trap" / "index.html");
    EXPECT_FALSE(get("/trap"));
    EXPECT_FALSE(get("/trap/"));
    EXPECT_FALSE(get("/trap/index.html"));
}

TEST_F(StaticFiles, SpecialFilesAreNotServed) {
    ASSERT_EQ(::mkfifo((root_ / "fifo").c_str(), 0644), 0);
    EXPECT_FALSE(get("/fifo"));  // and does not block
}

TEST_F(StaticFiles, UnreadableFileIsNotMine) {
    if (::geteuid() == 0) GTEST_SKIP() << "root reads everything";
    fs::permissions(root_ / "app.js", fs::perms::none);
    EXPECT_FALSE(get("/app.js"));
}

// ------------------------------------------------------------ content types

TEST(StaticContentType, ByExtension) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"a.html", "text/html; charset=utf-8"},
        {"a.htm", "text/html; charset=utf-8"},
        {"a.css", "text/css; charset=utf-8"},
        {"a.js", "text/javascript; charset=utf-8"},
        {"a.mjs", "text/javascript; charset=utf-8"},
        {"a.json", "application/json; charset=utf-8"},
        {"a.js.map", "application/json; charset=utf-8"},
        {"a.svg", "image/svg+xml; charset=utf-8"},
        {"a.xml", "application/xml; charset=utf-8"},
        {"a.txt", "text/plain; charset=utf-8"},
        {"a.png", "image/png"},
        {"a.jpg", "image/jpeg"},
        {"a.jpeg", "image/jpeg"},
        {"a.gif", "image/gif"},
        {"a.webp", "image/webp"},
        {"favicon.ico", "image/x-icon"},
        {"a.wasm", "application/wasm"},
        {"a.woff", "font/woff"},
        {"a.woff2", "font/woff2"},
        {"a.pdf", "application/pdf"},
        {"A.PNG", "image/png"},
        {"Index.HTML", "text/html; charset=utf-8"},
        {"a.bin", "application/octet-stream"},
        {"Makefile", "application/octet-stream"},
        {"a.", "application/octet-stream"},
        {"a.tar.gz", "application/octet-stream"},
        {"", "application/octet-stream"},
    };
    for (const auto& [name, type] : cases) EXPECT_EQ(static_content_type(name), type) << name;
}

TEST_F(StaticFiles, ServedContentTypes) {
    EXPECT_EQ(get("/style.css")->content_type, "text/css; charset=utf-8");
    EXPECT_EQ(get("/data.json")->content_type, "application/json; charset=utf-8");
    EXPECT_EQ(get("/Upper.PNG")->content_type, "image/png");
    EXPECT_EQ(get("/blob.bin")->content_type, "application/octet-stream");
}

// ------------------------------------------------------------ dates

TEST(HttpDate, FormatsImfFixdate) {
    EXPECT_EQ(format_http_date(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");
    EXPECT_EQ(format_http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
    EXPECT_EQ(format_http_date(kMtime), kMtimeText);
    EXPECT_EQ(format_http_date(951782400), "Tue, 29 Feb 2000 00:00:00 GMT");
}

TEST(HttpDate, ParsesAllThreeForms) {
    EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777);
    EXPECT_EQ(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), 784111777);
    EXPECT_EQ(parse_http_date("Sun Nov  6 08:49:37 1994"), 784111777);
    EXPECT_EQ(parse_http_date("  Sun, 06 Nov 1994 08:49:37 GMT "), 784111777);
    EXPECT_EQ(parse_http_date(kMtimeText), kMtime);
    EXPECT_EQ(parse_http_date(format_http_date(951782400)), 951782400);
}

TEST(HttpDate, RejectsGarbage) {
    for (const char* bad : {"", "yesterday", "Sun, 06 Foo 1994 08:49:37 GMT", "Sun, 30 Feb 1994 08:49:37 GMT",
                            "Sun, 06 Nov 1994 25:49:37 GMT", "Sun, 06 Nov 1994 08:49:37 GMT junk",
                            "Sun, 06 Nov 1994 08:49:37", "Sun, 06 Nov 1994 08:49:37 UTC", "1700000000"})
        EXPECT_FALSE(parse_http_date(bad)) << bad;
}

// ------------------------------------------------------------ conditionals

TEST_F(StaticFiles, IfNoneMatchAnswers304) {
    const std::string etag = etag_of("/app.js");
    const std::string weak = "W/" + etag;
    for (const std::string& inm : {etag, weak, std::string("*"), std::string(" * "), "\"other\", " + etag,
                                   "\"a\",W/\"b\" ,  " + weak + ", \"c\"", "\"x,y\"," + etag}) {
        auto a = get("/app.js", {{"If-None-Match", inm}});
        ASSERT_TRUE(a) << inm;
        EXPECT_EQ(a->status, 304) << inm;
        EXPECT_EQ(a->body, "") << inm;
        EXPECT_EQ(a->content_type, "") << inm;
        EXPECT_EQ(header(*a, "ETag"), etag);
        EXPECT_EQ(header(*a, "Last-Modified"), kMtimeText);
        EXPECT_EQ(header(*a, "Cache-Control"), "public, max-age=3600");
        EXPECT_EQ(header(*a, "Accept-Ranges"), "<absent>");
    }
    auto h = serve(*site_, "HEAD", "/app.js", {{"If-None-Match", etag}});
    ASSERT_TRUE(h);
    EXPECT_EQ(h->status, 304);
}

TEST_F(StaticFiles, IfNoneMatchMismatchOrMalformedServesFull) {
    const std::string etag = etag_of("/app.js");
    const std::string bare = etag.substr(1, etag.size() - 2);  // unquoted
    for (const std::string& inm : {std::string("\"nope\""), bare, std::string("W/") + bare, std::string("\""),
                                   std::string(""), "\"nope\" garbage " + etag}) {
        auto a = get("/app.js", {{"If-None-Match", inm}});
        ASSERT_TRUE(a) << inm;
        EXPECT_EQ(a->status, 200) << inm;
        EXPECT_EQ(a->body, "console.log('app');") << inm;
    }
}

TEST_F(StaticFiles, IfModifiedSince) {
    auto same = get("/app.js", {{"If-Modified-Since", kMtimeText}});
    ASSERT_TRUE(same);
    EXPECT_EQ(same->status, 304);
    EXPECT_EQ(same->body, "");
    auto later = get("/app.js", {{"If-Modified-Since", format_http_date(kMtime + 3600)}});
    ASSERT_TRUE(later);
    EXPECT_EQ(later->status, 304);
    auto rfc850 = get("/app.js", {{"If-Modified-Since", "Tuesday, 14-Nov-23 22:13:20 GMT"}});
    ASSERT_TRUE(rfc850);
    EXPECT_EQ(rfc850->status, 304);
    auto asctime = get("/app.js", {{"If-Modified-Since", "Tue Nov 14 22:13:20 2023"}});
    ASSERT_TRUE(asctime);
    EXPECT_EQ(asctime->status, 304);

    auto earlier = get("/app.js", {{"If-Modified-Since", format_http_date(kMtime - 1)}});
    ASSERT_TRUE(earlier);
    EXPECT_EQ(earlier->status, 200);
    EXPECT_EQ(earlier->body, "console.log('app');");
    auto garbage = get("/app.js", {{"If-Modified-Since", "not a date"}});
    ASSERT_TRUE(garbage);
    EXPECT_EQ(garbage->status, 200);
}

TEST_F(StaticFiles, IfNoneMatchTakesPrecedenceOverIfModifiedSince) {
    // A non-matching If-None-Match wins over an If-Modified-Since that would say 304.
    auto a = get("/app.js", {{"If-None-Match", "\"stale\""}, {"If-Modified-Since", format_http_date(kMtime + 60)}});
    ASSERT_TRUE(a);
    EXPECT_EQ(a->status, 200);
    // A matching one answers 304 even if the date says modified.
    auto b = get("/app.js", {{"If-None-Match", etag_of("/app.js")}, {"If-Modified-Since", format_http_date(0)}});
    ASSERT_TRUE(b);
    EXPECT_EQ(b->status, 304);
}

TEST_F(StaticFiles, NotModifiedWinsOverRange) {
    auto a = get("/blob.bin", {{"If-None-Match", etag_of("/blob.bin")}, {"Range", "bytes=0-1"}});
    ASSERT_TRUE(a);
    EXPECT_EQ(a->status, 304);
    EXPECT_EQ(header(*a, "Content-Range"), "<absent>");
}

// ------------------------------------------------------------ ranges

TEST_F(StaticFiles, RangeForms) {
    struct Case {
        const char* range;
        const char* body;
        const char* content_range;
    };
    const Case cases[] = {
        {"bytes=0-4", "01234", "bytes 0-4/20"},
        {"bytes=5-9", "56789", "bytes 5-9/20"},
        {"bytes=19-19", "j", "bytes 19-19/20"},
        {"bytes=15-", "fghij", "bytes 15-19/20"},
        {"bytes=0-", "0123456789abcdefghij", "bytes 0-19/20"},
        {"bytes=-3", "hij", "bytes 17-19/20"},
        {"bytes=-20", "0123456789abcdefghij", "bytes 0-19/20"},
        {"bytes=-1000", "0123456789abcdefghij", "bytes 0-19/20"},  // suffix longer than the file
        {"bytes=10-1000", "abcdefghij", "bytes 10-19/20"},         // last clamped
        {"bytes=10-99999999999999999999999", "abcdefghij", "bytes 10-19/20"},
        {"BYTES=0-1", "01", "bytes 0-1/20"},
        {" bytes= 2 - 3 ", "23", "bytes 2-3/20"},
    };
    for (const auto& c : cases) {
        auto a = get("/blob.bin", {{"Range", c.range}});
        ASSERT_TRUE(a) << c.range;
        EXPECT_EQ(a->status, 206) << c.range;
        EXPECT_EQ(a->body, c.body) << c.range;
        EXPECT_EQ(header(*a, "Content-Range"), c.content_range) << c.range;
        EXPECT_EQ(header(*a, "Accept-Ranges"), "bytes") << c.range;
        EXPECT_EQ(a->content_type, "application/octet-stream") << c.range;
        EXPECT_EQ(header(*a, "ETag"), etag_of("/blob.bin")) << c.range;
    }
}

TEST_F(StaticFiles, UnsatisfiableRangeAnswers416) {
    for (const char* range : {"bytes=20-", "bytes=20-30", "bytes=100-200", "bytes=-0",
                              "bytes=99999999999999999999999-"}) {
        auto a = get("/blob.bin", {{"Range", range}});
        ASSERT_TRUE(a) << range;
        EXPECT_EQ(a->status, 416) << range;
        EXPECT_EQ(a->body, "") << range;
        EXPECT_EQ(a->content_type, "") << range;
        EXPECT_EQ(header(*a, "Content-Range"), "bytes */20") << range;
    }
    for (const char* range : {"bytes=0-", "bytes=-5", "bytes=0-0"}) {
        auto a = get("/empty.txt", {{"Range", range}});
        ASSERT_TRUE(a) << range;
        EXPECT_EQ(a->status, 416) << range;
        EXPECT_EQ(header(*a, "Content-Range"), "bytes */0") << range;
    }
}

TEST_F(StaticFiles, IgnoredRangesServeTheFullFile) {
    for (const char* range : {"bytes=0-1,3-4", "bytes=0-1, 5-", "items=0-1", "bytes=abc", "bytes=5-2", "bytes=-",
                              "bytes=", "bytes 0-1", "bytes=1", "bytes=--1", "bytes=+1-2", ""}) {
        auto a = get("/blob.bin", {{"Range", range}});
        ASSERT_TRUE(a) << range;
        EXPECT_EQ(a->status, 200) << range;
        EXPECT_EQ(a->body, "0123456789abcdefghij") << range;
        EXPECT_EQ(header(*a, "Content-Range"), "<absent>") << range;
    }
}

TEST_F(StaticFiles, IfRange) {
    const std::string etag = etag_of("/blob.bin");
    auto match = get("/blob.bin", {{"Range", "bytes=0-1"}, {"If-Range", etag}});
    ASSERT_TRUE(match);
    EXPECT_EQ(match->status, 206);
    EXPECT_EQ(match->body, "01");
    // A 416 is only possible when If-Range lets the range through.
    auto unsat = get("/blob.bin", {{"Range", "bytes=50-"}, {"If-Range", etag}});
    ASSERT_TRUE(unsat);
    EXPECT_EQ(unsat->status, 416);

    for (const std::string& if_range : {std::string("\"stale\""), "W/" + etag, std::string(kMtimeText),
                                        std::string("garbage")}) {
        auto a = get("/blob.bin", {{"Range", "bytes=0-1"}, {"If-Range", if_range}});
        ASSERT_TRUE(a) << if_range;
        EXPECT_EQ(a->status, 200) << if_range;
        EXPECT_EQ(a->body, "0123456789abcdefghij") << if_range;
        auto b = get("/blob.bin", {{"Range", "bytes=50-"}, {"If-Range", if_range}});
        ASSERT_TRUE(b) << if_range;
        EXPECT_EQ(b->status, 200) << if_range;
    }
}

// ------------------------------------------------------------ size limit

TEST_F(StaticFiles, BodyLimitRefusesLargeAnswersButServesSmallRanges) {
    StaticSite small(root_, false, 10);
    EXPECT_FALSE(serve(small, "GET", "/blob.bin"));   // 20 bytes > 10
    EXPECT_FALSE(serve(small, "HEAD", "/blob.bin"));
    auto r = serve(small, "GET", "/blob.bin", {{"Range", "bytes=5-14"}});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 206);
    EXPECT_EQ(r->body, "56789abcde");
    EXPECT_FALSE(serve(small, "GET", "/blob.bin", {{"Range", "bytes=5-15"}}));
    // Validation needs no body: a 304 is still answered.
    auto nm = serve(small, "GET", "/blob.bin", {{"If-None-Match", "*"}});
    ASSERT_TRUE(nm);
    EXPECT_EQ(nm->status, 304);
    auto ok = serve(small, "GET", "/app.js");  // 19 > 10 too
    EXPECT_FALSE(ok);
    auto fits = serve(small, "GET", "/style.css");  // 6 bytes
    ASSERT_TRUE(fits);
    EXPECT_EQ(fits->body, "body{}");
    EXPECT_EQ(StaticSite::kDefaultMaxBodyBytes, 64u << 20);
}

// ------------------------------------------------------------ SPA

TEST_F(StaticFiles, SpaNavigationServesRootIndex) {
    for (const char* path : {"/app/settings", "/dashboard", "/users/42/edit", "/sub/deep/route", "/nodir",
                             "/missing", "/v1.2/route" /* only the last segment counts */}) {
        auto a = spa_get(path, {{"Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}});
        ASSERT_TRUE(a) << path;
        EXPECT_EQ(a->status, 200) << path;
        EXPECT_EQ(a->body, "<html>root</html>") << path;
        EXPECT_EQ(a->content_type, "text/html; charset=utf-8") << path;
        EXPECT_EQ(header(*a, "Cache-Control"), "no-cache") << path;
        EXPECT_EQ(header(*a, "Vary"), "Accept") << path;
    }
    auto upper = spa_get("/route", {{"Accept", "TEXT/HTML"}});
    ASSERT_TRUE(upper);
    EXPECT_EQ(upper->status, 200);
    auto head = serve(*spa_site_, "HEAD", "/route", {{"Accept", "text/html"}});
    ASSERT_TRUE(head);
    EXPECT_EQ(head->body, "<html>root</html>");
}

TEST_F(StaticFiles, SpaStillServesRealFilesFirst) {
    auto js = spa_get("/app.js", {{"Accept", "text/html"}});
    ASSERT_TRUE(js);
    EXPECT_EQ(js->body, "console.log('app');");
    EXPECT_EQ(header(*js, "Vary"), "<absent>");
    auto sub = spa_get("/sub", {{"Accept", "text/html"}});
    ASSERT_TRUE(sub);
    EXPECT_EQ(sub->body, "<html>sub</html>");
}

TEST_F(StaticFiles, SpaApiCallsAndAssetsStillMiss) {
    EXPECT_FALSE(spa_get("/api/notes", {{"Accept", "application/json"}}));
    EXPECT_FALSE(spa_get("/api/notes", {{"Accept", "*/*"}}));
    EXPECT_FALSE(spa_get("/api/notes"));  // no Accept header
    StaticRequest no_headers;
    no_headers.method = "GET";
    no_headers.path = "/route";  // header lookup left empty
    EXPECT_FALSE(spa_site_->serve(no_headers));
    EXPECT_FALSE(spa_get("/missing.js", {{"Accept", "text/html"}}));
    EXPECT_FALSE(spa_get("/img/missing.png", {{"Accept", "text/html,*/*"}}));
    EXPECT_FALSE(spa_get("/sub/page.old", {{"Accept", "text/html"}}));
    EXPECT_FALSE(serve(*spa_site_, "POST", "/route", {{"Accept", "text/html"}}));
}

TEST_F(StaticFiles, SpaFallbackIsConditionalToo) {
    auto first = spa_get("/route", {{"Accept", "text/html"}});
    ASSERT_TRUE(first);
    const std::string etag = header(*first, "ETag");
    EXPECT_EQ(etag, etag_of("/index.html"));
    auto again = spa_get("/other/route", {{"Accept", "text/html"}, {"If-None-Match", etag}});
    ASSERT_TRUE(again);
    EXPECT_EQ(again->status, 304);
    EXPECT_EQ(again->body, "");
    EXPECT_EQ(header(*again, "Cache-Control"), "no-cache");
    EXPECT_EQ(header(*again, "Vary"), "Accept");
}

TEST_F(StaticFiles, SpaWithoutRootIndexMisses) {
    fs::remove(root_ / "index.html");
    EXPECT_FALSE(spa_get("/route", {{"Accept", "text/html"}}));
    EXPECT_FALSE(spa_get("/", {{"Accept", "text/html"}}));
}

TEST_F(StaticFiles, NonSpaSiteNeverFallsBack) {
    EXPECT_FALSE(get("/app/settings", {{"Accept", "text/html"}}));
}

// ------------------------------------------------------------ threads

TEST_F(StaticFiles, ConcurrentServeIsSafe) {
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 200; ++i) {
                auto a = (t % 2) ? get("/blob.bin", {{"Range", "bytes=2-5"}})
                                 : spa_get("/route", {{"Accept", "text/html"}});
                if (!a || (a->status != 206 && a->status != 200)) ++failures;
            }
        });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(failures.load(), 0);
}

// ------------------------------------------------------------ built apps

TEST(StaticFingerprint, RecognisesBuildFingerprintsOnly) {
    for (const char* name : {"index-4f3a9c1b.js", "index-B7xk2Q9a.js", "index-B_x-9aQ1.js", "app.3f2a1b9c.css",
                             "chunk-vendors-2a3b4c5d.js", "logo-a1b2c3d4.svg", "index-4f3a9c1b.js.map"})
        EXPECT_TRUE(is_fingerprinted(name)) << name;
    for (const char* name : {"app.js", "index.html", "my-components.js", "OpenSans-SemiBold.woff2", "jquery-3.7.1.min.js",
                             "-4f3a9c1b.js", "index-4f3a9c1b", "index-4f3a9c.js", "index-4f3a9c1b!.js", "abcdefgh12345678"})
        EXPECT_FALSE(is_fingerprinted(name)) << name;
}

TEST_F(StaticFiles, FingerprintedAssetsAreImmutableIndexIsNoCache) {
    write_file(root_ / "assets" / "index-4f3a9c1b.js", "built();");
    write_file(root_ / "assets" / "plain.js", "plain();");
    const StaticSite site(root_, true);
    auto hashed = serve(site, "GET", "/assets/index-4f3a9c1b.js");
    ASSERT_TRUE(hashed);
    EXPECT_EQ(header(*hashed, "Cache-Control"), "public, max-age=31536000, immutable");
    EXPECT_EQ(hashed->content_type, "text/javascript; charset=utf-8");
    auto plain = serve(site, "GET", "/assets/plain.js");
    ASSERT_TRUE(plain);
    EXPECT_EQ(header(*plain, "Cache-Control"), "public, max-age=3600");
    auto index = serve(site, "GET", "/", {{"Accept", "text/html"}});
    ASSERT_TRUE(index);
    EXPECT_EQ(header(*index, "Cache-Control"), "no-cache");
    // A 304 of an immutable asset keeps its caching.
    auto again = serve(site, "GET", "/assets/index-4f3a9c1b.js", {{"If-None-Match", header(*hashed, "ETag")}});
    ASSERT_TRUE(again);
    EXPECT_EQ(again->status, 304);
    EXPECT_EQ(header(*again, "Cache-Control"), "public, max-age=31536000, immutable");
}

TEST_F(StaticFiles, PrecompressedSiblingsWhenAccepted) {
    write_file(root_ / "big.js", "uncompressed");
    write_file(root_ / "big.js.br", "BROTLI");
    write_file(root_ / "big.js.gz", "GZIPPED!");
    write_file(root_ / "only-gz.css", "css");
    write_file(root_ / "only-gz.css.gz", "GZCSS");
    const StaticSite site(root_, false);

    auto br = serve(site, "GET", "/big.js", {{"Accept-Encoding", "gzip, deflate, br"}});
    ASSERT_TRUE(br);
    EXPECT_EQ(br->body, "BROTLI");
    EXPECT_EQ(header(*br, "Content-Encoding"), "br");
    EXPECT_EQ(br->content_type, "text/javascript; charset=utf-8");
    EXPECT_EQ(header(*br, "Vary"), "Accept-Encoding");

    auto gz = serve(site, "GET", "/big.js", {{"Accept-Encoding", "gzip;q=0.8, br;q=0"}});
    ASSERT_TRUE(gz);
    EXPECT_EQ(gz->body, "GZIPPED!");
    EXPECT_EQ(header(*gz, "Content-Encoding"), "gzip");
    EXPECT_NE(header(*gz, "ETag"), header(*br, "ETag"));  // each variant its own validator

    auto star = serve(site, "GET", "/only-gz.css", {{"Accept-Encoding", "*"}});
    ASSERT_TRUE(star);
    EXPECT_EQ(star->body, "GZCSS");
    EXPECT_EQ(star->content_type, "text/css; charset=utf-8");

    for (const Headers& headers : {Headers{}, Headers{{"Accept-Encoding", "identity"}},
                                   Headers{{"Accept-Encoding", "br;q=0.0, gzip;q=0, *;q=1"}}}) {
        auto identity = serve(site, "GET", "/big.js", headers);
        ASSERT_TRUE(identity);
        EXPECT_EQ(identity->body, "uncompressed");
        EXPECT_EQ(header(*identity, "Content-Encoding"), "<absent>");
        EXPECT_EQ(header(*identity, "Vary"), "Accept-Encoding");  // caches must keep the variants apart
    }
    // No sibling: no Vary, whatever the client accepts.
    auto app = serve(site, "GET", "/app.js", {{"Accept-Encoding", "br, gzip"}});
    ASSERT_TRUE(app);
    EXPECT_EQ(header(*app, "Vary"), "<absent>");
    EXPECT_EQ(header(*app, "Content-Encoding"), "<absent>");
    // A range applies to the bytes sent.
    auto part = serve(site, "GET", "/big.js", {{"Accept-Encoding", "br"}, {"Range", "bytes=0-1"}});
    ASSERT_TRUE(part);
    EXPECT_EQ(part->status, 206);
    EXPECT_EQ(part->body, "BR");
    EXPECT_EQ(header(*part, "Content-Range"), "bytes 0-1/6");
}

TEST_F(StaticFiles, SpaFallbackVariesOnAcceptAndEncoding) {
    write_file(root_ / "index.html.gz", "GZINDEX");
    const StaticSite site(root_, true);
    auto a = serve(site, "GET", "/notes/42", {{"Accept", "text/html"}, {"Accept-Encoding", "gzip"}});
    ASSERT_TRUE(a);
    EXPECT_EQ(a->body, "GZINDEX");
    EXPECT_EQ(header(*a, "Content-Encoding"), "gzip");
    EXPECT_EQ(a->content_type, "text/html; charset=utf-8");
    EXPECT_EQ(header(*a, "Vary"), "Accept, Accept-Encoding");
    EXPECT_EQ(header(*a, "Cache-Control"), "no-cache");
}

TEST_F(StaticFiles, ImmutableFoldersCoverHashesTheNameRuleCannotTell) {
    write_file(root_ / "assets" / "index-BmHUIpCE.css", "a{}");  // a Vite hash without a digit
    write_file(root_ / "assets" / "index.html", "<p>an index stays no-cache</p>");
    write_file(root_ / "assetsmore" / "x.css", "b{}");
    write_file(root_ / "BmHUIpCE.css", "c{}");
    const StaticSite plain(root_, false);
    const StaticSite site(root_, false, StaticSite::kDefaultMaxBodyBytes, {"/assets/"});
    EXPECT_EQ(header(*serve(plain, "GET", "/assets/index-BmHUIpCE.css"), "Cache-Control"), "public, max-age=3600");
    EXPECT_EQ(header(*serve(site, "GET", "/assets/index-BmHUIpCE.css"), "Cache-Control"),
              "public, max-age=31536000, immutable");
    EXPECT_FALSE(serve(site, "GET", "/assets%2Findex-BmHUIpCE.css")) << "an encoded slash is refused, not a folder";
    EXPECT_EQ(header(*serve(site, "GET", "/assets/index.html"), "Cache-Control"), "no-cache");
    EXPECT_EQ(header(*serve(site, "GET", "/assetsmore/x.css"), "Cache-Control"), "public, max-age=3600");
    EXPECT_EQ(header(*serve(site, "GET", "/BmHUIpCE.css"), "Cache-Control"), "public, max-age=3600");
}

TEST_F(StaticFiles, PrecompressedSiblingsFollowTheRulesOfAnyFile) {
    write_file(root_ / "lib.js", "plain");
    fs::create_symlink("/etc/passwd", root_ / "lib.js.br");  // a sibling leading out of the root
    write_file(root_ / "inside.gz.txt", "GZ");
    fs::create_symlink("inside.gz.txt", root_ / "lib.js.gz");  // one staying inside
    const StaticSite site(root_, false);
    auto a = serve(site, "GET", "/lib.js", {{"Accept-Encoding", "br, gzip"}});
    ASSERT_TRUE(a);
    EXPECT_EQ(a->body, "GZ");
    EXPECT_EQ(header(*a, "Content-Encoding"), "gzip");
    // q anywhere among the parameters refuses.
    auto refused = serve(site, "GET", "/lib.js", {{"Accept-Encoding", "gzip;level=1;q=0"}});
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->body, "plain");
    EXPECT_EQ(header(*refused, "Content-Encoding"), "<absent>");
}
