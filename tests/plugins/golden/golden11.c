/* The golden 1.1 plugin: plain C11, compiled only against the FROZEN ABI 1.1
 * header in tests/abi/v1.1 (never against sdk/include), written by hand as a
 * 1.1-era plugin author would have: request ids, routes, hooks, an error
 * handler and the database. Every later host must keep loading it and
 * answering the same.
 *
 *   GET /golden11/sum/{a:int}/{b:int} -> {"sum":A+B,"route":R,"id":ID}   (SELECT :a + :b)
 *   GET /golden11/fail                -> 409 through its own error handler: {"golden11_error":409}
 *   every answer of its routes        -> X-Golden11-After: <status as it stood> (after_request hook)
 */
#include <stdio.h>
#include <string.h>

#include <trellis/abi.h>

#if TRELLIS_ABI_MAJOR != 1 || TRELLIS_ABI_MINOR != 1
#error "the golden11 plugin must be built against the frozen ABI 1.1 header"
#endif

static const char manifest[] =
    "plugin: golden11\n"
    "version: 1.1.0\n"
    "abi: 1.1\n"
    "description: ABI 1.1 golden plugin, plain C\n"
    "routes:\n"
    "  - {method: GET, path: \"/golden11/sum/{a:int}/{b:int}\", handler: golden11_sum}\n"
    "  - {method: GET, path: /golden11/fail, handler: golden11_fail}\n"
    "errors:\n"
    "  409: golden11_conflict\n"
    "hooks:\n"
    "  after_request: {handler: golden11_after, scope: plugin}\n";

static trellis_str cstr(const char* s) {
    trellis_str v = {s, strlen(s)};
    return v;
}

static int host_is_usable(const trellis_host_api* host) {
    return host && host->abi_major == 1 && TRELLIS_HOST_HAS(host, db_error);
}

static trellis_status golden11_init(const trellis_host_api* host, trellis_plugin_ctx* plugin) {
    if (!host_is_usable(host)) return TRELLIS_ERROR;
    host->log(plugin, TRELLIS_LOG_INFO, cstr("golden11 ready (built against ABI 1.1)"));
    return TRELLIS_OK;
}

static long long param_int(const trellis_host_api* host, trellis_call* call, const char* name) {
    trellis_str v = {NULL, 0};
    char text[32] = {0};
    if (!host->request_param(call, cstr(name), &v) || v.len >= sizeof text) return 0;
    memcpy(text, v.ptr, v.len);
    long long out = 0;
    sscanf(text, "%lld", &out);
    return out;
}

TRELLIS_EXPORT trellis_status golden11_sum(const trellis_host_api* host, trellis_call* call);
TRELLIS_EXPORT trellis_status golden11_sum(const trellis_host_api* host, trellis_call* call) {
    trellis_stmt* stmt = NULL;
    if (host->db_prepare(call, cstr("SELECT :a + :b AS s"), &stmt) != TRELLIS_DB_OK) return TRELLIS_ERROR;
    host->db_bind_int(stmt, cstr("a"), param_int(host, call, "a"));
    host->db_bind_int(stmt, cstr("b"), param_int(host, call, "b"));
    if (host->db_step(stmt) != TRELLIS_DB_ROW) {
        host->db_finalize(stmt);
        return TRELLIS_ERROR;
    }
    const long long sum = (long long)host->db_column_int(stmt, 0);
    host->db_finalize(stmt);

    trellis_str route = host->request_route(call);
    trellis_str id = host->request_id(call);
    char body[512];
    /* Route and id are plain ASCII (a template; [A-Za-z0-9._:-]): no escaping needed. */
    int n = snprintf(body, sizeof body, "{\"sum\":%lld,\"route\":\"%.*s\",\"id\":\"%.*s\"}", sum, (int)route.len,
                     route.ptr, (int)id.len, id.ptr);
    if (n < 0 || (size_t)n >= sizeof body) return TRELLIS_ERROR;
    trellis_str out = {body, (size_t)n};
    host->response_header(call, cstr("Content-Type"), cstr("application/json"));
    host->response_body(call, out);
    return TRELLIS_OK;
}

TRELLIS_EXPORT trellis_status golden11_fail(const trellis_host_api* host, trellis_call* call);
TRELLIS_EXPORT trellis_status golden11_fail(const trellis_host_api* host, trellis_call* call) {
    host->fail(call, 409, cstr("golden11 conflict"));
    return TRELLIS_OK;
}

TRELLIS_EXPORT trellis_status golden11_conflict(const trellis_host_api* host, trellis_call* call);
TRELLIS_EXPORT trellis_status golden11_conflict(const trellis_host_api* host, trellis_call* call) {
    trellis_str detail = {NULL, 0};
    const int status = host->error_status(call, &detail);
    char body[128];
    int n = snprintf(body, sizeof body, "{\"golden11_error\":%d}", status);
    trellis_str out = {body, (size_t)n};
    host->response_header(call, cstr("Content-Type"), cstr("application/json"));
    host->response_body(call, out);
    return TRELLIS_OK;
}

TRELLIS_EXPORT trellis_status golden11_after(const trellis_host_api* host, trellis_call* call);
TRELLIS_EXPORT trellis_status golden11_after(const trellis_host_api* host, trellis_call* call) {
    char status[8];
    int n = snprintf(status, sizeof status, "%d", host->response_get_status(call));
    trellis_str value = {status, (size_t)n};
    host->response_header(call, cstr("X-Golden11-After"), value);
    return TRELLIS_OK;
}

static const trellis_plugin_descriptor descriptor = {
    sizeof(trellis_plugin_descriptor),
    TRELLIS_ABI_MAJOR,
    TRELLIS_ABI_MINOR,
    "golden11",
    "1.1.0",
    {manifest, sizeof(manifest) - 1},
    golden11_init,
    NULL,
};

TRELLIS_EXPORT const trellis_plugin_descriptor* trellis_plugin_entry(void) { return &descriptor; }
