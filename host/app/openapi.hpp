// The OpenAPI 3.1 document of a snapshot: every route the enabled plugins
// declare (with its mount), resources with their models as JSON Schema, and
// RFC 9457 problem+json for every error. `trellis openapi` prints it and the
// pipeline serves it at `openapi.path`; both come from this one function.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "config/operator_config.hpp"

namespace trellis::app {

struct Snapshot;

// Builds the document from the snapshot's routes (in match order) and the
// manifests of its plugins. Pure: runs no plugin code.
nlohmann::ordered_json openapi_document(const Snapshot& snapshot, const config::OpenApiConfig& options);

// "/notes/{id:int}" -> "/notes/{id}": a Trellis template as an OpenAPI path.
std::string openapi_path(std::string_view pattern);

}  // namespace trellis::app
