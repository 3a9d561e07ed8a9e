/* A descriptor whose struct_size claims only 8 bytes: the host must not read
 * the fields beyond it, and refuses the plugin. */
#include "canary.h"

CANARY_HANDLER(smallstruct_get)

static const char manifest[] =
    "plugin: smallstruct\n"
    "version: 1.0.0\n"
    "abi: 1.0\n"
    "routes:\n"
    "  - {method: GET, path: /smallstruct, handler: smallstruct_get}\n";

static const trellis_plugin_descriptor descriptor = {
    8, TRELLIS_ABI_MAJOR, TRELLIS_ABI_MINOR, "smallstruct", "1.0.0",
    CANARY_STR(manifest), canary_init, canary_shutdown};

TRELLIS_EXPORT const trellis_plugin_descriptor* trellis_plugin_entry(void) { return &descriptor; }
