// From a plugin's declared models to SQL, and from request bodies to field
// errors: pure functions, no database connection needed.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/manifest.hpp"
#include "db/database.hpp"
#include "db/migrations.hpp"

namespace trellis::db {

// CREATE TABLE (and CREATE INDEX) statements for a model on `backend`.
std::string create_table_sql(const config::ModelSpec& model, Backend backend);

// A plugin's migration steps for `backend`: "model:<name>" for each model
// (declaration order), then its `migrations`. A migration without SQL for
// this backend is skipped.
PluginSchema plugin_schema(const config::Manifest& manifest, Backend backend);

struct FieldError {
    std::string field;
    std::string message;  // "is required", "must be an integer", "is longer than 200 characters", "is not a field of note"
};

enum class ValidationMode {
    Create,   // POST: required fields must be present; primary key must not be given when generated
    Replace,  // PUT: like Create, for an existing row
    Patch     // PATCH: only the given fields are checked
};

// Validates a JSON body against the model: must be an object; unknown
// fields, wrong types, too-long text, missing required fields are errors.
std::vector<FieldError> validate(const config::ModelSpec& model, const nlohmann::json& body, ValidationMode mode);

}  // namespace trellis::db
