// What happens to one request between its arrival and its answer, apart
// from the bytes on the wire: hooks, routing, the handler, the error chain.
//
//   app before hooks -> route -> plugin before hooks -> handler
//     -> (on failure) error chain: the owner plugin's handler, else the
//        operator's; a failing error handler -> default problem+json
//     -> app after hooks -> plugin after hooks          [response sent by the caller]
//   then teardown hooks (always): app, then plugin.
// This is the core's one entry: a request value in, a response value out.
// The front (front/server.cpp) and the in-process test client (testing/)
// both drive it; neither adds behaviour of its own beyond the wire.
// Plugin-scope hooks run only for the plugin's own routes. The owner of a
// request no route matched is the plugin with the longest mount containing
// the path (its error handlers and static files answer).
#pragma once

#include <cstdint>
#include <string_view>

#include "app/host_api.hpp"
#include "app/response.hpp"
#include "app/snapshot.hpp"

namespace trellis::app {

// Told once a request's route (or, unmatched, its owning mount) is known
// and before any plugin code of the route runs: a worker records it where
// its supervisor can read it after a crash.
struct RoutedObserver {
    void (*fn)(void* context, const RouteEntry* route, const Mount* owner) = nullptr;
    void* context = nullptr;
};

class Pipeline {
public:
    // `snapshot`, `request` and the characters of `request_id` must outlive
    // the pipeline.
    Pipeline(const Snapshot& snapshot, const Request& request, std::string_view request_id,
             RoutedObserver observer = {});
    Pipeline(const Pipeline&) = delete;
    Pipeline& operator=(const Pipeline&) = delete;

    // The request's deadline as plugins see it (request_deadline_ms): Unix
    // time in ms, 0 for none (the default). The front sets it before respond().
    void set_deadline_ms(std::int64_t unix_ms) noexcept { call_.deadline_ms = unix_ms; }

    // Runs everything up to the finished response (valid until the
    // pipeline is destroyed).
    const Response& respond();
    // Runs the teardown hooks; call after the response was sent.
    void teardown();

    // For the access log: the matched route (or null) and the owning mount.
    const RouteEntry* route() const noexcept { return route_; }
    const Mount* owner() const noexcept { return owner_; }

private:
    enum class Step { Continue, Done, Failed };

    Step run(const BoundHandler& handler, const char* role);
    Step run_hooks(const std::vector<BoundHandler>& hooks, const char* role);
    void dispatch();  // routing, then the handler or the 404/405 answer
    bool serve_static();
    void serve_openapi();
    void answer_error(int status, std::string detail);
    void answer_error_chain(int status, std::string detail);
    bool run_error_handler(const BoundHandler& handler, int status, const std::string& detail);
    void after_hooks();
    const std::vector<BoundHandler>* own_hooks(HookKind kind) const noexcept;

    void routed() const {
        if (observer_.fn) observer_.fn(observer_.context, route_, owner_);
    }

    const Snapshot& snapshot_;
    trellis_call call_;
    RoutedObserver observer_;
    const RouteEntry* route_ = nullptr;
    const Mount* owner_ = nullptr;
    int failed_status_ = 0;
    std::string failed_detail_;
    std::string failed_errors_;
    std::vector<std::pair<std::string, std::string>> failed_headers_;
    std::vector<std::pair<std::string, std::string>> params_;
};

}  // namespace trellis::app
