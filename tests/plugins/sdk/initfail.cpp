// A plugin whose init logs why and returns TRELLIS_ERROR. Written against the
// raw ABI (not TRELLIS_PLUGIN_LIFECYCLE) so that the words "init failed" in
// the host's output can only come from the host itself.
#include <string_view>

#include <trellis/plugin.hpp>

namespace {
trellis_status initfail_init(const trellis_host_api* host, trellis_plugin_ctx* plugin) {
    constexpr std::string_view why = "database unreachable (initfail test plugin)";
    host->log(plugin, TRELLIS_LOG_ERROR, trellis_str{why.data(), why.size()});
    return TRELLIS_ERROR;
}
}  // namespace

extern "C" TRELLIS_EXPORT const trellis_plugin_descriptor* trellis_plugin_entry(void) {
    static const trellis_plugin_descriptor descriptor = {
        sizeof(trellis_plugin_descriptor), TRELLIS_ABI_MAJOR, TRELLIS_ABI_MINOR,
        TRELLIS_PLUGIN_NAME, TRELLIS_PLUGIN_VERSION,
        trellis_str{trellis_manifest_text, trellis_manifest_size}, &initfail_init, nullptr};
    return &descriptor;
}

TRELLIS_HANDLER(initfail_get, trellis::Request&, trellis::Response& res) {
    res.text("should never run");
}
