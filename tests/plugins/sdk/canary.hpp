// For SDK-built test plugins the host must refuse: if the host ever calls
// their init, it prints a marker that the end-to-end tests look for.
#pragma once

#include <cstdio>
#include <stdexcept>

#include <trellis/plugin.hpp>

#define CANARY_MARKER "CANARY: the host called into a plugin it should have refused"

inline void canary_init(trellis::Plugin&) {
    std::fputs(CANARY_MARKER " (init)\n", stderr);
    std::fflush(stderr);
    throw std::runtime_error("canary");
}

inline void canary_shutdown(trellis::Plugin&) {
    std::fputs(CANARY_MARKER " (shutdown)\n", stderr);
    std::fflush(stderr);
}
