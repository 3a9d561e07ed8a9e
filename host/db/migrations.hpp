// Schema migrations: each plugin's steps (the CREATE TABLE of its models,
// then its `migrations`) applied once, in order, each in a transaction, and
// recorded in the host table trellis_migrations(plugin, step, checksum,
// applied_at). A step whose SQL changed after it was applied is refused. On
// PostgreSQL the whole run holds pg_advisory_lock, so hosts starting together
// apply each step exactly once.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "db/database.hpp"

namespace trellis::db {

struct MigrationStep {
    std::string id;   // "model:note" or the manifest's migration id
    std::string sql;  // for the database's backend; may hold several statements separated by ';'
};

struct PluginSchema {
    std::string plugin;
    std::vector<MigrationStep> steps;  // in order
};

class MigrationError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct MigrationReport {
    int applied = 0;  // steps run now
    int already = 0;  // steps found applied with the same checksum
};

// Applies what is pending. Throws MigrationError naming plugin and step (a
// changed step, a failing step: that step's transaction is rolled back) and
// Unavailable when the database cannot be reached.
MigrationReport migrate(Database& database, const std::vector<PluginSchema>& schemas);

// "plugin/step" of every step not applied yet (for `trellis check`); throws
// MigrationError for a changed step.
std::vector<std::string> pending(Database& database, const std::vector<PluginSchema>& schemas);

// The checksum recorded for a step's SQL (stable across releases).
std::string checksum(const std::string& sql);

}  // namespace trellis::db
