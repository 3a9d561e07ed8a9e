// The faulty plugin: handlers that fail in every way a handler can, and
// handlers that report what the host API told them, so that the host's
// request accessors are tested through real HTTP.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include <trellis/plugin.hpp>

namespace {
trellis_str sv(std::string_view s) { return trellis_str{s.data(), s.size()}; }

void faulty_init(trellis::Plugin& plugin) {
    plugin.info("faulty init label=" + plugin.setting<std::string>("label", "unset"));
}
void faulty_shutdown(trellis::Plugin& plugin) { plugin.info("faulty shutdown hook ran"); }
}  // namespace

TRELLIS_PLUGIN_LIFECYCLE(faulty_init, faulty_shutdown);

// Throws a standard exception: the client must get a 500 without this text.
TRELLIS_HANDLER(faulty_throw, trellis::Request&, trellis::Response& res) {
    res.text("partial response of a throwing handler");
    throw std::runtime_error("SECRET-internal-detail");
}

// Returns TRELLIS_ERROR without calling fail(): the host answers 500.
extern "C" TRELLIS_EXPORT trellis_status faulty_error(const trellis_host_api* host, trellis_call* call) {
    host->response_body(call, sv("partial response of a failing handler"));
    return TRELLIS_ERROR;
}

// Sets a response, then fails with 418: the host discards what was set.
extern "C" TRELLIS_EXPORT trellis_status faulty_teapot(const trellis_host_api* host, trellis_call* call) {
    host->response_status(call, 200);
    host->response_header(call, sv("X-Should-Vanish"), sv("yes"));
    host->response_body(call, sv("discard me"));
    host->fail(call, 418, sv("I'm a teapot"));
    return TRELLIS_OK;
}

// The SDK's way of failing: HttpError becomes fail() at the boundary.
TRELLIS_HANDLER(faulty_http_error, trellis::Request&, trellis::Response&) {
    throw trellis::HttpError(409, "conflict reported by faulty");
}

TRELLIS_HANDLER(faulty_note, trellis::Request& req, trellis::Response& res) {
    res.json({{"id", req.param<std::int64_t>("id")}, {"raw", std::string(req.param("id"))}});
}

TRELLIS_HANDLER(faulty_note_put, trellis::Request& req, trellis::Response& res) {
    res.status(204);
    (void)req;
}

// Reports method, path, selected query parameters, headers and body.
TRELLIS_HANDLER(faulty_inspect, trellis::Request& req, trellis::Response& res) {
    auto opt = [](std::optional<std::string_view> v) -> trellis::Json {
        return v ? trellis::Json(std::string(*v)) : trellis::Json(nullptr);
    };
    trellis::Json query = trellis::Json::object();
    for (const char* key : {"a", "b", "c", "d", "e", "missing"}) query[key] = opt(req.query(key));
    trellis::Json headers = trellis::Json::object();
    for (const char* key : {"X-Trellis-Test", "x-trellis-test", "X-TRELLIS-TEST", "X-Absent"})
        headers[key] = opt(req.header(key));
    res.json({{"method", std::string(req.method())},
              {"path", std::string(req.path())},
              {"query", query},
              {"headers", headers},
              {"body_bytes", req.body().size()},
              {"label", req.plugin().setting<std::string>("label", "unset")}});
}

// Exercises the response API's refusals; answers 201 with what each returned.
extern "C" TRELLIS_EXPORT trellis_status faulty_headers(const trellis_host_api* host, trellis_call* call) {
    trellis::Json out = {
        {"status_99", host->response_status(call, 99)},
        {"status_600", host->response_status(call, 600)},
        {"status_201", host->response_status(call, 201)},
        {"content_length", host->response_header(call, sv("Content-Length"), sv("1"))},
        {"connection", host->response_header(call, sv("Connection"), sv("close"))},
        {"bad_name", host->response_header(call, sv("Bad Name"), sv("x"))},
        {"crlf_value", host->response_header(call, sv("X-Split"), sv("a\r\nX-Injected: 1"))},
        {"nul_value", host->response_header(call, sv("X-Nul"), trellis_str{"a\0b", 3})},
        {"custom", host->response_header(call, sv("X-Custom"), sv("yes"))},
        {"content_type", host->response_header(call, sv("Content-Type"), sv("application/json"))},
    };
    std::string body = out.dump();
    host->response_body(call, sv(body));
    return TRELLIS_OK;
}

// Answers with the size of the body it received.
TRELLIS_HANDLER(faulty_size, trellis::Request& req, trellis::Response& res) {
    res.json({{"bytes", req.body().size()}});
}
