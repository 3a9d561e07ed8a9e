// REST collections served by the host from a manifest `resources` entry:
// no plugin code. Each operation is a handler with the ABI's signature, so
// the pipeline runs it like any other (hooks and error chain included).
#pragma once

#include <string>
#include <vector>

#include <trellis/abi.h>

#include "config/manifest.hpp"

namespace trellis::db {

struct ResourceRoute {
    std::string method;
    std::string path;  // relative to the mount: "/notes" or "/notes/{id:int}"
    trellis_handler_fn handler;
    std::string name;  // for logs: "note.list"
};

// The six routes of a resource: GET/POST <path>, GET/PUT/PATCH/DELETE <path>/{id}.
std::vector<ResourceRoute> resource_routes(const config::ResourceSpec& resource, const config::ModelSpec& model);

}  // namespace trellis::db
