// The spa plugin: one API route; the rest is the static dir its CMake copies
// beside the library (test-plugins/spa/static).
#include <trellis/plugin.hpp>

TRELLIS_PLUGIN();

TRELLIS_HANDLER(spa_ping, trellis::Request&, trellis::Response& res) { res.json({{"pong", true}}); }
