// libFuzzer: one Lambda event's JSON through the Lambda front's conversion,
// and an answer made from it back to JSON. A refused event must say why; an
// accepted one must give a request whose views are its own storage; every
// answer must be valid JSON whose body decodes to the bytes it was given.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/base64.hpp"
#include "front/lambda_events.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    trellis::front::LambdaHttpEvent event;
    const std::string why = trellis::front::parse_lambda_event(input, event);
    if (!why.empty()) return 0;
    const auto& r = event.request;
    if (r.method != event.method || r.path != event.path || r.query != event.query || r.body != event.body)
        __builtin_trap();
    for (const auto& [name, value] : r.headers)
        if (name.empty()) __builtin_trap();
    (void)r.query_pairs();
    (void)r.header("Cookie");

    trellis::app::Response response;
    response.status = 200;
    response.body = event.body;  // any bytes: not UTF-8 travels as base64
    response.headers.emplace_back("Set-Cookie", "a=b; Path=/");
    response.headers.emplace_back("X-Echo", "1");
    const std::string id = trellis::front::lambda_request_id(r, "fuzz-invocation");
    if (id.empty()) __builtin_trap();
    const std::string answer = trellis::front::lambda_answer_json(response, event, id);
    const auto json = nlohmann::json::parse(answer, nullptr, false);
    if (json.is_discarded() || !json.is_object() || json.value("statusCode", 0) != 200) __builtin_trap();
    if (r.method == "HEAD") return 0;  // no body, as on a wire
    const std::string body = json.value("body", std::string());
    if (json.value("isBase64Encoded", false)) {
        const auto decoded = trellis::base64_decode(body);
        if (!decoded || *decoded != event.body) __builtin_trap();
    } else if (body != event.body) {
        __builtin_trap();
    }
    return 0;
}
