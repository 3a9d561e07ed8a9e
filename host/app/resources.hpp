// REST collections served by the host from a manifest `resources` entry:
// no plugin code. Each operation is a handler with the ABI's signature, so
// the pipeline runs it like any other (hooks and error chain included).
#pragma once

#include <string>
#include <vector>

#include <trellis/abi.h>

#include "config/manifest.hpp"

namespace trellis::app {

struct ResourceRoute {
    std::string method;
    std::string path;  // relative to the mount: "/notes" or "/notes/{id:int}"
    trellis_handler_fn handler;
    std::string name;  // for logs: "note.list"
};

// One model served as a collection, with what its requests need prepared
// once, when the snapshot is built: the SQL that does not depend on the
// request, and the JSON member names of a row. The snapshot keeps it alive
// while a request uses it (trellis_call::resource).
struct Resource {
    // Throws std::invalid_argument when the model has no primary key (the
    // manifest parser refuses such a resource already).
    Resource(const config::ResourceSpec& spec, const config::ModelSpec& model);

    const config::ResourceSpec& spec;
    const config::ModelSpec& model;
    const config::FieldSpec& primary_key;
    std::size_t primary_key_index;  // in model.fields
    std::string select_one_sql;  // WHERE pk = :id
    std::string delete_sql;      // WHERE pk = :id
    // Per field, in model order (the order of the SQL's columns):
    // `{"id":` for the first, `,"title":` for the others.
    std::vector<std::string> member_prefixes;

    // The routes of spec.methods, of GET/POST <path>, GET/PUT/PATCH/DELETE <path>/{id}.
    std::vector<ResourceRoute> routes() const;
};

}  // namespace trellis::app
