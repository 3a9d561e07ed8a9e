// The HTTP/1.1 codec over real sockets: pipelining, chunked bodies, strict
// framing, Expect: 100-continue, timeouts, max_connections, Date/Server.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "fixture.hpp"
#include "harness.hpp"
#include "http_client.hpp"

namespace e2e {
namespace {

using namespace std::chrono_literals;

class CodecTest : public SharedHostTest<CodecTest> {
public:
    static void SetUpTestSuite() {
        start("  hello: {mount: /}\n",
              {.server_extra = "  max_request_bytes: 8KiB\n  header_timeout: 1s\n  body_timeout: 1s\n"
                               "  keepalive_timeout: 2s\n"});
    }
};

bool says_close(const Response& r) {
    const auto c = r.header("Connection");
    return c && (*c == "close" || *c == "Close");
}

std::string get_line(const std::string& path) { return "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"; }

std::string echo_post(const std::string& json) {
    return "POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: " +
           std::to_string(json.size()) + "\r\n\r\n" + json;
}

TEST_F(CodecTest, FiftyPipelinedGetsInOneWriteAreAnsweredInOrder) {
    Connection c(port());
    std::string all;
    for (int i = 0; i < 50; ++i) all += get_line("/hello/p" + std::to_string(i));
    ASSERT_TRUE(c.send_raw(all));
    for (int i = 0; i < 50; ++i) {
        const Response r = c.read_response();
        ASSERT_EQ(r.status, 200) << "answer " << i;
        EXPECT_EQ(r.json()["message"], "Hello, p" + std::to_string(i) + "!");
    }
    EXPECT_FALSE(c.has_extra_bytes(200)) << "each request is answered exactly once";
}

TEST_F(CodecTest, PipelinedRequestsSplitByteByByte) {
    Connection c(port());
    std::string all;
    for (int i = 0; i < 5; ++i) all += get_line("/hello/b" + std::to_string(i));
    for (char byte : all) ASSERT_TRUE(c.send_raw(std::string(1, byte)));
    for (int i = 0; i < 5; ++i) EXPECT_EQ(c.read_response().json()["message"], "Hello, b" + std::to_string(i) + "!");
}

TEST_F(CodecTest, PipelinedPostsWithBodies) {
    Connection c(port());
    std::string all;
    for (int i = 0; i < 10; ++i) all += echo_post("{\"n\":" + std::to_string(i) + "}");
    ASSERT_TRUE(c.send_raw(all));
    for (int i = 0; i < 10; ++i) {
        const Response r = c.read_response();
        ASSERT_EQ(r.status, 200) << r.dump();
        EXPECT_EQ(r.json()["n"], i);
    }
}

std::string chunked_post(const std::string& chunks) {
    return "POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" +
           chunks;
}

TEST_F(CodecTest, ChunkedBodiesAreDecoded) {
    {
        Connection c(port());
        c.send_raw(chunked_post("4\r\n{\"a\"\r\n0\r\n\r\n").substr(0, 10));  // split inside the request line
        c.send_raw(chunked_post("4\r\n{\"a\"\r\n5\r\n:[1,2\r\n2\r\n]}\r\n0\r\n\r\n").substr(10));
        const Response r = c.read_response();
        ASSERT_EQ(r.status, 200) << r.dump();
        EXPECT_EQ(r.json()["a"], nlohmann::json::array({1, 2}));
    }
    {
        // Chunk headers split across writes, a chunk extension, trailers.
        Connection c(port());
        const std::string whole = chunked_post("2;ext=1\r\n{}\r\n0\r\nX-Trailer: yes\r\n\r\n");
        for (std::size_t i = 0; i < whole.size(); i += 3) ASSERT_TRUE(c.send_raw(whole.substr(i, 3)));
        const Response r = c.read_response();
        ASSERT_EQ(r.status, 200) << r.dump();
        EXPECT_EQ(r.body, "{}");
        // The connection stays usable.
        EXPECT_EQ(c.request("GET", "/hello/after").status, 200);
    }
}

TEST_F(CodecTest, BadChunksAreRefused) {
    struct Case {
        std::string chunks;
        int status;
    } cases[] = {
        {"zz\r\n{}\r\n0\r\n\r\n", 400},                 // not hex
        {"ffffffffffffffffffff\r\n", 400},               // overflow
        {"3000\r\n", 413},                               // one chunk over the 8 KiB limit, refused before it is sent
        {"1000\r\n" + std::string(4096, ' ') + "\r\n1001\r\n", 413},  // the sum over the limit
    };
    for (const auto& k : cases) {
        Connection c(port());
        c.send_raw(chunked_post(k.chunks));
        const Response r = c.read_response();
        EXPECT_TRUE(IsProblem(r, k.status, "/echo")) << k.chunks.substr(0, 40) << "\n" << r.dump();
        EXPECT_TRUE(says_close(r));
        EXPECT_TRUE(c.closed_by_peer());
    }
}

TEST_F(CodecTest, MalformedRequestsGet400AtOnceAndTheConnectionCloses) {
    const char* cases[] = {
        "GARBAGE\r\n\r\n",
        "GET /\r\n\r\n",                                    // HTTP/0.9
        "GET / HTTP/1.1\r\n\r\n",                           // no Host
        "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",     // two Hosts
        "GET / HTTP/1.1\r\nHost: a\r\nX-Folded: one\r\n two\r\n\r\n",  // obs-fold
        "GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n",          // bare CR
        "GET / HTTP/1.1\r\nHost : a\r\n\r\n",               // space before the colon
    };
    for (const char* raw : cases) {
        Connection c(port());
        c.send_raw(raw);
        const Response r = c.read_response(false, 2000);  // at once: long before header_timeout
        EXPECT_EQ(r.status, 400) << raw << "\n" << r.dump();
        EXPECT_EQ(r.header("Content-Type").value_or(""), "application/problem+json");
        EXPECT_TRUE(c.closed_by_peer()) << raw;
    }
    Connection c(port());
    c.send_raw("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
    EXPECT_EQ(c.read_response().status, 505);
    for (const char* version : {"HTTP/1.2", "HTTP/3.0"}) {
        Connection v(port());
        v.send_raw(std::string("GET /hello/x ") + version + "\r\nHost: a\r\n\r\n");
        EXPECT_EQ(v.read_response().status, 505) << version;
    }
    Connection malformed(port());
    malformed.send_raw("GET /hello/x HTTP/1.x\r\nHost: a\r\n\r\n");
    EXPECT_EQ(malformed.read_response().status, 400);
}

TEST_F(CodecTest, AbsoluteFormTargetsAreRoutedByTheirPath) {
    Connection c(port());
    c.send_raw("GET http://localhost:8080/hello/world?x=1 HTTP/1.1\r\nHost: localhost:8080\r\n\r\n");
    const Response r = c.read_response();
    ASSERT_EQ(r.status, 200) << r.dump();
    EXPECT_EQ(r.json()["message"], "Hello, world!");
}

TEST_F(CodecTest, ExpectContinueIsAnsweredOnlyWhenTheBodyWillBeRead) {
    {
        Connection c(port());
        c.send_raw("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 7\r\n"
                   "Expect: 100-continue\r\n\r\n");
        const Response interim = c.read_response();
        EXPECT_EQ(interim.status, 100);
        c.send_raw("{\"x\":1}");
        const Response r = c.read_response();
        ASSERT_EQ(r.status, 200) << r.dump();
        EXPECT_EQ(r.json()["x"], 1);
    }
    {
        // Over the limit: 413 instead of 100, before the client sends the body.
        Connection c(port());
        c.send_raw("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\nExpect: 100-continue\r\n\r\n");
        const Response r = c.read_response();
        EXPECT_TRUE(IsProblem(r, 413, "/echo")) << r.dump();
    }
}

TEST_F(CodecTest, ResponsesCarryDateAndServer) {
    const Response r = get(port(), "/hello/x");
    const auto date = r.header("Date");
    ASSERT_TRUE(date) << r.dump();
    EXPECT_TRUE(date->size() == 29 && date->substr(date->size() - 4) == " GMT") << *date;  // IMF-fixdate
    EXPECT_EQ(r.header("Server").value_or(""), "trellis");
}

TEST_F(CodecTest, SlowHeadersGet408AfterHeaderTimeout) {
    Connection c(port());
    c.send_raw("GET /hello/slow HTTP/1.1\r\n");
    // One byte every 300 ms: each read is quick, the whole head is not.
    std::string rest = "Host: 127.0.0.1\r\nX-A: 1\r\n";
    for (char byte : rest) {
        std::this_thread::sleep_for(300ms);
        if (!c.send_raw(std::string(1, byte))) break;  // the host answered and closed
    }
    const Response r = c.read_response(false, 3000);
    EXPECT_EQ(r.status, 408) << r.dump();
    EXPECT_TRUE(c.closed_by_peer());
}

TEST_F(CodecTest, SlowBodiesGet408AfterBodyTimeout) {
    Connection c(port());
    c.send_raw("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n{\"a\"");
    const Response r = c.read_response(false, 4000);
    EXPECT_EQ(r.status, 408) << r.dump();
    EXPECT_NE(r.body.find("body_timeout"), std::string::npos) << r.body;
}

TEST_F(CodecTest, IdleKeepAliveConnectionsCloseAfterKeepaliveTimeout) {
    Connection c(port());
    EXPECT_EQ(c.request("GET", "/hello/idle").status, 200);
    EXPECT_TRUE(c.closed_by_peer(4000)) << "keepalive_timeout is 2 s";
}

TEST_F(CodecTest, ARefusedUploadStillReadsItsAnswer) {
    // The client keeps sending a body the host refused: the host half-closes
    // and drops what arrives (a lingering close), so the 413 is not lost to
    // a reset.
    Connection c(port());
    c.send_raw("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 400000\r\n\r\n");
    const std::string chunk(16 * 1024, ' ');
    for (int i = 0; i < 12; ++i)
        if (!c.send_raw(chunk)) break;
    const Response r = c.read_response(false, 3000);
    EXPECT_TRUE(IsProblem(r, 413, "/echo")) << r.dump();
    EXPECT_TRUE(c.closed_by_peer(4000));
}

TEST_F(CodecTest, BusyKeepAliveConnectionsOutliveKeepaliveTimeout) {
    // keepalive_timeout (2 s) counts from the last answer, not from the connect.
    Connection c(port());
    const auto until = std::chrono::steady_clock::now() + 3500ms;
    int answered = 0;
    while (std::chrono::steady_clock::now() < until) {
        ASSERT_EQ(c.request("GET", "/hello/busy").status, 200) << "after " << answered << " answers";
        ++answered;
        std::this_thread::sleep_for(100ms);
    }
    EXPECT_GT(answered, 20);
}

TEST(CodecLimits, ConnectionsOverMaxConnectionsAreRefusedCleanly) {
    HostOptions options;
    options.server_extra = "  workers: 0\n  max_connections: 3\n";
    auto host = Host::start("  hello: {mount: /}\n", options);
    std::vector<std::unique_ptr<Connection>> open;
    for (int i = 0; i < 3; ++i) {
        open.push_back(std::make_unique<Connection>(host->port()));
        ASSERT_EQ(open.back()->request("GET", "/hello/held").status, 200);
    }
    {
        Connection extra(host->port());
        extra.send_raw("GET /hello/extra HTTP/1.1\r\nHost: a\r\n\r\n");
        const Response r = extra.read_response();
        EXPECT_EQ(r.status, 503) << r.dump();
        EXPECT_EQ(r.header("Content-Type").value_or(""), "application/problem+json");
        EXPECT_TRUE(says_close(r));
        EXPECT_TRUE(extra.closed_by_peer());
    }  // the client closes its end: the refused connection is gone
    EXPECT_TRUE(host->wait_for_log("more than server.max_connections (3): refusing new ones")) << host->err();
    open.pop_back();
    std::this_thread::sleep_for(200ms);
    EXPECT_EQ(get(host->port(), "/hello/again").status, 200) << "a freed slot is usable again";
}

TEST(CodecLimits, DateAndServerHeadersCanBeTurnedOff) {
    HostOptions options;
    options.server_extra = "  workers: 0\n  date_header: false\n  server_header: \"\"\n";
    auto host = Host::start("  hello: {mount: /}\n", options);
    const Response r = get(host->port(), "/hello/x");
    EXPECT_FALSE(r.header("Date")) << r.dump();
    EXPECT_FALSE(r.header("Server")) << r.dump();
}

TEST(CodecLimits, CurlChunkedUploadIsDecoded) {
    HostOptions options;
    auto host = Host::start("  hello: {mount: /}\n", options);
    TempDir dir;
    const auto file = dir.write("note.json", R"({"title":"sent by curl, chunked"})");
    const RunResult curl = run_program({"/usr/bin/curl", "-sS", "-H", "Transfer-Encoding: chunked", "-H",
                                        "Content-Type: application/json", "--data-binary", "@" + file.string(),
                                        "http://127.0.0.1:" + std::to_string(host->port()) + "/echo"});
    ASSERT_TRUE(curl.status.exited && curl.status.code == 0) << curl.describe();
    EXPECT_EQ(nlohmann::json::parse(curl.out)["title"], "sent by curl, chunked") << curl.describe();
}

}  // namespace
}  // namespace e2e
