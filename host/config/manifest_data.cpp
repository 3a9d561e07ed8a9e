// A plugin's manifest, the data model: models and their fields, migrations
// and resources.
#include "config/manifest.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <iterator>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/manifest_parser.hpp"

namespace trellis::config {

namespace {



struct FieldTypeName {
    std::string_view name;
    FieldType type;
};
constexpr FieldTypeName kFieldTypes[] = {
    {"integer", FieldType::Integer},     {"real", FieldType::Real}, {"text", FieldType::Text},
    {"boolean", FieldType::Boolean},     {"timestamp", FieldType::Timestamp}, {"json", FieldType::Json},
};

// Spellings other tools use (and settings use: int, bool, string), for a hint.
constexpr std::pair<std::string_view, std::string_view> kFieldTypeAliases[] = {
    {"int", "integer"},  {"bigint", "integer"}, {"float", "real"},   {"double", "real"},
    {"number", "real"},  {"string", "text"},    {"varchar", "text"}, {"bool", "boolean"},
    {"datetime", "timestamp"}, {"date", "timestamp"}, {"object", "json"},
};

std::string_view field_type_name(FieldType type) {
    for (const auto& t : kFieldTypes)
        if (t.type == type) return t.name;
    return "?";
}

// Names that would make hand-written SQL against the table painful (the host
// quotes identifiers, plugin authors writing migrations and queries may not).
constexpr std::string_view kSqlKeywords[] = {
    "all",    "alter",   "and",    "as",      "asc",     "between", "by",      "case",     "check",
    "column", "constraint", "create", "default", "delete", "desc",   "distinct", "drop",   "else",
    "end",    "exists",  "foreign", "from",   "group",   "having",  "in",      "index",    "insert",
    "into",   "is",      "join",   "key",     "like",    "limit",   "not",     "null",     "offset",
    "on",     "or",      "order",  "primary", "references", "select", "set",   "table",    "then",
    "union",  "unique",  "update", "user",    "values",  "when",    "where",
};

bool is_sql_name(std::string_view name) {
    const auto lower = [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; };
    const auto digit = [](char c) { return c >= '0' && c <= '9'; };
    return !name.empty() && lower(name.front()) &&
           std::all_of(name.begin(), name.end(), [&](char c) { return lower(c) || digit(c); });
}

// Why `name` cannot name a model or field ("model" / "field"); empty when it can.
std::string sql_name_problem(std::string_view name, std::string_view what) {
    if (!is_sql_name(name))
        return std::string(what) + " names must be lower-case letters, digits and '_', not starting with a digit";
    if (std::find(std::begin(kSqlKeywords), std::end(kSqlKeywords), name) != std::end(kSqlKeywords))
        return "'" + std::string(name) + "' is an SQL keyword; choose another " + std::string(what) + " name";
    return {};
}

// PostgreSQL cuts identifiers to 63 bytes (NAMEDATALEN - 1): two longer
// names could become one table.
constexpr std::size_t kMaxTableName = 63;

// Why `name` cannot name a table; empty when it can.
std::string table_name_problem(std::string_view name) {
    if (auto problem = sql_name_problem(name, "table"); !problem.empty()) return problem;
    if (name.rfind("trellis_", 0) == 0) return "names starting with 'trellis_' are reserved for the host's tables";
    if (name.size() > kMaxTableName)
        return "is longer than " + std::to_string(kMaxTableName) + " characters (PostgreSQL would cut it)";
    return {};
}

// Django's rule: "<plugin>_<model>", the plugin name lower case with '-' as '_'.
std::string default_table(std::string_view plugin, std::string_view model) {
    std::string table;
    for (const char c : plugin)
        table += c == '-' ? '_' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return table + "_" + std::string(model);
}

struct AutoName {
    std::string_view name;
    FieldSpec::Auto value;
};
constexpr AutoName kAutoNames[] = {{"create", FieldSpec::Auto::Create}, {"update", FieldSpec::Auto::Update}};

constexpr std::string_view kOpList = "list, read, create, replace, patch, delete";

// The HTTP and CRUD words authors reach for, for a hint.
constexpr std::pair<std::string_view, std::string_view> kOpAliases[] = {
    {"update", "did you mean 'patch' (PATCH) or 'replace' (PUT)?"},
    {"get", "did you mean 'list' (GET <path>) or 'read' (GET <path>/{id})?"},
    {"index", "did you mean 'list'?"},
    {"show", "did you mean 'read'?"},
    {"retrieve", "did you mean 'read'?"},
    {"post", "did you mean 'create'?"},
    {"put", "did you mean 'replace'?"},
    {"remove", "did you mean 'delete'?"},
    {"destroy", "did you mean 'delete'?"},
};

// Why `value` cannot be the default of a field of `type`; empty when it can.
// On success `json` holds the default as JSON text.
std::string field_default_problem(const FieldSpec& field, const YAML::Node& value, std::string& json) {
    switch (field.type) {
    case FieldType::Integer:
        if (const auto i = integer_of(value)) {
            json = std::to_string(*i);
            return {};
        }
        return "must be an integer";
    case FieldType::Real:
        if (const auto r = detail::real_of(value); r && std::isfinite(*r)) {
            json = nlohmann::json(*r).dump();
            return {};
        }
        return "must be a number";
    case FieldType::Boolean:
        if (const auto b = bool_of(value)) {
            json = *b ? "true" : "false";
            return {};
        }
        return "must be true or false";
    case FieldType::Text:
        if (!value.IsScalar()) return "must be a string";
        if (field.max && utf8_length(value.Scalar()) > *field.max)
            return "is longer than max (" + std::to_string(*field.max) + " characters)";
        // Invalid UTF-8 becomes U+FFFD (found by fuzz/fuzz_manifest.cpp: dump() threw).
        json = nlohmann::json(value.Scalar()).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        return {};
    case FieldType::Timestamp:
        if (!value.IsScalar() || !is_timestamp(value.Scalar()))
            return "must be an ISO-8601 timestamp such as 2024-05-01T12:00:00Z";
        json = nlohmann::json(value.Scalar()).dump();
        return {};
    case FieldType::Json:
        if (!value.IsDefined() || value.IsNull()) return "must be a JSON value other than null";
        json = json_text(value);
        return {};
    }
    return "has an unknown type";
}

}  // namespace

namespace detail {

// models: {note: {fields: {id: {type: integer, primary_key: true}, title: {type: text}}}}
void ManifestParser::parse_models(const MapEntry& section) {
    if (section.value.IsNull()) return;
    if (!section.value.IsMap()) {
        sink_.error(section.where(), section.path, "must be a map from model name to {fields: {...}}");
        return;
    }
    std::map<std::string, YAML::Mark> seen;
    for (const auto& kv : section.value) {
        const std::string name = kv.first.IsScalar() ? kv.first.Scalar() : "";
        const std::string path = join_key(section.path, name);
        if (const auto problem = sql_name_problem(name, "model"); !problem.empty()) {
            sink_.error(kv.first, path, problem);
            continue;
        }
        if (name.rfind("trellis_", 0) == 0) {
            sink_.error(kv.first, path, "names starting with 'trellis_' are reserved for the host's tables");
            continue;
        }
        declared_models_.insert(name);
        if (const auto [it, inserted] = seen.emplace(name, kv.first.Mark()); !inserted) {
            sink_.error(kv.first, path,
                        "model declared twice; first declared at line " + std::to_string(it->second.line + 1) +
                            ", column " + std::to_string(it->second.column + 1));
            continue;
        }
        parse_model(name, MapEntry{kv.first, kv.second, path});
    }
}

void ManifestParser::parse_model(const std::string& name, const MapEntry& entry) {
    if (!entry.value.IsMap()) {
        sink_.error(entry.where(), entry.path,
                    "must be a map such as {fields: {id: {type: integer, primary_key: true}}}");
        return;
    }
    ModelSpec model;
    model.name = name;
    model.line = entry.key.Mark().line + 1;
    model.column = entry.key.Mark().column + 1;
    bool ok = true, fields_given = false;
    walk_map(entry.value, entry.path,
             {
                 {"fields",
                  [&](const MapEntry& e) {
                      fields_given = true;
                      if (!parse_fields(model, e)) ok = false;
                  },
                  true},
                 {"table",
                  [&](const MapEntry& e) {
                      const std::string text = e.value.IsScalar() ? e.value.Scalar() : "";
                      if (const auto problem = table_name_problem(text); !problem.empty()) {
                          sink_.error(e.where(), e.path, problem);
                          ok = false;
                          return;
                      }
                      model.table = text;
                      table_entries_.emplace(name, KeptEntry(e));
                  }},
             },
             sink_);
    if (!fields_given) return;  // reported as a missing key
    if (ok && !model.primary_key())
        sink_.error(entry.key, join_key(entry.path, "fields"),
                    "needs a primary key: mark one integer or text field with primary_key: true");
    if (ok) manifest_.models.push_back(std::move(model));
}

// Returns false when a problem was reported.
bool ManifestParser::parse_fields(ModelSpec& model, const MapEntry& section) {
    if (!section.value.IsMap() || section.value.size() == 0) {
        sink_.error(section.where(), section.path, "must be a map from field name to {type, ...}");
        return false;
    }
    bool ok = true;
    std::map<std::string, YAML::Mark> seen;
    std::string primary_key;  // name of the first field marked primary_key
    for (const auto& kv : section.value) {
        const std::string name = kv.first.IsScalar() ? kv.first.Scalar() : "";
        const std::string path = join_key(section.path, name);
        if (const auto problem = sql_name_problem(name, "field"); !problem.empty()) {
            sink_.error(kv.first, path, problem);
            ok = false;
            continue;
        }
        if (const auto [it, inserted] = seen.emplace(name, kv.first.Mark()); !inserted) {
            sink_.error(kv.first, path,
                        "field declared twice; first declared at line " + std::to_string(it->second.line + 1) +
                            ", column " + std::to_string(it->second.column + 1));
            ok = false;
            continue;
        }
        std::optional<FieldSpec> field = parse_field(name, MapEntry{kv.first, kv.second, path}, primary_key);
        if (!field) {
            ok = false;
            continue;
        }
        if (field->primary_key && primary_key.empty()) primary_key = field->name;
        model.fields.push_back(std::move(*field));
    }
    return ok;
}

std::optional<FieldSpec> ManifestParser::parse_field(const std::string& name, const MapEntry& entry,
                                                     const std::string& primary_key) {
    if (!entry.value.IsMap()) {
        sink_.error(entry.where(), entry.path, "must be a map such as {type: text, max: 200, required: true}");
        return std::nullopt;
    }
    FieldSpec field;
    field.name = name;
    field.line = entry.key.Mark().line + 1;
    field.column = entry.key.Mark().column + 1;
    bool ok = true, type_ok = false;
    // MapEntry refers into the walk; keep copies of the entries checked once the type is known.
    std::optional<KeptEntry> max_entry, default_entry, primary_entry, auto_entry;
    const auto flag = [&](bool& target) {
        return [&](const MapEntry& e) {
            if (const auto b = bool_of(e.value)) {
                target = *b;
            } else {
                sink_.error(e.where(), e.path, "must be true or false");
                ok = false;
            }
        };
    };
    walk_map(entry.value, entry.path,
             {
                 {"type",
                  [&](const MapEntry& e) {
                      const std::string text = e.value.IsScalar() ? e.value.Scalar() : "";
                      for (const auto& t : kFieldTypes) {
                          if (t.name == text) {
                              field.type = t.type;
                              type_ok = true;
                          }
                      }
                      if (type_ok) return;
                      std::string message = "must be one of integer, real, text, boolean, timestamp, json";
                      std::string hint;
                      for (const auto& [alias, type] : kFieldTypeAliases)
                          if (alias == text) hint = "did you mean '" + std::string(type) + "'?";
                      if (hint.empty() && !text.empty()) {
                          std::vector<std::string_view> names;
                          for (const auto& t : kFieldTypes) names.push_back(t.name);
                          hint = did_you_mean(text, names);
                      }
                      if (!hint.empty()) message += "; " + hint;
                      sink_.error(e.where(), e.path, message);
                  },
                  true},
                 {"primary_key",
                  [&](const MapEntry& e) {
                      primary_entry.emplace(e);
                      flag(field.primary_key)(e);
                  }},
                 {"unique", flag(field.unique)},
                 {"index", flag(field.index)},
                 {"required", flag(field.required)},
                 {"max",
                  [&](const MapEntry& e) {
                      max_entry.emplace(e);
                      const auto max = integer_of(e.value);
                      if (!max || *max <= 0) {
                          sink_.error(e.where(), e.path, "must be an integer greater than 0");
                          ok = false;
                      } else {
                          field.max = static_cast<std::size_t>(*max);
                      }
                  }},
                 {"default", [&](const MapEntry& e) { default_entry.emplace(e); }},
                 {"auto",
                  [&](const MapEntry& e) {
                      auto_entry.emplace(e);
                      const std::string text = e.value.IsScalar() ? e.value.Scalar() : "";
                      for (const auto& a : kAutoNames)
                          if (a.name == text) field.auto_timestamp = a.value;
                      if (field.auto_timestamp != FieldSpec::Auto::None) return;
                      std::string message = "must be create (set on insert) or update (set on insert and on every "
                                            "PUT and PATCH)";
                      if (const auto hint = did_you_mean(text, {"create", "update"}); !hint.empty())
                          message += "; " + hint;
                      sink_.error(e.where(), e.path, message);
                      ok = false;
                  }},
             },
             sink_);
    if (!type_ok) return std::nullopt;  // reported above or as a missing key

    if (field.auto_timestamp != FieldSpec::Auto::None) {
        if (field.type != FieldType::Timestamp) {
            sink_.error(auto_entry->where(), auto_entry->path,
                        "applies only to timestamp fields, not " + std::string(field_type_name(field.type)));
            ok = false;
        } else if (default_entry) {
            // As in Django (auto_now and default exclude each other): the
            // host always writes the field, a default would never apply.
            sink_.error(default_entry->where(), default_entry->path,
                        "a field the host fills (auto: " + auto_entry->value.Scalar() + ") cannot have a default");
            ok = false;
            default_entry.reset();
        }
    }

    if (field.max && field.type != FieldType::Text) {
        sink_.error(max_entry->where(), max_entry->path, "applies only to text fields");
        ok = false;
    }
    if (field.primary_key) {
        if (!primary_key.empty()) {
            sink_.error(primary_entry->where(), primary_entry->path,
                        "a model has one primary key and '" + primary_key + "' already is");
            ok = false;
        } else if (field.type != FieldType::Integer && field.type != FieldType::Text) {
            sink_.error(primary_entry->where(), primary_entry->path,
                        "a primary key must be an integer or text field, not " +
                            std::string(field_type_name(field.type)));
            ok = false;
        }
    } else if (name == "id") {
        // Resources bind the key of the addressed row as :id; another field
        // of that name would be confused with it.
        sink_.error(entry.key, entry.path,
                    "a field named 'id' must be the primary key (add primary_key: true or rename it)");
        ok = false;
    }
    if (default_entry) {
        std::string json;
        if (field.primary_key) {
            sink_.error(default_entry->where(), default_entry->path, "a primary key cannot have a default");
            ok = false;
        } else if (const auto problem = field_default_problem(field, default_entry->value, json); !problem.empty()) {
            sink_.error(default_entry->where(), default_entry->path,
                        "default " + problem + " (type " + std::string(field_type_name(field.type)) + ")");
            ok = false;
        } else {
            field.default_json = json;
        }
    }
    if (!ok) return std::nullopt;
    return field;
}

// migrations: [{id: 001_x, sql: "..."}, {id: 002_y, sqlite: "...", postgresql: "..."}]
void ManifestParser::parse_migrations(const MapEntry& section) {
    if (section.value.IsNull()) return;
    if (!section.value.IsSequence()) {
        sink_.error(section.where(), section.path, "must be a list of {id, sql} (or {id, sqlite, postgresql})");
        return;
    }
    std::map<std::string, std::string> seen;  // id -> its key path
    for (std::size_t i = 0; i < section.value.size(); ++i) {
        const YAML::Node item = section.value[i];
        const std::string path = section.path + "[" + std::to_string(i) + "]";
        if (!item.IsMap()) {
            sink_.error(item, path, "must be a map {id, sql} (or {id, sqlite, postgresql})");
            continue;
        }
        MigrationSpec migration;
        migration.line = item.Mark().line + 1;
        migration.column = item.Mark().column + 1;
        bool ok = true, any_sql = false;
        const auto sql = [&](std::string* target, std::string backend) {
            return [&, target, backend](const MapEntry& e) {
                any_sql = true;
                if (!e.value.IsScalar() || e.value.Scalar().find_first_not_of(" \t\r\n") == std::string::npos) {
                    sink_.error(e.where(), e.path, "must be non-empty SQL text");
                    ok = false;
                } else if (target) {
                    *target = e.value.Scalar();
                } else {
                    migration.by_backend[backend] = e.value.Scalar();
                }
            };
        };
        walk_map(item, path,
                 {
                     {"id",
                      [&](const MapEntry& e) {
                          const std::string text = e.value.IsScalar() ? e.value.Scalar() : "";
                          const bool valid = !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
                              return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' ||
                                     c == '-';
                          });
                          if (!valid) {
                              sink_.error(e.where(), e.path,
                                          "must be made of letters, digits, '_', '.' and '-', e.g. 002_add_tag");
                              ok = false;
                          } else if (const auto [it, inserted] = seen.emplace(text, path); !inserted) {
                              sink_.error(e.where(), e.path,
                                          "migration '" + text + "' is already declared at " + it->second);
                              ok = false;
                          } else {
                              migration.id = text;
                          }
                      },
                      true},
                     {"sql", sql(&migration.sql, "")},
                     {"sqlite", sql(nullptr, "sqlite")},
                     {"postgresql", sql(nullptr, "postgresql")},
                 },
                 sink_);
        if (!any_sql) {
            sink_.error(item, path, "needs sql (every backend) or sqlite and/or postgresql");
            ok = false;
        }
        if (ok && !migration.id.empty()) manifest_.migrations.push_back(std::move(migration));
    }
}

// limit: {default: 20, max: 100}. Either may be left out: max keeps 1000,
// default keeps 50 (or max, when max is lower). Returns false on a problem.
bool ManifestParser::parse_resource_limit(ResourceSpec& resource, const MapEntry& entry) {
    if (!entry.value.IsMap()) {
        sink_.error(entry.where(), entry.path, "must be a map such as {default: 20, max: 100}");
        return false;
    }
    bool ok = true;
    std::optional<std::int64_t> given_default, given_max;
    std::optional<KeptEntry> default_entry;
    const auto positive = [&](std::optional<std::int64_t>& target, bool keep) {
        return [&, keep](const MapEntry& e) {
            if (keep) default_entry.emplace(e);
            const auto n = integer_of(e.value);
            if (!n || *n <= 0 || *n > std::numeric_limits<std::int32_t>::max()) {
                sink_.error(e.where(), e.path, "must be an integer from 1 to 2147483647");
                ok = false;
            } else {
                target = *n;
            }
        };
    };
    walk_map(entry.value, entry.path, {{"default", positive(given_default, true)}, {"max", positive(given_max, false)}},
             sink_);
    if (!ok) return false;
    if (given_max) resource.limit_max = *given_max;
    resource.limit_default = given_default ? *given_default : std::min(resource.limit_default, resource.limit_max);
    if (resource.limit_default > resource.limit_max) {
        sink_.error(default_entry->where(), default_entry->path,
                    "is more than max (" + std::to_string(resource.limit_max) + ")");
        return false;
    }
    return true;
}

// methods: [list, read, create, replace, patch, delete], any subset. Returns
// false on a problem.
bool ManifestParser::parse_resource_methods(ResourceSpec& resource, const MapEntry& entry) {
    if (!entry.value.IsSequence() || entry.value.size() == 0) {
        sink_.error(entry.where(), entry.path, "must be a non-empty list of " + std::string(kOpList));
        return false;
    }
    bool ok = true;
    std::vector<ResourceSpec::Op> ops;
    std::vector<std::string_view> names;
    for (const auto op : ResourceSpec::kAllOps) names.push_back(ResourceSpec::op_name(op));
    for (std::size_t i = 0; i < entry.value.size(); ++i) {
        const YAML::Node item = entry.value[i];
        const std::string path = entry.path + "[" + std::to_string(i) + "]";
        const std::string text = item.IsScalar() ? item.Scalar() : "";
        const auto known = std::find(names.begin(), names.end(), text);
        if (text.empty()) {
            sink_.error(item, path, "must be one of " + std::string(kOpList));
            ok = false;
            continue;
        }
        if (known == names.end()) {
            std::string message = "'" + text + "' is not a method; use " + std::string(kOpList);
            std::string lower;
            for (const char c : text) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            std::string hint;
            for (const auto& [alias, text_hint] : kOpAliases)
                if (alias == lower) hint = text_hint;
            if (hint.empty()) hint = did_you_mean(lower, names);
            if (!hint.empty()) message += "; " + hint;
            sink_.error(item, path, message);
            ok = false;
            continue;
        }
        const auto op = ResourceSpec::kAllOps[known - names.begin()];
        if (std::find(ops.begin(), ops.end(), op) != ops.end()) {
            sink_.error(item, path, "'" + text + "' is listed twice");
            ok = false;
            continue;
        }
        ops.push_back(op);
    }
    if (!ok) return false;
    // Routes follow one order, whatever the order written.
    resource.methods.clear();
    for (const auto op : ResourceSpec::kAllOps)
        if (std::find(ops.begin(), ops.end(), op) != ops.end()) resource.methods.push_back(op);
    return true;
}

// resources: [{model: note, path: /, limit: {default: 20, max: 100}, methods: [list, read]}]
void ManifestParser::parse_resources(const MapEntry& section) {
    if (section.value.IsNull()) return;
    if (!section.value.IsSequence()) {
        sink_.error(section.where(), section.path, "must be a list of {model, path}");
        return;
    }
    std::map<std::string, std::string> paths;  // path -> key path of the resource using it
    for (std::size_t i = 0; i < section.value.size(); ++i) {
        const YAML::Node item = section.value[i];
        const std::string path = section.path + "[" + std::to_string(i) + "]";
        if (!item.IsMap()) {
            sink_.error(item, path, "must be a map {model, path}");
            continue;
        }
        ResourceSpec resource;
        resource.line = item.Mark().line + 1;
        resource.column = item.Mark().column + 1;
        bool ok = true;
        std::optional<KeptEntry> model_entry, path_entry;
        walk_map(item, path,
                 {
                     {"model",
                      [&](const MapEntry& e) {
                          if (!e.value.IsScalar() || !is_sql_name(e.value.Scalar())) {
                              sink_.error(e.where(), e.path, "must be the name of a model of this manifest");
                              ok = false;
                              return;
                          }
                          resource.model = e.value.Scalar();
                          model_entry.emplace(e);
                      },
                      true},
                     {"path",
                      [&](const MapEntry& e) {
                          const std::string text = e.value.IsScalar() ? e.value.Scalar() : "";
                          std::string problem;
                          if (text.empty() || text.front() != '/')
                              problem = "must start with '/'";
                          else if (text.size() > 1 && text.back() == '/')
                              problem = "must not end with '/' (use \"/\" for the root)";
                          else if (text.find("//") != std::string::npos)
                              problem = "must not contain '//'";
                          else if (text.find_first_of("{}") != std::string::npos)
                              problem = "must not contain '{' or '}' (the resource adds /{id} itself)";
                          if (!problem.empty()) {
                              sink_.error(e.where(), e.path, problem);
                              ok = false;
                          } else {
                              resource.path = text;
                              path_entry.emplace(e);
                          }
                      }},
                 {"limit", [&](const MapEntry& e) { ok = parse_resource_limit(resource, e) && ok; }},
                 {"methods", [&](const MapEntry& e) { ok = parse_resource_methods(resource, e) && ok; }},
                 },
                 sink_);
        if (ok) {
            // Two resources at one path would answer the same requests.
            if (const auto [it, inserted] = paths.emplace(resource.path, path); !inserted) {
                sink_.error(path_entry ? path_entry->value : item, path_entry ? path_entry->path : path,
                            "'" + resource.path + "' is already the path of " + it->second);
                ok = false;
            }
        }
        if (ok && !resource.model.empty()) {
            manifest_.resources.push_back(std::move(resource));
            resource_models_.push_back(std::move(*model_entry));
        }
    }
}

// Runs after the walk: `plugin:` may come after `models:`.
void ManifestParser::check_model_tables() {
    if (manifest_.plugin.empty()) return;  // reported as a missing or bad key
    std::map<std::string, std::string> owners;  // table -> model
    for (auto& model : manifest_.models) {
        const auto given = table_entries_.find(model.name);
        const std::string path = "models." + model.name;
        if (given == table_entries_.end()) {
            model.table = default_table(manifest_.plugin, model.name);
            if (const auto problem = table_name_problem(model.table); !problem.empty()) {
                sink_.error_at(model.line, model.column, path,
                               "the default table '" + model.table + "' (<plugin>_<model>) cannot be used: " +
                                   problem + "; choose one with table:");
                continue;
            }
        }
        if (const auto [it, inserted] = owners.emplace(model.table, model.name); !inserted) {
            const std::string message = "table '" + model.table + "' is already the table of model '" + it->second + "'";
            if (given != table_entries_.end())
                sink_.error(given->second.value, given->second.path, message);
            else
                sink_.error_at(model.line, model.column, path, message);
        }
    }
}

void ManifestParser::check_resource_models() {
    std::vector<std::string_view> names;
    for (const auto& model : manifest_.models) names.push_back(model.name);
    std::vector<ResourceSpec> kept;
    for (std::size_t i = 0; i < manifest_.resources.size(); ++i) {
        const std::string& name = manifest_.resources[i].model;
        if (std::find(names.begin(), names.end(), name) != names.end()) {
            kept.push_back(std::move(manifest_.resources[i]));
            continue;
        }
        // A model that was declared but refused has its own diagnostic already.
        if (declared_models_.count(name)) continue;
        std::string message = "'" + name + "' is not a model of this manifest";
        if (const auto hint = did_you_mean(name, names); !hint.empty()) message += "; " + hint;
        sink_.error(resource_models_[i].value, resource_models_[i].path, message);
    }
    manifest_.resources = std::move(kept);
}

}  // namespace detail

std::string_view ResourceSpec::op_name(Op op) noexcept {
    switch (op) {
    case Op::List: return "list";
    case Op::Read: return "read";
    case Op::Create: return "create";
    case Op::Replace: return "replace";
    case Op::Patch: return "patch";
    case Op::Delete: return "delete";
    }
    return "?";
}

bool ResourceSpec::serves(Op op) const noexcept { return std::find(methods.begin(), methods.end(), op) != methods.end(); }

}  // namespace trellis::config
