// The apphooks plugin (also built as apphooks2): application-scope hooks that
// append "<plugin>:before1|before2|after" to X-Order and log every marker,
// teardown included. The first before hook obeys "X-Hook-Action: <plugin>:<what>":
// deny (HttpError 403), crash (std::runtime_error) or answer (done).
#include <stdexcept>
#include <string>
#include <string_view>

#include <trellis/plugin.hpp>

#include "order.hpp"

TRELLIS_PLUGIN();

namespace {
const std::string kName = TRELLIS_PLUGIN_NAME;

std::string marker(std::string_view what) { return kName + ":" + std::string(what); }
}  // namespace

TRELLIS_HANDLER(app_before_first, trellis::Request& req, trellis::Response& res) {
    mark(req, res, marker("before1"));
    auto action = req.header("X-Hook-Action");
    if (!action) return;
    if (*action == marker("deny")) throw trellis::HttpError(403, "denied by " + kName);
    if (*action == marker("crash")) throw std::runtime_error("SECRET-app-hook-crash");
    if (*action == marker("answer")) {
        res.status(200).text("answered by " + kName);
        res.done();
    }
}

TRELLIS_HANDLER(app_before_second, trellis::Request& req, trellis::Response& res) {
    mark(req, res, marker("before2"));
}

TRELLIS_HANDLER(app_after, trellis::Request& req, trellis::Response& res) {
    mark(req, res, marker("after"));
}

TRELLIS_HANDLER(app_teardown, trellis::Request& req, trellis::Response&) {
    log_order(req, marker("teardown"));
}

// ---- routes (apphooks only) ----

// What the plugin sees of the request id and the matched route; the log line
// does not name the id itself: the host's tag must.
TRELLIS_HANDLER(apphooks_id, trellis::Request& req, trellis::Response& res) {
    req.log(TRELLIS_LOG_INFO, "apphooks id handler ran");
    res.json({{"id", std::string(req.id())}, {"route", std::string(req.route())}});
}

TRELLIS_HANDLER(apphooks_echo, trellis::Request& req, trellis::Response& res) {
    mark(req, res, marker("handler"));
    res.text("echo");
}

// Fails with the status in the path (400..599), e.g. /apphooks/status/503.
TRELLIS_HANDLER(apphooks_status, trellis::Request& req, trellis::Response&) {
    throw trellis::HttpError(static_cast<int>(req.param<long>("code")), "status requested by the test");
}
