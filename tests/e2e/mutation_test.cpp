// Mutated requests against the real binary, over real sockets: a seed set
// of valid requests (pipelined, chunked, with bodies) mutated thousands of
// times (bounded in count and time). Every one gets a well-formed HTTP
// answer, a close, or (when it is incomplete) silence until it would time
// out; the host keeps answering normal requests and its memory stays bounded.
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "harness.hpp"
#include "http_client.hpp"

namespace e2e {
namespace {

long rss_kib(pid_t pid) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string key;
    long value = 0;
    while (status >> key) {
        if (key == "VmRSS:") {
            status >> value;
            return value;
        }
        std::getline(status, key);
    }
    return -1;
}

const std::vector<std::string>& seeds() {
    static const std::vector<std::string> all = {
        "GET /hello/seed HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        "GET /hello/a HTTP/1.1\r\nHost: x\r\n\r\nGET /hello/b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n{\"a\":[1,2,3]}",
        "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n3\r\n:1}\r\n0\r\nT: 1\r\n\r\n",
        "HEAD /hello/h?x=1&y=%20 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
        "GET http://localhost/hello/abs HTTP/1.1\r\nHost: localhost\r\nX-Request-Id: abc-1\r\n\r\n",
        "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n{}",
        "DELETE /hello/d HTTP/1.1\r\nHost: x\r\nCookie: a=b; c=d\r\nAccept: */*\r\n\r\n",
    };
    return all;
}

std::string mutate(std::string s, std::mt19937& rng) {
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits && !s.empty(); ++e) {
        const std::size_t at = rng() % s.size();
        switch (rng() % 6) {
            case 0: s[at] = static_cast<char>(rng() % 256); break;                     // flip a byte
            case 1: s.insert(at, 1, static_cast<char>(rng() % 256)); break;            // insert one
            case 2: s.erase(at, 1 + rng() % 8); break;                                 // delete some
            case 3: s.insert(at, s.substr(at, 1 + rng() % 32)); break;                 // repeat a piece
            case 4: s.resize(at); break;                                               // truncate
            case 5: s.insert(at, std::string("\r\n:\t \0%{}", 9).substr(rng() % 9, 1)); break;  // a framing byte
        }
    }
    return s;
}

TEST(Mutation, MutatedRequestsGetWellFormedAnswersOrACloseAndTheHostSurvives) {
    HostOptions options;
    options.server_extra = "  workers: 0\n  max_request_bytes: 64KiB\n  header_timeout: 1s\n";
    options.logging_extra = "  access: false\n";
    auto host = Host::start("  hello: {mount: /}\n", options);
    for (int i = 0; i < 200; ++i) ASSERT_EQ(get(host->port(), "/hello/warm").status, 200);
    const long rss_before = rss_kib(host->process().pid());

    constexpr int kThreads = 8, kPerThread = 300;  // 2,400 mutated connections
    std::atomic<int> answered{0}, closed{0}, silent{0}, malformed{0};
    std::vector<std::string> bad(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
        threads.emplace_back([&, t] {
            std::mt19937 rng(1000 + t);  // deterministic: a failure can be replayed
            for (int i = 0; i < kPerThread; ++i) {
                const std::string input = mutate(seeds()[rng() % seeds().size()], rng);
                try {
                    Connection c(host->port());
                    if (!c.send_raw(input)) {
                        ++closed;
                        continue;
                    }
                    const Response r = c.read_response(input.rfind("HEAD", 0) == 0, 150);
                    if (r.version != "HTTP/1.1" || r.status < 100 || r.status > 599) {
                        ++malformed;
                        bad[t] = r.dump();
                    } else {
                        ++answered;
                    }
                } catch (const std::exception& e) {
                    const std::string what = e.what();
                    if (what.rfind("timed out", 0) == 0) ++silent;
                    else if (what.rfind("connection closed", 0) == 0 || what.rfind("EOF", 0) == 0) ++closed;
                    else {
                        ++malformed;
                        bad[t] = what + "\ninput: " + input;
                    }
                }
            }
        });
    for (auto& th : threads) th.join();
    std::cout << "[mutation] " << answered << " answered, " << closed << " closed, " << silent
              << " incomplete (no answer within 150 ms), " << malformed << " malformed answers\n";
    EXPECT_EQ(malformed, 0);
    for (const auto& b : bad) EXPECT_EQ(b, "");
    EXPECT_GT(answered, kThreads * kPerThread / 4) << "most mutations still make a request or a refusal";

    ASSERT_TRUE(host->process().running()) << host->err();
    for (int i = 0; i < 50; ++i) ASSERT_EQ(get(host->port(), "/hello/after").status, 200);
    const long rss_after = rss_kib(host->process().pid());
    std::cout << "[mutation] RSS " << rss_before << " KiB before, " << rss_after << " KiB after\n";
    EXPECT_LT(rss_after, rss_before + 32 * 1024) << "memory stays bounded";
}

}  // namespace
}  // namespace e2e
