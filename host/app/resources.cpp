#include "app/resources.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <optional>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "app/host_api.hpp"
#include "app/request.hpp"
#include "app/router.hpp"
#include "base/text.hpp"
#include "config/diagnostics.hpp"
#include "db/json_writer.hpp"
#include "db/schema.hpp"

namespace trellis::app {
namespace {

using nlohmann::json;
using config::FieldType;
using db::append_json_integer;
using db::append_json_real;
using db::append_json_string;
using db::count_sql;
using db::insert_sql;
using db::list_sql;
using db::Sort;
using db::update_sql;
using db::validate;
using db::ValidationMode;

using Op = config::ResourceSpec::Op;
using Auto = config::FieldSpec::Auto;

// Resources use the database as plugins do: through the host API table.
const trellis_host_api& host = *host_api();

// A failure for the error chain (problem+json unless a handler answers).
struct Failure {
    int status;
    std::string detail;
    json errors = nullptr;  // 422: [{field, message}]
};

// One statement, finalized on scope exit; database errors become Failures.
class Stmt {
public:
    Stmt(trellis_call* call, const std::string& sql) : call_(call) { check(host.db_prepare(call, str(sql), &stmt_)); }
    ~Stmt() { host.db_finalize(stmt_); }
    Stmt(const Stmt&) = delete;
    Stmt& operator=(const Stmt&) = delete;

    void bind(const std::string& name, const config::FieldSpec& field, const json& value) {
        const trellis_str n = str(name);
        if (value.is_null()) return check(host.db_bind_null(stmt_, n));
        switch (field.type) {
            case FieldType::Integer: return check(host.db_bind_int(stmt_, n, value.get<std::int64_t>()));
            case FieldType::Boolean: return check(host.db_bind_int(stmt_, n, value.get<bool>() ? 1 : 0));
            case FieldType::Real: return check(host.db_bind_real(stmt_, n, value.get<double>()));
            case FieldType::Json: {
                const std::string text = value.dump();
                return check(host.db_bind_text(stmt_, n, str(text)));
            }
            case FieldType::Text:
            case FieldType::Timestamp: {
                const std::string& text = value.get_ref<const std::string&>();
                return check(host.db_bind_text(stmt_, n, str(text)));
            }
        }
    }
    void bind_int(const std::string& name, std::int64_t value) { check(host.db_bind_int(stmt_, str(name), value)); }

    bool next() {
        const int rc = host.db_step(stmt_);
        if (rc == TRELLIS_DB_ROW) return true;
        if (rc != TRELLIS_DB_DONE) check(rc);
        return false;
    }
    std::int64_t rows_affected() const { return host.db_rows_affected(stmt_); }
    std::int64_t first_integer() const { return host.db_column_int(stmt_, 0); }

    // The current row as the model's JSON object, appended to `out`. The
    // resource's SQL selects the model's fields in model order: column i is
    // field i.
    void append_row(std::string& out, const Resource& resource) const {
        const auto& fields = resource.model.fields;
        for (std::size_t i = 0; i < fields.size(); ++i) {
            out += resource.member_prefixes[i];
            const int column = static_cast<int>(i);
            const int type = host.db_column_type(stmt_, column);
            if (type == TRELLIS_DB_NULL) {
                out += "null";
                continue;
            }
            switch (fields[i].type) {
                case FieldType::Integer: append_json_integer(out, host.db_column_int(stmt_, column)); break;
                case FieldType::Boolean: out += host.db_column_int(stmt_, column) != 0 ? "true" : "false"; break;
                case FieldType::Real:
                    append_json_real(out, type == TRELLIS_DB_INTEGER ? static_cast<double>(host.db_column_int(stmt_, column))
                                                                     : host.db_column_real(stmt_, column));
                    break;
                case FieldType::Json: {
                    // Stored by this host as validated JSON; anything else
                    // (a row written by other means) is answered as a string.
                    const std::string_view text = view(host.db_column_text(stmt_, column));
                    if (json::accept(text))
                        out += text;
                    else
                        append_json_string(out, text);
                    break;
                }
                case FieldType::Text:
                case FieldType::Timestamp: append_json_string(out, view(host.db_column_text(stmt_, column))); break;
            }
        }
        out += '}';
    }

    // The primary key of the current row, as it appears in a URL.
    std::string key_text(const Resource& resource) const {
        const int column = static_cast<int>(resource.primary_key_index);
        if (resource.primary_key.type == FieldType::Integer) return std::to_string(host.db_column_int(stmt_, column));
        return std::string(view(host.db_column_text(stmt_, column)));
    }

private:
    void check(int rc) const {
        if (rc == TRELLIS_DB_OK) return;
        trellis_str message{};
        host.db_error(call_, &message);
        if (rc == TRELLIS_DB_UNAVAILABLE) {
            spdlog::warn("{} {}: database unavailable: {} (request {})", call_->method, call_->path, view(message),
                         call_->request_id);
            throw Failure{503, "the database is unavailable; try again shortly"};
        }
        if (rc == TRELLIS_DB_CONSTRAINT) throw Failure{409, "the request conflicts with existing data"};
        spdlog::error("{} {}: database error {}: {} (request {})", call_->method, call_->path, rc, view(message),
                      call_->request_id);
        throw Failure{500, "the server failed to handle this request"};
    }

    trellis_call* call_;
    trellis_stmt* stmt_ = nullptr;
};

// Starts a JSON answer: the caller appends the body.
std::string& answer(trellis_call* call, int status) {
    call->response.status = status;
    call->response.content_type = "application/json";
    call->response.body.clear();
    return call->response.body;
}

json parse_body(trellis_call* call) {
    json body = json::parse(call->request.body, nullptr, false);
    if (body.is_discarded()) throw Failure{400, "the request body is not valid JSON"};
    return body;
}

void check_fields(const config::ModelSpec& model, const json& body, ValidationMode mode,
                  const json* current_key = nullptr, const json* current_row = nullptr) {
    auto errors = validate(model, body, mode, current_key, current_row);
    if (errors.empty()) return;
    json list = json::array();
    std::string detail = "invalid fields:";
    for (const auto& e : errors) {
        list.push_back({{"field", e.field}, {"message", e.message}});
        detail += " " + (e.field.empty() ? std::string("body") : e.field) + " " + e.message + ";";
    }
    detail.pop_back();
    throw Failure{422, detail, list};
}

// The {id} of the route, typed like the primary key.
json id_of(trellis_call* call, const config::FieldSpec& pk) {
    std::string_view raw;
    for (const auto& [name, value] : *call->params)
        if (name == "id") raw = value;
    if (pk.type != FieldType::Integer) return std::string(raw);
    std::int64_t id = 0;
    auto [end, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), id);
    if (ec != std::errc{} || end != raw.data() + raw.size()) throw Failure{404, "no such " + std::string(raw)};
    return id;
}

std::string location_of(trellis_call* call, std::string_view key) {
    std::string base(call->path);
    if (!base.empty() && base.back() == '/') base.pop_back();
    return base + "/" + percent_encode_segment(key);
}

// A query value for a filter, typed like the field: "?pinned=true&tag=x".
json filter_value(const config::FieldSpec& field, const std::string& text) {
    switch (field.type) {
        case FieldType::Integer: {
            std::int64_t v = 0;
            auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
            if (ec != std::errc{} || end != text.data() + text.size())
                throw Failure{400, "filter " + field.name + " must be an integer"};
            return v;
        }
        case FieldType::Boolean:
            if (text == "true" || text == "1") return true;
            if (text == "false" || text == "0") return false;
            throw Failure{400, "filter " + field.name + " must be true or false"};
        case FieldType::Real:
            try {
                std::size_t used = 0;
                double v = std::stod(text, &used);
                if (used == text.size()) return v;
            } catch (const std::exception&) {
            }
            throw Failure{400, "filter " + field.name + " must be a number"};
        case FieldType::Timestamp:
            if (!config::is_timestamp(text))
                throw Failure{400, "filter " + field.name + " must be an ISO-8601 timestamp"};
            return text;
        default: return text;
    }
}

// Now in UTC to the millisecond, "2026-12-03T06:10:42.123Z": fixed width,
// so text order is time order (?sort=-updated works on both backends).
std::string now_timestamp() {
    const auto now = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
    const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
    const auto millis = (now.time_since_epoch() % std::chrono::seconds(1)).count();
    std::tm tm{};
    gmtime_r(&seconds, &tm);
    char buffer[32];
    const std::size_t n = std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S", &tm);
    std::snprintf(buffer + n, sizeof buffer - n, ".%03dZ", static_cast<int>(millis));
    return buffer;
}

// Writes the time into the fields the host fills on this write: every auto
// field on insert, the `auto: update` ones on PUT and PATCH.
void fill_timestamps(const config::ModelSpec& model, json& body, bool insert) {
    std::string now;
    for (const auto& field : model.fields) {
        if (field.auto_timestamp == Auto::Update || (insert && field.auto_timestamp == Auto::Create)) {
            if (now.empty()) now = now_timestamp();
            body[field.name] = now;
        }
    }
}

std::int64_t paging_number(const std::string& name, const std::string& text, std::int64_t max) {
    std::int64_t v = -1;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc{} || end != text.data() + text.size() || v < 0 || v > max)
        throw Failure{400, name + " must be an integer from 0 to " + std::to_string(max)};
    return v;
}

// Runs one operation; failures go to the error chain like a plugin's would.
template <class Fn>
trellis_status guarded(trellis_call* call, Fn&& fn) {
    try {
        fn(*call->resource);
    } catch (const Failure& f) {
        call->fail_status = f.status;
        call->fail_detail = f.detail;
        call->fail_errors = f.errors.is_null() ? std::string() : f.errors.dump();
    } catch (const std::exception& e) {
        spdlog::error("{} {}: resource failed: {} (request {})", call->method, call->path, e.what(), call->request_id);
        return TRELLIS_ERROR;
    }
    return TRELLIS_OK;
}

trellis_status list(const trellis_host_api*, trellis_call* call) {
    return guarded(call, [&](const Resource& resource) {
        const config::ModelSpec& model = resource.model;
        std::vector<std::string> filters;
        std::vector<json> filter_values;
        std::optional<Sort> sort;
        std::int64_t limit = resource.spec.limit_default, offset = 0;
        for (const auto& [raw_key, raw_value] : call->request.query_pairs()) {
            std::string key, value;
            if (!percent_decode(raw_key, key, true) || !percent_decode(raw_value, value, true))
                throw Failure{400, "malformed query string"};
            if (key == "limit") {
                limit = paging_number("limit", value, resource.spec.limit_max);
            } else if (key == "offset") {
                offset = paging_number("offset", value, std::numeric_limits<std::int32_t>::max());
            } else if (key == "sort") {
                const bool descending = !value.empty() && value.front() == '-';
                sort = Sort{descending ? value.substr(1) : value, descending};
                if (!model.field(sort->field))
                    throw Failure{400, "cannot sort by '" + sort->field + "': not a field of " + model.name};
            } else if (const auto* field = model.field(key)) {
                if (std::find(filters.begin(), filters.end(), key) != filters.end())
                    throw Failure{400, "filter " + key + " is given twice"};
                filter_values.push_back(filter_value(*field, value));
                filters.push_back(key);
            } else {
                throw Failure{400, "unknown query parameter '" + key + "': use limit, offset, sort or a field of " + model.name};
            }
        }
        const auto bind_filters = [&](Stmt& st) {
            for (std::size_t i = 0; i < filters.size(); ++i)
                st.bind("f_" + filters[i], *model.field(filters[i]), filter_values[i]);
        };
        Stmt count(call, count_sql(model, filters));
        bind_filters(count);
        std::int64_t total = 0;
        if (count.next()) total = count.first_integer();

        Stmt st(call, list_sql(model, filters, sort, true));
        bind_filters(st);
        st.bind_int("limit", limit);
        st.bind_int("offset", offset);
        std::string& out = answer(call, 200);
        out += "{\"items\":[";
        for (bool first = true; st.next(); first = false) {
            if (!first) out += ',';
            st.append_row(out, resource);
        }
        out += "],\"total\":";
        append_json_integer(out, total);
        out += ",\"limit\":";
        append_json_integer(out, limit);
        out += ",\"offset\":";
        append_json_integer(out, offset);
        out += '}';
    });
}

trellis_status create(const trellis_host_api*, trellis_call* call) {
    return guarded(call, [&](const Resource& resource) {
        const config::ModelSpec& model = resource.model;
        json body = parse_body(call);
        check_fields(model, body, ValidationMode::Create);
        fill_timestamps(model, body, true);
        std::vector<std::string> fields;
        for (const auto& field : model.fields)
            if (body.contains(field.name)) fields.push_back(field.name);
        Stmt st(call, insert_sql(model, fields));
        for (const auto& name : fields) st.bind(name, *model.field(name), body[name]);
        if (!st.next()) throw Failure{500, "the server failed to handle this request"};
        st.append_row(answer(call, 201), resource);
        call->response.headers.emplace_back("Location", location_of(call, st.key_text(resource)));
    });
}

trellis_status read(const trellis_host_api*, trellis_call* call) {
    return guarded(call, [&](const Resource& resource) {
        Stmt st(call, resource.select_one_sql);
        st.bind("id", resource.primary_key, id_of(call, resource.primary_key));
        if (!st.next()) throw Failure{404, "no " + resource.model.name + " with this id"};
        st.append_row(answer(call, 200), resource);
    });
}

// The stored values of the auto fields that `body` repeats, as an object,
// for validate(): a client may send back what it read. Read only when the
// body has one, so the common write stays one statement.
json stored_auto_fields(trellis_call* call, const Resource& resource, const json& body, const json& id) {
    json stored = json::object();
    const bool any = body.is_object() && std::any_of(resource.model.fields.begin(), resource.model.fields.end(),
                                                     [&](const config::FieldSpec& f) {
                                                         return f.auto_timestamp != Auto::None && body.contains(f.name);
                                                     });
    if (!any) return stored;
    Stmt st(call, resource.select_one_sql);
    st.bind("id", resource.primary_key, id);
    if (!st.next()) throw Failure{404, "no " + resource.model.name + " with this id"};
    std::string text;
    st.append_row(text, resource);
    const json row = json::parse(text);
    for (const auto& field : resource.model.fields)
        if (field.auto_timestamp != Auto::None) stored[field.name] = row.at(field.name);
    return stored;
}

// PUT replaces every field (absent ones become their default, else null);
// PATCH changes the given ones. Neither touches an `auto: create` field; both
// set the `auto: update` ones.
trellis_status update(trellis_call* call, ValidationMode mode) {
    return guarded(call, [&](const Resource& resource) {
        const config::ModelSpec& model = resource.model;
        json body = parse_body(call);
        const auto& pk = resource.primary_key;
        const json id = id_of(call, pk);
        const json stored = stored_auto_fields(call, resource, body, id);
        check_fields(model, body, mode, &id, &stored);
        // validate() allowed these only when equal to the addressed row's.
        body.erase(pk.name);
        for (const auto& field : model.fields)
            if (field.auto_timestamp != Auto::None) body.erase(field.name);
        fill_timestamps(model, body, false);
        std::vector<std::string> fields;
        for (const auto& field : model.fields) {
            if (field.primary_key || field.auto_timestamp == Auto::Create) continue;
            if (mode == ValidationMode::Replace && !body.contains(field.name))
                body[field.name] = field.default_json ? json::parse(*field.default_json) : json(nullptr);
            if (body.contains(field.name)) fields.push_back(field.name);
        }
        Stmt st(call, fields.empty() ? resource.select_one_sql : update_sql(model, fields));
        for (const auto& name : fields) st.bind(name, *model.field(name), body[name]);
        st.bind("id", pk, id);
        if (!st.next()) throw Failure{404, "no " + model.name + " with this id"};
        st.append_row(answer(call, 200), resource);
    });
}
trellis_status replace(const trellis_host_api*, trellis_call* call) { return update(call, ValidationMode::Replace); }
trellis_status patch(const trellis_host_api*, trellis_call* call) { return update(call, ValidationMode::Patch); }

trellis_status remove(const trellis_host_api*, trellis_call* call) {
    return guarded(call, [&](const Resource& resource) {
        Stmt st(call, resource.delete_sql);
        st.bind("id", resource.primary_key, id_of(call, resource.primary_key));
        st.next();
        if (st.rows_affected() == 0) throw Failure{404, "no " + resource.model.name + " with this id"};
        call->response.status = 204;
    });
}

const config::FieldSpec& primary_key_of(const config::ModelSpec& model) {
    if (const auto* pk = model.primary_key()) return *pk;
    throw std::invalid_argument("model " + model.name + " has no primary key");
}

}  // namespace

Resource::Resource(const config::ResourceSpec& spec_, const config::ModelSpec& model_)
    : spec(spec_),
      model(model_),
      primary_key(primary_key_of(model_)),
      primary_key_index(static_cast<std::size_t>(&primary_key - model_.fields.data())),
      select_one_sql(db::select_one_sql(model_)),
      delete_sql(db::delete_sql(model_)) {
    for (const auto& field : model.fields) {
        std::string prefix = member_prefixes.empty() ? "{" : ",";
        append_json_string(prefix, field.name);
        prefix += ':';
        member_prefixes.push_back(std::move(prefix));
    }
}

std::vector<ResourceRoute> Resource::routes() const {
    const std::string base = spec.path;
    const std::string id = primary_key.type == FieldType::Integer ? "{id:int}" : "{id}";
    const std::string item = (base == "/" ? "" : base) + "/" + id;
    struct Route {
        Op op;
        const char* method;
        const std::string& path;
        trellis_handler_fn handler;
    };
    const Route all[] = {
        {Op::List, "GET", base, &list},        {Op::Create, "POST", base, &create},
        {Op::Read, "GET", item, &read},        {Op::Replace, "PUT", item, &replace},
        {Op::Patch, "PATCH", item, &patch},    {Op::Delete, "DELETE", item, &remove},
    };
    // A method left out is not routed: the router answers 405 with Allow
    // (or 404 when no method of the path remains), as for any route.
    std::vector<ResourceRoute> routes;
    for (const auto& r : all)
        if (spec.serves(r.op))
            routes.push_back({r.method, r.path, r.handler, model.name + "." + std::string(config::ResourceSpec::op_name(r.op))});
    return routes;
}

}  // namespace trellis::app
