// The manifest names missinghandler_gone, which this library does not export.
// (It exists, but with hidden visibility, so dlsym cannot find it either.)
#include "canary.hpp"

TRELLIS_PLUGIN_LIFECYCLE(canary_init, canary_shutdown);

TRELLIS_HANDLER(missinghandler_present, trellis::Request&, trellis::Response& res) {
    std::fputs(CANARY_MARKER " (handler)\n", stderr);
    res.text("should never run");
}

extern "C" __attribute__((visibility("hidden"), used)) trellis_status missinghandler_gone(
    const trellis_host_api*, trellis_call*) {
    std::fputs(CANARY_MARKER " (hidden handler)\n", stderr);
    return TRELLIS_ERROR;
}

// Exported, but C++-mangled (no extern "C"): the refusal says so.
__attribute__((visibility("default"), used)) trellis_status missinghandler_mangled(const trellis_host_api*,
                                                                                   trellis_call*) {
    std::fputs(CANARY_MARKER " (mangled handler)\n", stderr);
    return TRELLIS_ERROR;
}
