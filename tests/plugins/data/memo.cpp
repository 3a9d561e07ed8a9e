// The memo test plugin: everything it serves is declared in its manifest.
#include <trellis/plugin.hpp>

TRELLIS_PLUGIN();
