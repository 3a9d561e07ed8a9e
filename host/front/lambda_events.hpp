// AWS Lambda's HTTP events, as the Lambda front (front/lambda_runtime.cpp)
// needs them: an event's JSON in, an app::Request (with the storage its
// views point into) out; an app::Response in, the answer's JSON out. Pure
// functions, no sockets, so that each rule is unit-tested on its own.
//
// Two payload formats (AWS docs, "payload format version"):
//   2.0  API Gateway HTTP API and Lambda function URLs: version "2.0",
//        rawPath, rawQueryString, headers (duplicates comma-joined),
//        cookies, requestContext.http.{method,sourceIp}, body, isBase64Encoded;
//        answered with statusCode, headers, cookies, body, isBase64Encoded.
//   1.0  API Gateway REST API and Application Load Balancers: httpMethod,
//        path, headers / multiValueHeaders, queryStringParameters /
//        multiValueQueryStringParameters, body, isBase64Encoded; answered
//        with statusCode, headers or multiValueHeaders (as the event came),
//        body, isBase64Encoded (and statusDescription for a load balancer).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "app/request.hpp"
#include "app/response.hpp"

namespace trellis::front {

enum class LambdaPayload { V2, V1 };

// One HTTP request carried by a Lambda event. `request`'s views point into
// the members below it, so the object is neither copied nor moved.
struct LambdaHttpEvent {
    LambdaHttpEvent() = default;
    LambdaHttpEvent(const LambdaHttpEvent&) = delete;
    LambdaHttpEvent& operator=(const LambdaHttpEvent&) = delete;

    app::Request request;
    LambdaPayload payload = LambdaPayload::V2;
    bool multi_value_headers = false;  // 1.0: the event had multiValueHeaders, so the answer has them too
    bool load_balancer = false;        // 1.0 from an ALB (requestContext.elb): the answer needs statusDescription
    std::string context_request_id;    // requestContext.requestId (API Gateway's own id), may be empty

    std::string method, path, query, target, body, remote;
    std::vector<std::pair<std::string, std::string>> headers;
};

// Fills `out` from the event's JSON. Returns "" when it is an HTTP event of
// either format, else why not, naming what was expected: the text of the
// invocation error the runtime reports.
std::string parse_lambda_event(std::string_view event_json, LambdaHttpEvent& out);

// The id the request is known by (X-Request-Id, logs, plugins): the
// client's X-Request-Id when it is sane (app/request_id rules), else the
// Lambda invocation's id (Lambda-Runtime-Aws-Request-Id, the id in Lambda's
// own log lines), else a generated one.
std::string lambda_request_id(const app::Request& request, std::string_view invocation_id);

// The answer's JSON for the event's format: what the front adds on a wire
// too (Content-Type's default, X-Request-Id; no body for HEAD, 204, 304),
// Set-Cookie headers as 2.0's cookies array, and a body that is not valid
// UTF-8 in base64 with isBase64Encoded true.
std::string lambda_answer_json(const app::Response& response, const LambdaHttpEvent& event,
                               std::string_view request_id);

}  // namespace trellis::front
