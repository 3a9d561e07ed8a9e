// The migrator test plugin (built twice, from migrator_v1 and migrator_v2
// manifests). GET /extra reads the table that migration 003_extra creates
// with two statements, through trellis::Db.
#include <trellis/plugin.hpp>

TRELLIS_PLUGIN();

TRELLIS_HANDLER(migrator_extra, trellis::Request& req, trellis::Response& res) {
    trellis::Json keys = trellis::Json::array();
    for (const auto& row : req.db().all("SELECT k FROM mig_extra ORDER BY k")) keys.push_back(row.text("k"));
    res.json({{"keys", keys}});
}
