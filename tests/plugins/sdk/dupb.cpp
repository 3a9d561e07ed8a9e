// One of two plugins that both declare GET /same: mounted at the same prefix
// they conflict; at different prefixes both answer.
#include <trellis/plugin.hpp>

TRELLIS_PLUGIN();

TRELLIS_HANDLER(dupb_same, trellis::Request&, trellis::Response& res) {
    res.json({{"plugin", "dupb"}, {"route", "same"}});
}

TRELLIS_HANDLER(dupb_own, trellis::Request&, trellis::Response& res) {
    res.json({{"plugin", "dupb"}, {"route", "own"}});
}
