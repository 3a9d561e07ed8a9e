/* Built "against ABI 2.0": a 1.x host must refuse it without calling it. */
#include "canary.h"

CANARY_HANDLER(abimajor_get)

static const char manifest[] =
    "plugin: abimajor\n"
    "version: 1.0.0\n"
    "abi: 2.0\n"
    "routes:\n"
    "  - {method: GET, path: /abimajor, handler: abimajor_get}\n";

static const trellis_plugin_descriptor descriptor = {
    sizeof(trellis_plugin_descriptor), 2, 0, "abimajor", "1.0.0",
    CANARY_STR(manifest), canary_init, canary_shutdown};

TRELLIS_EXPORT const trellis_plugin_descriptor* trellis_plugin_entry(void) { return &descriptor; }
