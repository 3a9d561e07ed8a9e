/* The golden plugin: plain C11, compiled only against the FROZEN ABI 1.0
 * header in tests/abi/v1.0 (never against sdk/include). Everything here is
 * written by hand exactly as a 1.0-era plugin author would have: descriptor,
 * manifest, handlers. Every later host must keep loading it and answering.
 *
 *   GET  /golden/{name}  -> {"plugin":"golden","salutation":S,"name":NAME,
 *                            "method":"GET","path":P,"query":Q|null,"abi":"1.0"}
 *   POST /golden/echo    -> 201, text/plain, the request body
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <trellis/abi.h>

#if TRELLIS_ABI_MAJOR != 1 || TRELLIS_ABI_MINOR != 0
#error "the golden plugin must be built against the frozen ABI 1.0 header"
#endif

static const char manifest[] =
    "plugin: golden\n"
    "version: 1.0.0\n"
    "abi: 1.0\n"
    "description: ABI 1.0 golden plugin, plain C\n"
    "settings:\n"
    "  salutation: {type: string, default: Greetings}\n"
    "routes:\n"
    "  - {method: GET,  path: \"/golden/{name}\", handler: golden_name}\n"
    "  - {method: POST, path: /golden/echo,   handler: golden_echo}\n";

/* A growable byte buffer for building the JSON body. */
typedef struct buf {
    char* data;
    size_t len, cap;
    int failed;
} buf;

static void buf_put(buf* b, const char* p, size_t n) {
    if (b->failed) return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 128;
        while (cap < b->len + n) cap *= 2;
        char* grown = realloc(b->data, cap);
        if (!grown) {
            b->failed = 1;
            return;
        }
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

static void buf_lit(buf* b, const char* s) { buf_put(b, s, strlen(s)); }

/* A JSON string literal; bytes >= 0x80 pass through (UTF-8). */
static void buf_json_str(buf* b, trellis_str s) {
    static const char hex[] = "0123456789abcdef";
    buf_lit(b, "\"");
    for (size_t i = 0; i < s.len; ++i) {
        unsigned char c = (unsigned char)s.ptr[i];
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            buf_put(b, esc, 2);
        } else if (c < 0x20) {
            char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            buf_put(b, esc, 6);
        } else {
            buf_put(b, (const char*)&s.ptr[i], 1);
        }
    }
    buf_lit(b, "\"");
}

static trellis_str cstr(const char* s) {
    trellis_str v = {s, strlen(s)};
    return v;
}

/* The host table must be at least as large as the 1.0 one. */
static int host_is_usable(const trellis_host_api* host) {
    return host && host->abi_major == 1 &&
           host->struct_size >= offsetof(trellis_host_api, log) + sizeof(host->log);
}

static trellis_status golden_init(const trellis_host_api* host, trellis_plugin_ctx* plugin) {
    if (!host_is_usable(host)) return TRELLIS_ERROR;
    host->log(plugin, TRELLIS_LOG_INFO, cstr("golden ready (built against ABI 1.0)"));
    return TRELLIS_OK;
}

static void golden_shutdown(const trellis_host_api* host, trellis_plugin_ctx* plugin) {
    host->log(plugin, TRELLIS_LOG_INFO, cstr("golden shutting down"));
}

TRELLIS_EXPORT trellis_status golden_name(const trellis_host_api* host, trellis_call* call);
TRELLIS_EXPORT trellis_status golden_name(const trellis_host_api* host, trellis_call* call) {
    trellis_str name = {NULL, 0};
    if (!host->request_param(call, cstr("name"), &name)) {
        host->fail(call, 500, cstr("route has no {name}"));
        return TRELLIS_OK;
    }
    trellis_str salutation = cstr("unset");
    host->setting(host->call_plugin(call), cstr("salutation"), &salutation);
    trellis_str query = {NULL, 0};
    int has_query = host->request_query(call, cstr("q"), &query);

    buf b = {NULL, 0, 0, 0};
    buf_lit(&b, "{\"plugin\":\"golden\",\"abi\":\"1.0\",\"salutation\":");
    buf_json_str(&b, salutation);
    buf_lit(&b, ",\"name\":");
    buf_json_str(&b, name);
    buf_lit(&b, ",\"method\":");
    buf_json_str(&b, host->request_method(call));
    buf_lit(&b, ",\"path\":");
    buf_json_str(&b, host->request_path(call));
    buf_lit(&b, ",\"query\":");
    if (has_query) {
        buf_json_str(&b, query);
    } else {
        buf_lit(&b, "null");
    }
    buf_lit(&b, "}");
    if (b.failed) {
        free(b.data);
        return TRELLIS_ERROR;
    }
    trellis_str body = {b.data, b.len};
    host->response_header(call, cstr("Content-Type"), cstr("application/json"));
    host->response_header(call, cstr("X-Golden"), cstr("1.0"));
    host->response_body(call, body); /* the host copies it */
    free(b.data);
    return TRELLIS_OK;
}

TRELLIS_EXPORT trellis_status golden_echo(const trellis_host_api* host, trellis_call* call);
TRELLIS_EXPORT trellis_status golden_echo(const trellis_host_api* host, trellis_call* call) {
    if (!host->response_status(call, 201)) return TRELLIS_ERROR;
    host->response_header(call, cstr("Content-Type"), cstr("text/plain; charset=utf-8"));
    host->response_body(call, host->request_body(call));
    return TRELLIS_OK;
}

static const trellis_plugin_descriptor descriptor = {
    sizeof(trellis_plugin_descriptor),
    TRELLIS_ABI_MAJOR,
    TRELLIS_ABI_MINOR,
    "golden",
    "1.0.0",
    {manifest, sizeof(manifest) - 1},
    golden_init,
    golden_shutdown,
};

TRELLIS_EXPORT const trellis_plugin_descriptor* trellis_plugin_entry(void) { return &descriptor; }
