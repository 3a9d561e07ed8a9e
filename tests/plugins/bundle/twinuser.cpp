// twin_a and twin_b: the same code, each linked against its own build of
// libtwin (v1, v2). Each must see its own; and sqlite3_libversion(), which
// libtwin and the host's libsqlite3 both define, comes from libtwin only
// with `isolation: deep`.
#include <trellis/plugin.hpp>

extern "C" const char* twin_version(void);
extern "C" const char* sqlite3_libversion(void);

TRELLIS_PLUGIN();

TRELLIS_HANDLER(twin_version_handler, trellis::Request&, trellis::Response& res) {
    res.json({{"twin", twin_version()}, {"sqlite3_libversion", sqlite3_libversion()}});
}
