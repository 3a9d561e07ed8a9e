// The assets plugin: a route shadowing the file www/dynamic; the files are
// copied beside the library by CMake (test-plugins/assets/www).
#include <trellis/plugin.hpp>

TRELLIS_PLUGIN();

TRELLIS_HANDLER(assets_dynamic, trellis::Request&, trellis::Response& res) { res.text("route-not-file-marker"); }
