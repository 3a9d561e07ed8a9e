// A load client for the service tests: N threads, each keeping one
// keep-alive connection busy with requests until stopped, counting every
// answer and every failure (refused, reset, closed before a full answer,
// timeout). A connection the server closes after answering with
// "Connection: close" is reopened without counting anything: that is how a
// draining worker hands its clients over.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

namespace e2e {

struct LoadCounts {
    std::uint64_t ok = 0;         // 2xx
    std::uint64_t non_2xx = 0;
    std::uint64_t failed = 0;     // a request sent that got no complete answer
    std::uint64_t refused = 0;    // a connection that could not be opened
    std::uint64_t connects = 0;   // connections opened
    std::vector<std::string> failures;  // the first few, for messages
    std::string describe() const;
};

class LoadClient {
public:
    LoadClient(int port, std::string target, unsigned connections);
    ~LoadClient();  // stops
    LoadClient(const LoadClient&) = delete;
    LoadClient& operator=(const LoadClient&) = delete;

    // A connection the server closes ends that thread's load instead of
    // being reopened.
    void stop_reconnecting() { reconnect_.store(false); }
    // Stops every thread after its current request and returns the totals.
    LoadCounts stop();
    // Totals so far (while running).
    LoadCounts snapshot() const;

private:
    struct Worker;
    void run(Worker& w);

    int port_;
    std::string target_;
    std::atomic<bool> stopping_{false};
    std::atomic<bool> reconnect_{true};
    std::vector<std::unique_ptr<Worker>> workers_;
    std::vector<std::thread> threads_;
};

}  // namespace e2e
