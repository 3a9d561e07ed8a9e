// A plugin whose embedded manifest is invalid (a route without a handler).
#include "canary.hpp"

TRELLIS_PLUGIN_LIFECYCLE(canary_init, canary_shutdown);

TRELLIS_HANDLER(badmanifest_get, trellis::Request&, trellis::Response& res) {
    std::fputs(CANARY_MARKER " (handler)\n", stderr);
    res.text("should never run");
}
