// From a plugin's declared models to SQL, and from request bodies to field
// errors: pure functions, no database connection needed.
#pragma once

#include <optional>
#include <string>
#include <string_view>
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
// Errors come in a stable order: unknown fields (by name), then the model's
// fields in declaration order.
//  - null is accepted only for fields that are not required;
//  - Create/Replace: a required field may be left out only when it has a
//    default (on Replace the handler then writes that default); a text primary
//    key is required on Create;
//  - Create: an integer primary key is generated, giving it is an error;
//  - Replace/Patch: the primary key cannot be changed. `current_key`, when
//    given, is the key of the addressed row: the body may repeat it (a client
//    that PUTs back what it read) but not give another.
//  - fields with `auto:` are read-only by the same rule: never required,
//    "is set by the host" on Create; on Replace/Patch the body may repeat the
//    value `current_row` (an object, the addressed row's stored values) holds,
//    any other value "cannot be changed".
std::vector<FieldError> validate(const config::ModelSpec& model, const nlohmann::json& body, ValidationMode mode,
                                 const nlohmann::json* current_key = nullptr,
                                 const nlohmann::json* current_row = nullptr);

// ---- SQL for declarative resources ----
// Every value is a named parameter, never text in the SQL. Field names are
// those of the model (the builders throw std::invalid_argument for any other
// name: validate the request first). Identifiers are double-quoted. Columns
// come back in the model's declaration order.
//   :id          the primary key of the addressed row
//   :<field>     a value in INSERT and UPDATE
//   :f_<field>   an equality filter in list/count
//   :limit, :offset  pagination in list

struct Sort {
    std::string field;
    bool descending = false;
};

// SELECT <cols> FROM <t> WHERE <pk> = :id
std::string select_one_sql(const config::ModelSpec& model);
// SELECT <cols> FROM <t> [WHERE a = :f_a AND ...] ORDER BY <sort> ASC|DESC[, <pk> ASC]
// [LIMIT :limit OFFSET :offset]. Without `sort`, the primary key ascending;
// sorting by another field adds the primary key so that pages are stable.
std::string list_sql(const config::ModelSpec& model, const std::vector<std::string>& filters,
                     const std::optional<Sort>& sort, bool has_limit);
// SELECT COUNT(*) FROM <t> [WHERE a = :f_a AND ...]
std::string count_sql(const config::ModelSpec& model, const std::vector<std::string>& filters);
// INSERT INTO <t> (a, b) VALUES (:a, :b) RETURNING <cols>; with no fields,
// INSERT INTO <t> DEFAULT VALUES RETURNING <cols>.
std::string insert_sql(const config::ModelSpec& model, const std::vector<std::string>& fields);
// UPDATE <t> SET a = :a, b = :b WHERE <pk> = :id RETURNING <cols>. The primary
// key cannot be among `fields`. With no fields the row is returned unchanged
// (SET <pk> = <pk>), so that an empty PATCH still answers 200 or 404.
std::string update_sql(const config::ModelSpec& model, const std::vector<std::string>& fields);
// DELETE FROM <t> WHERE <pk> = :id
std::string delete_sql(const config::ModelSpec& model);


}  // namespace trellis::db
