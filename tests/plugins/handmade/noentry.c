/* A library that looks like a plugin (it exports a handler) but has no
 * trellis_plugin_entry symbol. */
#include "canary.h"

CANARY_HANDLER(noentry_get)

/* Something that is almost the entry symbol, to make sure the host looks up
 * the exact name. */
TRELLIS_EXPORT int trellis_plugin_entry_(void);
TRELLIS_EXPORT int trellis_plugin_entry_(void) { return 0; }
