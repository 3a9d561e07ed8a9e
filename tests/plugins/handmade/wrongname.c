/* Installed as libwrongname.so and configured as "wrongname", but descriptor
 * and manifest agree that it is "impostor". */
#include "canary.h"

CANARY_HANDLER(impostor_get)

static const char manifest[] =
    "plugin: impostor\n"
    "version: 1.0.0\n"
    "abi: 1.0\n"
    "routes:\n"
    "  - {method: GET, path: /impostor, handler: impostor_get}\n";

static const trellis_plugin_descriptor descriptor = {
    sizeof(trellis_plugin_descriptor), TRELLIS_ABI_MAJOR, TRELLIS_ABI_MINOR, "impostor", "1.0.0",
    CANARY_STR(manifest), canary_init, canary_shutdown};

TRELLIS_EXPORT const trellis_plugin_descriptor* trellis_plugin_entry(void) { return &descriptor; }
