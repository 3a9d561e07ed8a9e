#include "front/lambda_runtime.hpp"

#include <chrono>
#include <cstdlib>
#include <exception>
#include <string>

#include <spdlog/spdlog.h>

#include "app/pipeline.hpp"
#include "app/problem.hpp"
#include "front/lambda_events.hpp"
#include "ops/logging.hpp"

namespace trellis::front {

namespace {

using Clock = std::chrono::steady_clock;

// The errorType of the invocation errors the runtime reports.
constexpr std::string_view kUnsupportedEvent = "Runtime.UnsupportedEvent";
constexpr std::string_view kResponseTooLarge = "Runtime.ResponseTooLarge";
constexpr std::string_view kHostError = "Runtime.HostError";


void access_log(const app::Snapshot& snapshot, const LambdaHttpEvent& event, std::string_view request_id,
                const app::Pipeline& pipeline, const app::Response& response, Clock::time_point started) {
    ops::AccessEntry entry;
    entry.remote = event.request.remote;
    entry.method = event.request.method;
    entry.path = event.request.path;
    if (pipeline.route()) entry.route = pipeline.route()->pattern;
    if (pipeline.owner()) entry.plugin = pipeline.owner()->plugin->name();
    entry.request_id = request_id;
    entry.status = response.status;
    entry.bytes = response.body.size();
    entry.duration_ms =
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started).count() / 1000.0;
    ops::log_access(entry, snapshot.logging.access_json);
    // Lambda freezes the process between invocations: a buffered line would
    // wait for the next one.
    ops::flush_access_log();
}

// Posts the answer; an answer the API refuses (413: over Lambda's 6 MB
// limit) becomes this invocation's error. Throws when the API itself fails.
void post_answer(LambdaRuntimeApi& api, const LambdaInvocation& invocation, const std::string& answer) {
    try {
        api.respond(invocation.id, answer);
    } catch (const RuntimeApiError& e) {
        if (e.status() < 400 || e.status() >= 500) throw;
        spdlog::error("invocation {}: the answer ({} bytes) was refused: {}", invocation.id, answer.size(), e.what());
        if (e.status() == 413)
            api.invocation_error(invocation.id, kResponseTooLarge,
                                 "the answer (" + std::to_string(answer.size()) +
                                     " bytes of JSON) is larger than Lambda accepts");
    }
}

void invoke(const app::Snapshot& snapshot, LambdaRuntimeApi& api, const LambdaInvocation& invocation) {
    const auto started = Clock::now();
    LambdaHttpEvent event;
    if (const std::string why = parse_lambda_event(invocation.event, event); !why.empty()) {
        spdlog::warn("invocation {}: {}", invocation.id, why);
        api.invocation_error(invocation.id, kUnsupportedEvent, why);
        return;
    }
    const std::string request_id = lambda_request_id(event.request, invocation.id);
    if (event.request.body.size() > snapshot.server.max_request_bytes) {
        // server.max_request_bytes holds here as on the socket: refused
        // before any plugin code runs, with the codec's words.
        app::Response refused;
        refused.status = 413;
        refused.content_type = std::string(app::kProblemContentType);
        refused.body = app::problem_json(413,
                                         "the request body exceeds the limit of " +
                                             std::to_string(snapshot.server.max_request_bytes) + " bytes",
                                         event.request.path);
        post_answer(api, invocation, lambda_answer_json(refused, event, request_id));
        return;
    }
    app::Pipeline pipeline(snapshot, event.request, request_id);
    // Lambda-Runtime-Deadline-Ms is the request's deadline (ABI 1.3); 0 when not sent.
    pipeline.set_deadline_ms(invocation.deadline_ms > 0 ? invocation.deadline_ms : 0);
    const app::Response* response = nullptr;
    std::string answer;
    try {
        response = &pipeline.respond();
        answer = lambda_answer_json(*response, event, request_id);
    } catch (const std::exception& e) {
        // The pipeline answers plugin failures itself; this is the host's own
        // (memory, say), so the invocation fails rather than the process.
        spdlog::error("invocation {} (request {}): {}", invocation.id, request_id, e.what());
        api.invocation_error(invocation.id, kHostError, "the host failed to answer; see the function's log");
        pipeline.teardown();
        return;
    }
    if (invocation.deadline_ms > 0)
        if (const auto late = app::unix_ms_now() - invocation.deadline_ms; late > 0)
            spdlog::warn("invocation {} (request {} {} {}): answered {} ms after its deadline (Lambda-Runtime-Deadline-Ms)",
                         invocation.id, request_id, event.request.method, event.request.path, late);
    post_answer(api, invocation, answer);
    pipeline.teardown();
    if (snapshot.logging.access)
        access_log(snapshot, event, request_id, pipeline, *response, started);
}

}  // namespace

int run_lambda(std::shared_ptr<const app::Snapshot> snapshot, LambdaRuntimeApi& api) {
    spdlog::info("serving AWS Lambda invocations");
    for (;;) {
        try {
            const LambdaInvocation invocation = api.next();
            // Per invocation, where the X-Ray SDKs (and a plugin's own
            // tracing) read it; one invocation at a time, so no thread races it.
            if (invocation.trace_id.empty())
                ::unsetenv("_X_AMZN_TRACE_ID");
            else
                ::setenv("_X_AMZN_TRACE_ID", invocation.trace_id.c_str(), 1);
            invoke(*snapshot, api, invocation);
        } catch (const RuntimeApiError& e) {
            spdlog::error("{}; exiting (Lambda starts a new runtime)", e.what());
            ops::flush_access_log();
            return 1;
        }
    }
}

}  // namespace trellis::front
