// A stand-in for the AWS Lambda Runtime API (2018-06-01) on 127.0.0.1, for
// driving the real `trellis lambda`: it hands out queued events on
// GET /runtime/invocation/next, records what the runtime posts back
// (responses, invocation errors, the init error), and notes every request
// that breaks the protocol (an unknown path or id, a missing header, a
// second answer, asking for the next event before answering this one).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

namespace e2e {

class FakeRuntimeApi {
public:
    FakeRuntimeApi();  // listening on a free port
    ~FakeRuntimeApi();
    FakeRuntimeApi(const FakeRuntimeApi&) = delete;
    FakeRuntimeApi& operator=(const FakeRuntimeApi&) = delete;

    int port() const noexcept { return port_; }
    std::string endpoint() const { return "127.0.0.1:" + std::to_string(port_); }  // AWS_LAMBDA_RUNTIME_API

    struct Invocation {
        std::string event{};                // JSON text
        std::string id{};                   // empty: a fresh UUID-like id
        std::string trace_id = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";
        std::int64_t deadline_ms = 0;       // 0: 30 s from now
    };

    // What the runtime posted for one invocation.
    struct Outcome {
        enum class Kind { None, Response, Error } kind = Kind::None;  // None: nothing within the timeout
        std::string id;
        std::string body;        // the posted JSON
        std::string error_type;  // Lambda-Runtime-Function-Error-Type of an error
        nlohmann::json json() const;  // body parsed (throws with the body in the message)
        std::string describe() const;
    };

    // Queues the event and waits for the runtime's answer to it.
    Outcome invoke(Invocation invocation, std::chrono::milliseconds timeout = std::chrono::seconds(10));
    Outcome invoke(const nlohmann::json& event) { return invoke(Invocation{event.dump()}); }

    struct InitError {
        std::string error_type;
        std::string body;
    };
    std::optional<InitError> wait_init_error(std::chrono::milliseconds timeout);

    // GET .../next requests received so far; waits until there are `count`.
    int next_calls() const;
    bool wait_next_calls(int count, std::chrono::milliseconds timeout) const;

    std::vector<std::string> violations() const;  // protocol problems, empty when all went by the book
    std::vector<std::string> user_agents() const;

    // Responses larger than this are refused with 413, as Lambda refuses
    // answers over its payload limit (6 MB); the invocation stays open for
    // its error.
    void set_response_limit(std::size_t bytes);

    // Closes the listener and every connection: the Runtime API is gone.
    void shut_down();

private:
    struct HttpRequest {
        std::string method, path;
        std::map<std::string, std::string> headers;  // names lower case
        std::string body;
    };
    struct HttpAnswer {
        int status = 200;
        std::vector<std::pair<std::string, std::string>> headers{};
        std::string body{};
        bool close = false;
    };

    void accept_loop();
    void serve(int fd);
    HttpAnswer handle(const HttpRequest& request);
    HttpAnswer next(const HttpRequest& request);
    HttpAnswer post_outcome(const HttpRequest& request, const std::string& id, bool error);
    void violation(std::string what);  // with mutex_ held

    int listen_fd_ = -1;
    int port_ = 0;
    std::thread acceptor_;

    mutable std::mutex mutex_;
    mutable std::condition_variable changed_;
    bool stopping_ = false;
    std::vector<int> connections_;
    std::vector<std::thread> servers_;
    std::deque<Invocation> queue_;
    std::optional<std::string> outstanding_;  // the id handed out and not answered yet
    std::map<std::string, Outcome> outcomes_;
    std::optional<InitError> init_error_;
    std::size_t response_limit_ = 6 * 1024 * 1024;
    int next_calls_ = 0;
    int ids_ = 0;
    std::vector<std::string> violations_;
    std::vector<std::string> user_agents_;
};

}  // namespace e2e
