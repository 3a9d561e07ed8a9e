/* The descriptor says "namemismatch" (as the file and the operator do), the
 * embedded manifest says "somethingelse": code and declaration disagree. */
#include "canary.h"

CANARY_HANDLER(namemismatch_get)

static const char manifest[] =
    "plugin: somethingelse\n"
    "version: 1.0.0\n"
    "abi: 1.0\n"
    "routes:\n"
    "  - {method: GET, path: /namemismatch, handler: namemismatch_get}\n";

static const trellis_plugin_descriptor descriptor = {
    sizeof(trellis_plugin_descriptor), TRELLIS_ABI_MAJOR, TRELLIS_ABI_MINOR, "namemismatch", "1.0.0",
    CANARY_STR(manifest), canary_init, canary_shutdown};

TRELLIS_EXPORT const trellis_plugin_descriptor* trellis_plugin_entry(void) { return &descriptor; }
