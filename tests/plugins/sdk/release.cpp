// The release plugin, built twice (tests/plugins/CMakeLists.txt) with a
// different RELEASE_TEXT: the reload test replaces one .so with the other
// and sees the answer change.
#include <trellis/plugin.hpp>

TRELLIS_PLUGIN();

TRELLIS_HANDLER(release_version, trellis::Request&, trellis::Response& res) {
    res.json({{"release", RELEASE_TEXT}});
}
