#include "app/host_api.hpp"

#include <algorithm>
#include <cctype>

#include <spdlog/spdlog.h>

#include "db/statements.hpp"
#include "app/request.hpp"
#include "app/router.hpp"
#include "base/text.hpp"
#include "ops/logging.hpp"

void trellis_call::CallDbDeleter::operator()(trellis::db::CallDb* db) const noexcept { delete db; }

namespace trellis::app {
namespace {

// Hands out a view of `value` that lives as long as the call.
trellis_str keep(trellis_call* call, std::string value) {
    return str(call->scratch.emplace_front(std::move(value)));
}

trellis_str request_method(trellis_call* call) { return str(call->method); }
trellis_str request_path(trellis_call* call) { return str(call->path); }
trellis_str request_body(trellis_call* call) { return str(call->request.body); }

int request_param(trellis_call* call, trellis_str name, trellis_str* out) {
    if (!call->params) return 0;
    for (const auto& [key, value] : *call->params) {
        if (key == view(name)) {
            *out = str(value);
            return 1;
        }
    }
    return 0;
}

int request_query(trellis_call* call, trellis_str name, trellis_str* out) {
    std::string key;
    for (const auto& [raw_key, raw_value] : call->request.query_pairs()) {
        key.clear();
        if (!percent_decode(raw_key, key, true) || key != view(name)) continue;
        std::string value;
        if (!percent_decode(raw_value, value, true)) return 0;
        *out = keep(call, std::move(value));
        return 1;
    }
    return 0;
}

int request_header(trellis_call* call, trellis_str name, trellis_str* out) {
    const auto value = call->request.header(view(name));
    if (!value) return 0;
    *out = str(*value);  // the request outlives the call
    return 1;
}

int response_status(trellis_call* call, int status) {
    if (status < 100 || status > 599) return 0;
    call->response.status = status;
    return 1;
}

// A header a plugin may set: a token name, a value without CR, LF or NUL,
// and none of what frames the message or the host writes itself (Server it
// leaves to a plugin that sets one).
bool allowed_header(std::string_view n, std::string_view v) noexcept {
    if (!is_token(n) || v.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos) return false;
    return !(iequals(n, "Content-Length") || iequals(n, "Connection") || iequals(n, "Transfer-Encoding") ||
             iequals(n, "Date") || iequals(n, "X-Request-Id"));
}

int response_header(trellis_call* call, trellis_str name, trellis_str value) {
    auto n = view(name), v = view(value);
    if (!allowed_header(n, v)) return 0;
    if (iequals(n, "Content-Type")) {
        if (!is_media_type(v)) return 0;
        call->response.content_type.assign(v);
        return 1;
    }
    call->response.headers.emplace_back(n, v);
    return 1;
}

void response_body(trellis_call* call, trellis_str body) { call->response.body.assign(view(body)); }

void fail(trellis_call* call, int status, trellis_str detail) {
    if (status < 400 || status > 599) {
        spdlog::warn("plugin {}: fail() with non-error status {}; answering 500", call->plugin->name, status);
        status = 500;
    }
    call->fail_status = status;
    call->fail_detail.assign(view(detail));
}

trellis_plugin_ctx* call_plugin(trellis_call* call) { return call->plugin; }


int setting(trellis_plugin_ctx* plugin, trellis_str name, trellis_str* out) {
    auto it = plugin->settings.find(view(name));
    if (it == plugin->settings.end()) return 0;
    *out = str(it->second);
    return 1;
}

void log(trellis_plugin_ctx* plugin, trellis_log_level level, trellis_str message) {
    if (plugin && level >= TRELLIS_LOG_ERROR) plugin->last_error.assign(view(message));
    spdlog::log(ops::to_spdlog(level), "[{}] {}", plugin ? plugin->name : "?", view(message));
}

// ---- ABI 1.1 ----

trellis_str request_id(trellis_call* call) { return str(call->request_id); }
trellis_str request_route(trellis_call* call) { return str(call->route); }

void call_log(trellis_call* call, trellis_log_level level, trellis_str message) {
    spdlog::log(ops::to_spdlog(level), "[{}] {} (request {})", call->plugin ? call->plugin->name : "?",
                view(message), call->request_id);
}

int response_get_status(trellis_call* call) { return call->response.status; }

int response_get_header(trellis_call* call, trellis_str name, trellis_str* out) {
    if (iequals(view(name), "Content-Type")) {
        if (call->response.content_type.empty()) return 0;
        *out = str(call->response.content_type);
        return 1;
    }
    for (const auto& [key, value] : call->response.headers) {
        if (iequals(key, view(name))) {
            *out = str(value);
            return 1;
        }
    }
    return 0;
}

int response_remove_header(trellis_call* call, trellis_str name) {
    if (iequals(view(name), "Content-Type")) {
        const int had = call->response.content_type.empty() ? 0 : 1;
        call->response.content_type.clear();
        return had;
    }
    const auto before = call->response.headers.size();
    std::erase_if(call->response.headers, [&](const auto& h) { return iequals(h.first, view(name)); });
    return static_cast<int>(before - call->response.headers.size());
}

int error_status(trellis_call* call, trellis_str* detail) {
    if (call->error_status == 0) return 0;
    if (detail) *detail = str(call->error_detail);
    return call->error_status;
}

// ---- ABI 1.1: database (db/statements.cpp does the work on the call's CallDb) ----

// The request's database state, created on first use; null when no
// database is configured.
db::CallDb* call_db(trellis_call* call) {
    if (!call->db) {
        if (!call->database) return nullptr;
        call->db.reset(new db::CallDb(*call->database));
    }
    return call->db.get();
}

int db_prepare(trellis_call* call, trellis_str sql, trellis_stmt** out) {
    return db::db_prepare(call_db(call), sql, out);
}
int db_begin(trellis_call* call) { return db::db_begin(call_db(call)); }
int db_commit(trellis_call* call) { return db::db_commit(call_db(call)); }
int db_rollback(trellis_call* call) { return db::db_rollback(call_db(call)); }
int db_error(trellis_call* call, trellis_str* message) {
    if (!call->db && call->database) {  // configured, not used yet: no error
        if (message) *message = {"", 0};
        return TRELLIS_DB_OK;
    }
    return db::db_error(call->db.get(), message);
}

// ---- ABI 1.2: plugin state, instances, failure headers ----

void plugin_set_state(trellis_plugin_ctx* plugin, void* state) { plugin->state = state; }
void* plugin_state(trellis_plugin_ctx* plugin) { return plugin->state; }
trellis_str plugin_instance(trellis_plugin_ctx* plugin) { return str(plugin->name); }

int fail_header(trellis_call* call, trellis_str name, trellis_str value) {
    auto n = view(name), v = view(value);
    if (!allowed_header(n, v) || iequals(n, "Content-Type")) return 0;
    call->fail_headers.emplace_back(n, v);
    return 1;
}

// ---- ABI 1.3: deadlines ----

std::int64_t request_deadline_ms(trellis_call* call) { return call->deadline_ms; }

// noexcept wrappers: a host-side failure (say, out of memory) must never
// unwind into plugin code, which may not even be C++.
template <auto Fn, class Signature = decltype(Fn)>
struct Guarded;
template <auto Fn, class R, class... Args>
struct Guarded<Fn, R (*)(Args...)> {
    static R call(Args... args) noexcept {
        try {
            return Fn(args...);
        } catch (const std::exception& e) {
            spdlog::error("host API failure: {}", e.what());
        } catch (...) {
            spdlog::error("host API failure: a non-standard exception");
        }
        if constexpr (!std::is_void_v<R>) return R{};
    }
};
template <auto Fn>
constexpr auto guarded = &Guarded<Fn>::call;

// Designated, so that a field can only be filled by its own function.
const trellis_host_api table = {
    .struct_size = sizeof(trellis_host_api),
    .abi_major = TRELLIS_ABI_MAJOR,
    .abi_minor = TRELLIS_ABI_MINOR,
    .request_method = guarded<request_method>,
    .request_path = guarded<request_path>,
    .request_param = guarded<request_param>,
    .request_query = guarded<request_query>,
    .request_header = guarded<request_header>,
    .request_body = guarded<request_body>,
    .response_status = guarded<response_status>,
    .response_header = guarded<response_header>,
    .response_body = guarded<response_body>,
    .fail = guarded<fail>,
    .call_plugin = guarded<call_plugin>,
    .setting = guarded<setting>,
    .log = guarded<log>,
    .request_id = guarded<request_id>,
    .request_route = guarded<request_route>,
    .call_log = guarded<call_log>,
    .response_get_status = guarded<response_get_status>,
    .response_get_header = guarded<response_get_header>,
    .response_remove_header = guarded<response_remove_header>,
    .error_status = guarded<error_status>,
    .db_prepare = guarded<db_prepare>,
    .db_bind_int = guarded<db::db_bind_int>,
    .db_bind_real = guarded<db::db_bind_real>,
    .db_bind_text = guarded<db::db_bind_text>,
    .db_bind_null = guarded<db::db_bind_null>,
    .db_step = guarded<db::db_step>,
    .db_column_count = guarded<db::db_column_count>,
    .db_column_name = guarded<db::db_column_name>,
    .db_column_index = guarded<db::db_column_index>,
    .db_column_type = guarded<db::db_column_type>,
    .db_column_int = guarded<db::db_column_int>,
    .db_column_real = guarded<db::db_column_real>,
    .db_column_text = guarded<db::db_column_text>,
    .db_rows_affected = guarded<db::db_rows_affected>,
    .db_finalize = guarded<db::db_finalize>,
    .db_begin = guarded<db_begin>,
    .db_commit = guarded<db_commit>,
    .db_rollback = guarded<db_rollback>,
    .db_error = guarded<db_error>,
    .plugin_set_state = guarded<plugin_set_state>,
    .plugin_state = guarded<plugin_state>,
    .plugin_instance = guarded<plugin_instance>,
    .fail_header = guarded<fail_header>,
    .request_deadline_ms = guarded<request_deadline_ms>,
};

}  // namespace

const trellis_host_api* host_api() noexcept { return &table; }

}  // namespace trellis::app
