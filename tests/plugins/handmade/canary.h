/* Shared by the hand-made test plugins. Each of them writes its descriptor out
 * by hand so that it can be wrong in exactly one way, and each is one the host
 * must refuse. The host must never call into a plugin it refuses, so their
 * init and handlers print a marker the end-to-end tests look for. */
#ifndef TRELLIS_TEST_CANARY_H
#define TRELLIS_TEST_CANARY_H

#include <stdio.h>

#include <trellis/abi.h>

#define CANARY_MARKER "CANARY: the host called into a plugin it should have refused"

static inline trellis_status canary_init(const trellis_host_api* host, trellis_plugin_ctx* plugin) {
    (void)host;
    (void)plugin;
    fputs(CANARY_MARKER " (init)\n", stderr);
    fflush(stderr);
    return TRELLIS_ERROR;
}

static inline void canary_shutdown(const trellis_host_api* host, trellis_plugin_ctx* plugin) {
    (void)host;
    (void)plugin;
    fputs(CANARY_MARKER " (shutdown)\n", stderr);
    fflush(stderr);
}

/* An exported handler that must never run. */
#define CANARY_HANDLER(symbol)                                                           \
    TRELLIS_EXPORT trellis_status symbol(const trellis_host_api* host, trellis_call* call); \
    TRELLIS_EXPORT trellis_status symbol(const trellis_host_api* host, trellis_call* call) { \
        (void)host;                                                                      \
        (void)call;                                                                      \
        fputs(CANARY_MARKER " (handler)\n", stderr);                                     \
        fflush(stderr);                                                                  \
        return TRELLIS_ERROR;                                                            \
    }

#define CANARY_STR(literal) {literal, sizeof(literal) - 1}

#endif
