/* Built "against ABI 1.99": newer than the host, so refused. Like a real newer
 * minor, its descriptor is longer than the 1.0 one (fields are appended). */
#include "canary.h"

CANARY_HANDLER(abiminor_get)

static const char manifest[] =
    "plugin: abiminor\n"
    "version: 1.0.0\n"
    "abi: 1.99\n"
    "routes:\n"
    "  - {method: GET, path: /abiminor, handler: abiminor_get}\n";

typedef struct future_descriptor {
    trellis_plugin_descriptor v1_0;
    const void* appended_in_1_5;
    const void* appended_in_1_99;
} future_descriptor;

static const future_descriptor descriptor = {
    {sizeof(future_descriptor), 1, 99, "abiminor", "1.0.0", CANARY_STR(manifest), canary_init,
     canary_shutdown},
    NULL,
    NULL};

TRELLIS_EXPORT const trellis_plugin_descriptor* trellis_plugin_entry(void) { return &descriptor.v1_0; }
