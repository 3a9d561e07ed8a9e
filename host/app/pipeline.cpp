#include "app/pipeline.hpp"

#include <spdlog/spdlog.h>

#include "app/problem.hpp"
#include "app/request.hpp"

namespace trellis::app {

Pipeline::Pipeline(const Snapshot& snapshot, const Request& request, std::string_view request_id,
                   RoutedObserver observer)
    : snapshot_(snapshot), call_(request, request.method, request.path, request_id), observer_(observer) {
    call_.database = snapshot.database.get();
}

Pipeline::Step Pipeline::run(const BoundHandler& handler, const char* role) {
    call_.plugin = &handler.plugin->ctx;
    call_.fail_status = 0;
    call_.fail_errors.clear();
    call_.fail_headers.clear();
    trellis_status rc = TRELLIS_ERROR;
    try {
        rc = handler.fn(host_api(), &call_);
    } catch (...) {
        // Only a plugin that bypasses the SDK can get here.
        spdlog::error("{} {}: {} {}.{} let an exception escape the ABI (request {})", call_.method, call_.path,
                      role, handler.plugin->name(), handler.symbol, call_.request_id);
        rc = TRELLIS_ERROR;
    }
    if (call_.fail_status != 0) {
        failed_status_ = call_.fail_status;
        failed_detail_ = std::move(call_.fail_detail);
        failed_errors_ = std::move(call_.fail_errors);
        failed_headers_ = std::move(call_.fail_headers);
        return Step::Failed;
    }
    if (rc == TRELLIS_OK) return Step::Continue;
    if (rc == TRELLIS_DONE) return Step::Done;
    spdlog::error("{} {}: {} {}.{} failed (route {}, request {}); answering 500", call_.method, call_.path, role,
                  handler.plugin->name(), handler.symbol, call_.route.empty() ? "-" : call_.route,
                  call_.request_id);
    failed_status_ = 500;
    failed_detail_ = "the server failed to handle this request";
    failed_headers_.clear();
    return Step::Failed;
}

Pipeline::Step Pipeline::run_hooks(const std::vector<BoundHandler>& hooks, const char* role) {
    for (const auto& hook : hooks) {
        if (Step step = run(hook, role); step != Step::Continue) return step;
    }
    return Step::Continue;
}

// Plugin-scope hooks belong to the plugin's own routes: none run for a
// request that no route matched.
const std::vector<BoundHandler>* Pipeline::own_hooks(HookKind kind) const noexcept {
    return route_ ? &route_->mount->own_hooks[hook_index(kind)] : nullptr;
}

const Response& Pipeline::respond() {
    Step step = run_hooks(snapshot_.app_hooks[hook_index(HookKind::BeforeRequest)], "before_request hook");
    if (step == Step::Continue) {
        dispatch();
        return call_.response;
    }
    owner_ = snapshot_.owner_of(call_.path);
    if (step == Step::Failed) answer_error(failed_status_, failed_detail_);
    after_hooks();
    return call_.response;
}

void Pipeline::dispatch() {
    if (snapshot_.openapi.enabled && call_.path == snapshot_.openapi.path) {
        serve_openapi();
        after_hooks();
        return;
    }
    auto match = snapshot_.router.match(call_.method, call_.path);
    switch (match.kind) {
        case RouteMatch::Kind::NotFound:
            owner_ = snapshot_.owner_of(call_.path);
            routed();
            if (!serve_static()) answer_error(404, "no route matches this path");
            break;
        case RouteMatch::Kind::MethodNotAllowed:
            owner_ = snapshot_.owner_of(call_.path);
            routed();
            answer_error(405, std::string(call_.method) + " is not allowed here; allowed: " + match.allow);
            call_.response.headers.emplace_back("Allow", std::move(match.allow));
            break;
        case RouteMatch::Kind::Found: {
            route_ = &snapshot_.routes[match.target];
            owner_ = route_->mount;
            call_.route = route_->pattern;
            call_.resource = route_->resource.get();
            params_ = std::move(match.params);
            call_.params = &params_;
            routed();
            Step step = run_hooks(*own_hooks(HookKind::BeforeRequest), "before_request hook");
            if (step == Step::Continue)
                step = run(BoundHandler{route_->plugin, route_->handler, route_->handler_symbol}, "handler");
            if (step == Step::Failed) answer_error(failed_status_, failed_detail_);
            break;
        }
    }
    after_hooks();
}

// The snapshot's OpenAPI document, for GET and HEAD.
void Pipeline::serve_openapi() {
    owner_ = nullptr;
    call_.route = snapshot_.openapi.path;
    routed();
    if (call_.method != "GET" && call_.method != "HEAD") {
        answer_error(405, std::string(call_.method) + " is not allowed here; allowed: GET, HEAD");
        call_.response.headers.emplace_back("Allow", "GET, HEAD");
        return;
    }
    call_.reset_response(200);
    call_.response.content_type = "application/json";
    call_.response.body = snapshot_.openapi_json;
}

bool Pipeline::serve_static() {
    if (!owner_ || !owner_->site) return false;
    const std::string& prefix = owner_->site_prefix;
    std::string_view path = call_.path;
    if (prefix != "/") {
        if (path.substr(0, prefix.size()) != prefix || (path.size() > prefix.size() && path[prefix.size()] != '/'))
            return false;
        path.remove_prefix(prefix.size());
        if (path.empty()) path = "/";
    }
    StaticRequest request{call_.method, path, [&](std::string_view name) -> std::optional<std::string> {
                              if (const auto value = call_.request.header(name)) return std::string(*value);
                              return std::nullopt;
                          }};
    auto answer = owner_->site->serve(request);
    if (!answer) return false;
    call_.reset_response(answer->status);
    call_.response.content_type = std::move(answer->content_type);
    call_.response.headers = std::move(answer->headers);
    call_.response.body = std::move(answer->body);
    return true;
}

void Pipeline::answer_error(int status, std::string detail) {
    // What the failing code asked to send with its failure (fail_header),
    // whichever link of the chain answers.
    auto headers = std::move(failed_headers_);
    failed_headers_.clear();
    if (status != failed_status_) headers.clear();
    answer_error_chain(status, std::move(detail));
    for (auto& header : headers) call_.response.headers.push_back(std::move(header));
}

void Pipeline::answer_error_chain(int status, std::string detail) {
    // The owner plugin's handler, else the operator's. Whichever answers and
    // fails, the default answers next: an error handler never recurses.
    const auto* handler = owner_ ? owner_->plugin->error_handler_for(status) : nullptr;
    if (handler) {
        if (run_error_handler({owner_->plugin, handler->fn, handler->spec.handler}, status, detail)) return;
    } else if (const auto* app = snapshot_.app_error_for(status)) {
        using Kind = config::AppErrorSpec::Kind;
        switch (app->spec.kind) {
            case Kind::Json:
                call_.reset_response(status);
                call_.response.content_type = "application/json";
                call_.response.body = app->spec.body;
                return;
            case Kind::Text:
                call_.reset_response(status);
                call_.response.content_type = "text/plain; charset=utf-8";
                call_.response.body = app->spec.body;
                return;
            case Kind::Handler:
                if (run_error_handler(app->handler, status, detail)) return;
                break;
        }
    }
    call_.reset_response(status);
    call_.response.content_type = kProblemContentType;
    call_.response.body = problem_json(status, detail, call_.path, status == failed_status_ ? failed_errors_ : std::string());
}

bool Pipeline::run_error_handler(const BoundHandler& handler, int status, const std::string& detail) {
    call_.reset_response(status);
    call_.error_status = status;
    call_.error_detail = detail;
    const Step step = run(handler, "error handler");
    call_.error_status = 0;
    if (step != Step::Failed) return true;
    spdlog::error("{} {}: error handler {}.{} for {} failed; answering the default problem (request {})",
                  call_.method, call_.path, handler.plugin->name(), handler.symbol, status, call_.request_id);
    return false;
}

void Pipeline::after_hooks() {
    const auto after = hook_index(HookKind::AfterRequest);
    Step step = run_hooks(snapshot_.app_hooks[after], "after_request hook");
    if (step != Step::Failed && own_hooks(HookKind::AfterRequest))
        step = run_hooks(*own_hooks(HookKind::AfterRequest), "after_request hook");
    if (step == Step::Failed) {
        // No second round of hooks or handlers: the default answer stands.
        call_.reset_response(failed_status_);
        call_.response.content_type = kProblemContentType;
        call_.response.body = problem_json(failed_status_, failed_detail_, call_.path);
        for (auto& header : failed_headers_) call_.response.headers.push_back(std::move(header));
        failed_headers_.clear();
    }
}

void Pipeline::teardown() {
    const auto kind = hook_index(HookKind::Teardown);
    std::vector<const std::vector<BoundHandler>*> lists{&snapshot_.app_hooks[kind]};
    if (const auto* own = own_hooks(HookKind::Teardown)) lists.push_back(own);
    for (const auto* hooks : lists) {
        for (const auto& hook : *hooks) run(hook, "teardown hook");  // failures are logged, nothing else
    }
}

}  // namespace trellis::app
