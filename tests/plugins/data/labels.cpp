// The labels test plugin: everything it serves is declared in its manifest
// (a resource); the library only carries the entry symbol.
#include <trellis/plugin.hpp>

TRELLIS_PLUGIN();
