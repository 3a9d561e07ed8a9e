// The bundler plugin: links a static library with its own
// sqlite3_libversion() (tests/plugins/bundle/standin_sqlite.c), a symbol the
// host's libsqlite3 also defines. Its answer must come from its own copy.
#include <trellis/plugin.hpp>

extern "C" const char* sqlite3_libversion(void);

TRELLIS_PLUGIN();

TRELLIS_HANDLER(bundler_version, trellis::Request&, trellis::Response& res) {
    res.json({{"sqlite3_libversion", sqlite3_libversion()}});
}
