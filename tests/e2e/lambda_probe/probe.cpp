// The lambdaprobe test plugin (probe.plugin.yaml says what each route shows).
#include <cstdlib>
#include <string>

#include <trellis/plugin.hpp>

TRELLIS_PLUGIN();

// The Cookie header as the handler sees it, and two cookies set.
TRELLIS_HANDLER(probe_cookies, trellis::Request& req, trellis::Response& res) {
    const auto cookie = req.header("Cookie");
    res.header("Set-Cookie", "session=abc123; Path=/; HttpOnly");
    res.header("Set-Cookie", "theme=dark; Expires=Wed, 21 Oct 2026 07:28:00 GMT");
    res.json({{"cookie", cookie ? trellis::Json(std::string(*cookie)) : trellis::Json(nullptr)}});
}

// The body back, byte for byte, reversed: binary in, binary out, and proof
// that the handler saw the decoded bytes.
TRELLIS_HANDLER(probe_bytes, trellis::Request& req, trellis::Response& res) {
    const std::string body(req.body());
    res.header("Content-Type", "application/octet-stream").body(std::string(body.rbegin(), body.rend()));
}

// The trace id of the invocation being served, and the request id.
TRELLIS_HANDLER(probe_env, trellis::Request& req, trellis::Response& res) {
    const char* trace = std::getenv("_X_AMZN_TRACE_ID");
    res.json({{"trace", trace ? trellis::Json(trace) : trellis::Json(nullptr)}, {"request_id", std::string(req.id())}});
}
