// The HTTP contract, through the hello plugin: routing, errors as RFC 9457
// problem+json, HEAD, keep-alive, body limits, malformed requests.
#include <strings.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "fixture.hpp"

namespace e2e {
namespace {

constexpr std::size_t kLimit = 8192;  // max_request_bytes below

class HelloTest : public SharedHostTest<HelloTest> {
public:
    static void SetUpTestSuite() {
        start("  hello: {mount: /, settings: {greeting: Hi}}\n", {.server_extra = "  max_request_bytes: 8KiB\n"});
    }
};

bool says_close(const Response& r) {
    auto c = r.header("Connection");
    return c && ::strcasecmp(c->c_str(), "close") == 0;
}

// A JSON string literal of exactly `n` bytes: "aaa...".
std::string json_string_of_size(std::size_t n) { return "\"" + std::string(n - 2, 'a') + "\""; }

TEST_F(HelloTest, HelloUsesConfiguredGreeting) {
    Response r = get(port(), "/hello");
    ASSERT_EQ(r.status, 200) << r.dump();
    ASSERT_TRUE(r.header("Content-Type")) << r.dump();
    EXPECT_EQ(r.header("Content-Type")->rfind("application/json", 0), 0u) << r.dump();
    EXPECT_EQ(r.json(), (nlohmann::json{{"message", "Hi, world!"}}));
}

TEST_F(HelloTest, HelloNameUsesPathParameter) {
    Response r = get(port(), "/hello/Ada");
    ASSERT_EQ(r.status, 200) << r.dump();
    EXPECT_EQ(r.json(), (nlohmann::json{{"message", "Hi, Ada!"}}));
}

TEST_F(HelloTest, PathParameterIsPercentDecoded) {
    Response r = get(port(), "/hello/J%C3%BCrgen%20X");
    ASSERT_EQ(r.status, 200) << r.dump();
    EXPECT_EQ(r.json()["message"], "Hi, J\xC3\xBCrgen X!");
}

TEST_F(HelloTest, QueryStringDoesNotAffectRouting) {
    Response r = get(port(), "/hello?lang=fr&x");
    ASSERT_EQ(r.status, 200) << r.dump();
    EXPECT_EQ(r.json()["message"], "Hi, world!");
}

TEST_F(HelloTest, EchoReturnsTheJsonBody) {
    nlohmann::json doc = {{"a", {1, 2, {{"b", nullptr}}}}, {"s", "x\"y"}, {"n", 1.5}};
    Response r = http(port(), "POST", "/echo", {{"Content-Type", "application/json"}}, doc.dump());
    ASSERT_EQ(r.status, 200) << r.dump();
    EXPECT_EQ(r.json(), doc);
}

TEST_F(HelloTest, EchoWithInvalidJsonIs400Problem) {
    Response r = http(port(), "POST", "/echo", {{"Content-Type", "application/json"}}, std::string("{not json"));
    EXPECT_TRUE(IsProblem(r, 400, "/echo", "Bad Request"));
}

TEST_F(HelloTest, UnknownPathIs404Problem) {
    Response r = get(port(), "/no/such/path");
    ASSERT_TRUE(IsProblem(r, 404, "/no/such/path", "Not Found"));
    auto j = r.json();
    EXPECT_EQ(j["type"], "about:blank");
    EXPECT_EQ(j["status"], 404);
}

TEST_F(HelloTest, TrailingSlashIsADifferentPath) {
    EXPECT_TRUE(IsProblem(get(port(), "/hello/"), 404, "/hello/", "Not Found"));
}

TEST_F(HelloTest, WrongMethodIs405WithSortedAllow) {
    Response r = http(port(), "POST", "/hello", {}, std::string("{}"));
    ASSERT_TRUE(IsProblem(r, 405, "/hello", "Method Not Allowed"));
    EXPECT_EQ(r.header("Allow").value_or("<none>"), "GET, HEAD") << r.dump();

    Response d = http(port(), "DELETE", "/echo");
    ASSERT_TRUE(IsProblem(d, 405, "/echo", "Method Not Allowed"));
    EXPECT_EQ(d.header("Allow").value_or("<none>"), "POST") << d.dump();
}

TEST_F(HelloTest, HeadOnGetRouteHasSameHeadersAndNoBody) {
    Response g = get(port(), "/hello");
    ASSERT_EQ(g.status, 200) << g.dump();

    Connection c(port());
    Response h = c.request("HEAD", "/hello");
    ASSERT_EQ(h.status, 200) << h.dump();
    EXPECT_EQ(h.header("Content-Type"), g.header("Content-Type")) << h.dump();
    // RFC 9110 9.3.2: the length the GET would have sent.
    EXPECT_EQ(h.header("Content-Length"), g.header("Content-Length")) << h.dump();
    EXPECT_FALSE(c.has_extra_bytes(300)) << "a body followed the HEAD response";
    // The connection is still in sync: the next response parses.
    Response next = c.request("GET", "/hello/after-head");
    ASSERT_EQ(next.status, 200) << next.dump();
    EXPECT_EQ(next.json()["message"], "Hi, after-head!");
}

TEST_F(HelloTest, HeadOnUnknownPathIs404WithoutBody) {
    Connection c(port());
    Response h = c.request("HEAD", "/nothing-here");
    EXPECT_EQ(h.status, 404) << h.dump();
    EXPECT_FALSE(c.has_extra_bytes(300)) << "a body followed the HEAD response";
}

TEST_F(HelloTest, Http11KeepsConnectionAliveByDefault) {
    Connection c(port());
    Response first = c.request("GET", "/hello");
    ASSERT_EQ(first.status, 200) << first.dump();
    EXPECT_FALSE(says_close(first)) << "HTTP/1.1 without Connection header must stay open:\n" << first.dump();

    Response second = c.request("GET", "/hello/again");
    ASSERT_EQ(second.status, 200) << second.dump();
    EXPECT_EQ(second.json()["message"], "Hi, again!");

    Response third = c.request("POST", "/echo", {}, std::string("[1,2,3]"));
    ASSERT_EQ(third.status, 200) << third.dump();
    EXPECT_EQ(third.json(), nlohmann::json::parse("[1,2,3]"));
}

TEST_F(HelloTest, ErrorResponsesKeepConnectionAlive) {
    Connection c(port());
    Response missing = c.request("GET", "/missing");
    EXPECT_EQ(missing.status, 404) << missing.dump();
    Response wrong = c.request("PUT", "/hello", {}, std::string("x"));
    EXPECT_EQ(wrong.status, 405) << wrong.dump();
    Response ok = c.request("GET", "/hello");
    EXPECT_EQ(ok.status, 200) << ok.dump();
}

TEST_F(HelloTest, ConnectionCloseIsHonoured) {
    Connection c(port());
    Response r = c.request("GET", "/hello", {{"Connection", "close"}});
    ASSERT_EQ(r.status, 200) << r.dump();
    EXPECT_TRUE(c.closed_by_peer(3000)) << "the server kept the connection open after Connection: close";
}

TEST_F(HelloTest, Http10ClosesByDefault) {
    // RFC 9112 9.3: an HTTP/1.0 request without "Connection: keep-alive" is
    // answered and the connection closed.
    Connection c(port());
    c.send_raw("GET /hello HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
    Response r = c.read_response();
    ASSERT_EQ(r.status, 200) << r.dump();
    EXPECT_TRUE(c.closed_by_peer(3000)) << "the server kept an HTTP/1.0 connection open";
}

TEST_F(HelloTest, BodyLargerThanLimitIs413Problem) {
    Connection c(port());
    c.send_raw(build_request("POST", "/echo", port(), {{"Content-Type", "application/json"}},
                             json_string_of_size(kLimit + 1)));
    Response r = c.read_response();
    EXPECT_TRUE(IsProblem(r, 413, "/echo"));
    // and the host still serves
    EXPECT_EQ(get(port(), "/hello").status, 200);
}

TEST_F(HelloTest, HugeDeclaredContentLengthIs413WithoutWaitingForBody) {
    // Only the headers are sent: the limit must be enforced on the declared
    // length, before reading (or reserving memory for) the body.
    Connection c(port());
    c.send_raw("POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
               "Content-Length: 999999999999\r\n\r\n{");
    Response r = c.read_response(false, 5000);
    EXPECT_TRUE(IsProblem(r, 413, "/echo"));
    EXPECT_EQ(get(port(), "/hello").status, 200) << "the host must survive it";
}

TEST_F(HelloTest, InvalidContentLengthIs400) {
    // RFC 9112 6.3: an invalid Content-Length is a 400; and no internal
    // exception text may reach the client.
    for (const char* length : {"-5", "18446744073709551616"}) {
        Connection c(port());
        c.send_raw(std::string("POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ") + length +
                   "\r\n\r\n{}");
        Response r = c.read_response(false, 5000);
        EXPECT_EQ(r.status, 400) << "Content-Length: " << length << "\n" << r.dump();
        EXPECT_TRUE(NotContains(r.body, "basic_string")) << "Content-Length: " << length;
    }
    EXPECT_EQ(get(port(), "/hello").status, 200) << "the host must survive it";
}

TEST_F(HelloTest, FramingRefusalsAreProblemsAndCloseTheConnection) {
    // After bad framing the host cannot know where the next request starts:
    // it answers problem+json and closes.
    struct Case {
        const char* extra_headers;
        int status;
    } cases[] = {
        {"Content-Length: abc\r\n", 400},
        {"Content-Length: 2\r\nContent-Length: 3\r\n", 400},
        // Content-Length with Transfer-Encoding: request smuggling (RFC 9112 6.1).
        {"Content-Length: 3\r\nTransfer-Encoding: chunked\r\n", 400},
        {"Transfer-Encoding: gzip\r\n", 400},
    };
    for (const auto& c : cases) {
        Connection conn(port());
        conn.send_raw(std::string("POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\n") + c.extra_headers +
                      "\r\n2\r\n{}\r\n0\r\n\r\n");
        Response r = conn.read_response(false, 5000);
        EXPECT_TRUE(IsProblem(r, c.status, "/echo")) << c.extra_headers;
        EXPECT_TRUE(says_close(r)) << c.extra_headers;
        EXPECT_TRUE(conn.closed_by_peer()) << c.extra_headers;
    }
    EXPECT_EQ(get(port(), "/hello").status, 200) << "the host must survive it";
}

TEST_F(HelloTest, OversizedHeadersAre431) {
    Connection c(port());
    c.send_raw("GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + std::string(70 * 1024, 'a') + "\r\n\r\n");
    Response r = c.read_response(false, 5000);
    EXPECT_TRUE(IsProblem(r, 431, "/hello"));
    EXPECT_EQ(get(port(), "/hello").status, 200) << "the host must survive it";
}

TEST_F(HelloTest, BodyAtLimitIsAccepted) {
    std::string body = json_string_of_size(kLimit);
    Response r = http(port(), "POST", "/echo", {{"Content-Type", "application/json"}}, body);
    ASSERT_EQ(r.status, 200) << r.dump().substr(0, 2000);
    EXPECT_EQ(r.body, body);
}

TEST_F(HelloTest, MalformedRequestLineIs400) {
    {
        Connection c(port());
        c.send_raw("GET /hello HTTX/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        Response r = c.read_response();
        EXPECT_EQ(r.status, 400) << r.dump();
    }
    {
        Connection c(port());
        c.send_raw("GET\r\nHost: 127.0.0.1\r\n\r\n");
        Response r = c.read_response();
        EXPECT_EQ(r.status, 400) << r.dump();
    }
    // the host still serves
    EXPECT_EQ(get(port(), "/hello").status, 200);
}

TEST_F(HelloTest, GarbageBytesAre400) {
    Connection c(port());
    c.send_raw(std::string("\x01\x02\x03 \xff\xfe junk\r\n\r\n"));
    Response r = c.read_response();
    EXPECT_EQ(r.status, 400) << r.dump();
    EXPECT_EQ(get(port(), "/hello").status, 200);
}

TEST_F(HelloTest, ConcurrentKeepAliveClients) {
    constexpr int kClients = 6, kRequests = 25;
    std::atomic<int> ok{0};
    std::vector<std::string> errors(kClients);
    std::vector<std::thread> threads;
    for (int t = 0; t < kClients; ++t) {
        threads.emplace_back([&, t] {
            try {
                Connection c(port());
                for (int i = 0; i < kRequests; ++i) {
                    std::string name = "c" + std::to_string(t) + "r" + std::to_string(i);
                    Response r = c.request("GET", "/hello/" + name);
                    if (r.status == 200 && r.json()["message"] == "Hi, " + name + "!") {
                        ++ok;
                    } else {
                        errors[t] = r.dump();
                        return;
                    }
                }
            } catch (const std::exception& e) {
                errors[t] = e.what();
            }
        });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(ok.load(), kClients * kRequests);
    for (int t = 0; t < kClients; ++t) EXPECT_EQ(errors[t], "") << "client " << t;
}

}  // namespace
}  // namespace e2e
