// `trellis new-plugin NAME [--dir DIR] [--with-model]`: writes a plugin
// project a third-party author starts from (CMakeLists.txt, manifest,
// source, GoogleTest over the SDK's test client, a development
// trellis.yaml, README), then prints the files and the next commands.
// Exit codes: 0, 1 when DIR cannot be used, 2 for a NAME the manifest
// parser would refuse.
#pragma once

#include <string>

namespace trellis::service {

struct ScaffoldOptions {
    std::string name;         // the manifest's plugin: (libNAME.so)
    std::string dir;          // empty: ./NAME
    bool with_model = false;  // a model, its REST resource and a test of both
};

int new_plugin(const ScaffoldOptions& options);

}  // namespace trellis::service
