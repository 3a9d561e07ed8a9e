/* The leaky plugin: written by hand and linked without trellis_add_plugin()'s
 * isolation flags, it defines and exports sqlite3_libversion(), which the
 * host's libsqlite3 defines too. Its own call reaches the host's copy; the
 * loader must warn, naming the symbol and the fix. */
#include <string.h>

#include <trellis/abi.h>

const char* sqlite3_libversion(void) { return "bundled-by-plugin"; }

static const char manifest[] =
    "plugin: leaky\n"
    "version: 0.1.0\n"
    "abi: 1.0\n"
    "routes:\n"
    "  - {method: GET, path: /leaky/version, handler: leaky_version}\n";

TRELLIS_EXPORT trellis_status leaky_version(const trellis_host_api* host, trellis_call* call) {
    const char* version = sqlite3_libversion();
    char body[128];
    const char* prefix = "{\"sqlite3_libversion\":\"";
    size_t n = strlen(prefix), v = strlen(version);
    if (v > sizeof body - n - 3) v = sizeof body - n - 3;
    memcpy(body, prefix, n);
    memcpy(body + n, version, v);
    memcpy(body + n + v, "\"}", 2);
    host->response_header(call, (trellis_str){"Content-Type", 12}, (trellis_str){"application/json", 16});
    host->response_body(call, (trellis_str){body, n + v + 2});
    return TRELLIS_OK;
}

static const trellis_plugin_descriptor descriptor = {
    sizeof(trellis_plugin_descriptor), TRELLIS_ABI_MAJOR, TRELLIS_ABI_MINOR, "leaky", "0.1.0",
    {manifest, sizeof manifest - 1}, NULL, NULL};

TRELLIS_EXPORT const trellis_plugin_descriptor* trellis_plugin_entry(void) { return &descriptor; }
