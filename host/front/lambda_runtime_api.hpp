// A client of the AWS Lambda Runtime API (version 2018-06-01) over libcurl:
// the HTTP calls a custom runtime makes to the Lambda service that runs it
// (AWS_LAMBDA_RUNTIME_API names its host:port). Nothing else: what the
// events mean is front/lambda_events.*, the loop front/lambda_runtime.*.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

namespace trellis::front {

// The Runtime API could not be reached or answered what it never should.
// AWS's advice for a runtime then is to exit: Lambda starts a new one.
class RuntimeApiError : public std::runtime_error {
public:
    explicit RuntimeApiError(const std::string& what, long status = 0) : std::runtime_error(what), status_(status) {}
    // The HTTP status the API answered; 0 when it could not be reached.
    long status() const noexcept { return status_; }

private:
    long status_;
};

struct LambdaInvocation {
    std::string id;              // Lambda-Runtime-Aws-Request-Id
    std::string trace_id;        // Lambda-Runtime-Trace-Id (X-Ray); may be empty
    std::int64_t deadline_ms = 0;  // Lambda-Runtime-Deadline-Ms: Unix time in ms; 0 when not sent
    std::string function_arn;    // Lambda-Runtime-Invoked-Function-Arn
    std::string event;           // the event, JSON
};

class LambdaRuntimeApi {
public:
    explicit LambdaRuntimeApi(std::string endpoint);  // "127.0.0.1:9001"
    ~LambdaRuntimeApi();
    LambdaRuntimeApi(const LambdaRuntimeApi&) = delete;
    LambdaRuntimeApi& operator=(const LambdaRuntimeApi&) = delete;

    // GET /runtime/invocation/next: blocks until Lambda hands over an event,
    // with no timeout (the process may be frozen for hours in between).
    LambdaInvocation next();
    // POST /runtime/invocation/{id}/response with the answer's JSON. Each
    // POST throws RuntimeApiError unless the API accepted it (2xx).
    void respond(std::string_view id, std::string_view body);
    // POST /runtime/invocation/{id}/error: this invocation failed; the
    // runtime goes on with the next one.
    void invocation_error(std::string_view id, std::string_view type, std::string_view message);
    // POST /runtime/init/error: the runtime cannot start; it exits after this.
    void init_error(std::string_view type, std::string_view message);

private:
    struct Answer {
        long status = 0;
        std::string body;
    };
    Answer post(const std::string& path, std::string_view body, std::string_view error_type);
    void expect_accepted(const std::string& path, const Answer& answer) const;

    struct Curl;
    std::unique_ptr<Curl> curl_;
    std::string base_;  // "http://host:port/2018-06-01"
};

}  // namespace trellis::front
