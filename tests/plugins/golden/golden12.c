/* The golden 1.2 plugin: plain C11, compiled only against the FROZEN ABI 1.2
 * header in tests/abi/v1.2 (never against sdk/include), written by hand as a
 * 1.2-era plugin author would have: per-instance state made in init and
 * freed in shutdown, the instance's name, and headers on a failure's answer.
 * Every later host must keep loading it and answering the same.
 *
 *   GET /golden12/whoami -> {"instance":NAME,"hits":N}   (N counts this instance's requests)
 *   GET /golden12/locked -> 401 problem+json with WWW-Authenticate: Golden12 realm="NAME"
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <trellis/abi.h>

#if TRELLIS_ABI_MAJOR != 1 || TRELLIS_ABI_MINOR != 2
#error "the golden12 plugin must be built against the frozen ABI 1.2 header"
#endif

static const char manifest[] =
    "plugin: golden12\n"
    "version: 1.2.0\n"
    "abi: 1.2\n"
    "description: ABI 1.2 golden plugin, plain C\n"
    "routes:\n"
    "  - {method: GET, path: /golden12/whoami, handler: golden12_whoami}\n"
    "  - {method: GET, path: /golden12/locked, handler: golden12_locked}\n";

static trellis_str cstr(const char* s) {
    trellis_str v = {s, strlen(s)};
    return v;
}

/* One per instance (an operator may mount the library twice). Requests of
 * one instance run concurrently, so the count is atomic (a GCC builtin: C11's
 * <stdatomic.h> is optional). */
struct golden12_state {
    char instance[64];
    long hits;
};

static trellis_status golden12_init(const trellis_host_api* host, trellis_plugin_ctx* plugin) {
    if (!host || host->abi_major != 1 || !TRELLIS_HOST_HAS(host, fail_header)) return TRELLIS_ERROR;
    struct golden12_state* state = calloc(1, sizeof *state);
    if (!state) return TRELLIS_ERROR;
    trellis_str name = host->plugin_instance(plugin);
    const size_t n = name.len < sizeof state->instance - 1 ? name.len : sizeof state->instance - 1;
    memcpy(state->instance, name.ptr, n);
    host->plugin_set_state(plugin, state);
    char line[128];
    snprintf(line, sizeof line, "golden12 instance %s ready (built against ABI 1.2)", state->instance);
    host->log(plugin, TRELLIS_LOG_INFO, cstr(line));
    return TRELLIS_OK;
}

static void golden12_shutdown(const trellis_host_api* host, trellis_plugin_ctx* plugin) {
    struct golden12_state* state = host->plugin_state(plugin);
    host->plugin_set_state(plugin, NULL);
    if (state) {
        char line[128];
        snprintf(line, sizeof line, "golden12 instance %s freed after %ld requests", state->instance, state->hits);
        host->log(plugin, TRELLIS_LOG_INFO, cstr(line));
    }
    free(state);
}

TRELLIS_EXPORT trellis_status golden12_whoami(const trellis_host_api* host, trellis_call* call);
TRELLIS_EXPORT trellis_status golden12_whoami(const trellis_host_api* host, trellis_call* call) {
    struct golden12_state* state = host->plugin_state(host->call_plugin(call));
    if (!state) return TRELLIS_ERROR;
    const long hits = __atomic_add_fetch(&state->hits, 1, __ATOMIC_RELAXED);
    char body[160];
    /* Instance names are [A-Za-z0-9_-]: no escaping needed. */
    int n = snprintf(body, sizeof body, "{\"instance\":\"%s\",\"hits\":%ld}", state->instance, hits);
    if (n < 0 || (size_t)n >= sizeof body) return TRELLIS_ERROR;
    trellis_str out = {body, (size_t)n};
    host->response_header(call, cstr("Content-Type"), cstr("application/json"));
    host->response_body(call, out);
    return TRELLIS_OK;
}

TRELLIS_EXPORT trellis_status golden12_locked(const trellis_host_api* host, trellis_call* call);
TRELLIS_EXPORT trellis_status golden12_locked(const trellis_host_api* host, trellis_call* call) {
    struct golden12_state* state = host->plugin_state(host->call_plugin(call));
    if (!state) return TRELLIS_ERROR;
    char challenge[128];
    int n = snprintf(challenge, sizeof challenge, "Golden12 realm=\"%s\"", state->instance);
    if (n < 0 || (size_t)n >= sizeof challenge) return TRELLIS_ERROR;
    trellis_str value = {challenge, (size_t)n};
    /* Content-Type is never a failure header: the host refuses it (0). */
    if (host->fail_header(call, cstr("Content-Type"), cstr("text/plain")) != 0) return TRELLIS_ERROR;
    host->fail(call, 401, cstr("golden12 is locked"));
    host->fail_header(call, cstr("WWW-Authenticate"), value); /* after fail() counts too */
    return TRELLIS_OK;
}

static const trellis_plugin_descriptor descriptor = {
    sizeof(trellis_plugin_descriptor),
    TRELLIS_ABI_MAJOR,
    TRELLIS_ABI_MINOR,
    "golden12",
    "1.2.0",
    {manifest, sizeof(manifest) - 1},
    golden12_init,
    golden12_shutdown,
};

TRELLIS_EXPORT const trellis_plugin_descriptor* trellis_plugin_entry(void) { return &descriptor; }
