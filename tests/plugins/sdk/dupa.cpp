// One of two plugins that both declare GET /same: mounted at the same prefix
// they conflict; at different prefixes both answer.
#include <trellis/plugin.hpp>

TRELLIS_PLUGIN();

TRELLIS_HANDLER(dupa_same, trellis::Request&, trellis::Response& res) {
    res.json({{"plugin", "dupa"}, {"route", "same"}});
}

TRELLIS_HANDLER(dupa_own, trellis::Request&, trellis::Response& res) {
    res.json({{"plugin", "dupa"}, {"route", "own"}});
}
