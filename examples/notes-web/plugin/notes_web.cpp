// The notes_web plugin has nothing to run: its manifest declares the static
// folder and the host serves it. A plugin still needs its entry symbol.
#include <trellis/plugin.hpp>

TRELLIS_PLUGIN();
