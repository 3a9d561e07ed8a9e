// The scoped plugin: plugin-scope hooks and error handlers.
//  - scoped_auth (before) wants "Authorization: Bearer token-123" (else 401),
//    answers /scoped/self-answer itself (done) and throws for /scoped/hook-crash;
//  - scoped_after (after) adds X-Scoped-After: <status as it stood> and, with
//    ?after_status=N, changes the status to N;
//  - scoped_teardown logs "scoped teardown ran for <path>";
//  - error handlers answer JSON documents naming themselves.
#include <stdexcept>
#include <string>
#include <string_view>

#include <trellis/plugin.hpp>

#include "order.hpp"

TRELLIS_PLUGIN();

namespace {
bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

trellis::Json error_doc(const trellis::Request& req, std::string_view which) {
    auto e = req.error();
    return {{"scoped_error", which},
            {"status", e ? e->first : 0},
            {"detail", e ? std::string(e->second) : std::string()},
            {"path", std::string(req.path())}};
}
}  // namespace

TRELLIS_HANDLER(scoped_auth, trellis::Request& req, trellis::Response& res) {
    mark(req, res, "scoped:before");
    if (ends_with(req.path(), "/self-answer")) {
        res.status(202).header("X-Answered-By", "scoped_auth").json({{"answered_by", "before hook"}});
        res.done();
        return;
    }
    if (ends_with(req.path(), "/hook-crash")) throw std::runtime_error("SECRET-scoped-hook-crash");
    auto auth = req.header("Authorization");
    if (!auth || *auth != "Bearer token-123") throw trellis::HttpError(401, "a bearer token is required");
}

TRELLIS_HANDLER(scoped_after, trellis::Request& req, trellis::Response& res) {
    res.header("X-Scoped-After", std::to_string(res.status()));
    mark(req, res, "scoped:after");
    if (auto s = req.query("after_status")) {
        auto n = trellis::detail::parse_number<int>(*s);
        if (n) res.status(*n);
    }
}

TRELLIS_HANDLER(scoped_teardown, trellis::Request& req, trellis::Response&) {
    log_order(req, "scoped:teardown");
    req.log(TRELLIS_LOG_INFO, "scoped teardown ran for " + std::string(req.path()));
}

// ---- routes ----

TRELLIS_HANDLER(scoped_ok, trellis::Request& req, trellis::Response& res) {
    mark(req, res, "scoped:handler");
    res.json({{"ok", true}, {"route", std::string(req.route())}});
}

TRELLIS_HANDLER(scoped_never, trellis::Request& req, trellis::Response& res) {
    req.log(TRELLIS_LOG_WARN, "scoped_never ran: the before hook should have answered");
    res.json({{"answered_by", "handler"}});
}

TRELLIS_HANDLER(scoped_conflict, trellis::Request&, trellis::Response&) {
    throw trellis::HttpError(409, "scoped conflict");
}

TRELLIS_HANDLER(scoped_boom, trellis::Request&, trellis::Response& res) {
    res.text("partial response of scoped_boom");
    throw std::runtime_error("SECRET-scoped-boom");
}

TRELLIS_HANDLER(scoped_unavailable, trellis::Request&, trellis::Response&) {
    throw trellis::HttpError(503, "scoped maintenance");
}

TRELLIS_HANDLER(scoped_teapot, trellis::Request&, trellis::Response&) {
    throw trellis::HttpError(418, "short and stout");
}

TRELLIS_HANDLER(scoped_gone, trellis::Request&, trellis::Response&) {
    throw trellis::HttpError(410, "gone from scoped");
}

// ---- error handlers (manifest `errors`) ----

TRELLIS_HANDLER(scoped_not_found, trellis::Request& req, trellis::Response& res) {
    // No res.status(): the host presets the failed status.
    res.json(error_doc(req, "not_found"));
}

TRELLIS_HANDLER(scoped_method_not_allowed, trellis::Request& req, trellis::Response& res) {
    res.json(error_doc(req, "method_not_allowed"));
}

TRELLIS_HANDLER(scoped_internal, trellis::Request& req, trellis::Response& res) {
    res.json(error_doc(req, "internal"));
}

TRELLIS_HANDLER(scoped_server_error, trellis::Request& req, trellis::Response& res) {
    auto e = req.error();
    res.status(e ? e->first : 500).header("Retry-After", "7").json(error_doc(req, "server"));
}

TRELLIS_HANDLER(scoped_error_throws, trellis::Request&, trellis::Response& res) {
    res.status(200).text("partial response of a throwing error handler");
    throw std::runtime_error("SECRET-error-handler-threw");
}

TRELLIS_HANDLER(scoped_error_fails, trellis::Request&, trellis::Response& res) {
    res.status(200).text("partial response of a failing error handler");
    throw trellis::HttpError(500, "SECRET-error-handler-failed");
}

// Not in the manifest: the operator points `errors: {404: {handler: scoped.scoped_app_not_found}}` at it.
TRELLIS_HANDLER(scoped_app_not_found, trellis::Request& req, trellis::Response& res) {
    auto e = req.error();
    res.header("X-App-Error", "scoped.scoped_app_not_found")
        .json({{"app_error", "not_found"}, {"status", e ? e->first : 0}, {"path", std::string(req.path())}});
}
