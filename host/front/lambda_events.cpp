#include "front/lambda_events.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "app/problem.hpp"
#include "app/request_id.hpp"
#include "base/base64.hpp"
#include "base/text.hpp"
#include "base/utf8.hpp"

namespace trellis::front {

namespace {

using Json = nlohmann::ordered_json;  // the order of the event (and of the answer's headers) as it came

constexpr std::string_view kExpected =
    "expected an HTTP event: payload format 2.0 (API Gateway HTTP API, Lambda function URL: "
    "\"version\": \"2.0\", rawPath, requestContext.http.method) or payload format 1.0 (API Gateway REST API, "
    "Application Load Balancer: httpMethod, path)";

// The member `key` of an object, or null when it is absent or JSON null
// (API Gateway sends null for "none", e.g. "queryStringParameters": null).
const Json* member(const Json& object, const char* key) {
    const auto it = object.find(key);
    if (it == object.end() || it->is_null()) return nullptr;
    return &*it;
}

// Reads the fields of one format; the first problem wins.
struct Reader {
    std::string_view format;  // "payload format 2.0", for messages
    std::string error;

    bool fail(const std::string& what) {
        if (error.empty()) error = std::string(format) + ": " + what;
        return false;
    }
    // An optional string member into `out` (left alone when absent).
    bool string(const Json& object, const char* key, std::string& out, std::string_view where) {
        const Json* value = member(object, key);
        if (!value) return true;
        if (!value->is_string()) return fail(std::string(where) + key + " is not a string");
        out = value->get<std::string>();
        return true;
    }
    bool required_string(const Json& object, const char* key, std::string& out, std::string_view where) {
        if (!member(object, key)) return fail(std::string(where) + key + " is missing");
        return string(object, key, out, where);
    }
    // {"name": "value", ...}; each pair handed to `add`.
    template <class Add>
    bool string_map(const Json& object, const char* key, Add add) {
        const Json* map = member(object, key);
        if (!map) return true;
        if (!map->is_object()) return fail(std::string(key) + " is not an object");
        for (const auto& [name, value] : map->items()) {
            if (!value.is_string()) return fail(std::string(key) + "." + name + " is not a string");
            add(name, value.template get_ref<const std::string&>());
        }
        return true;
    }
    // {"name": ["value", ...], ...}; each pair handed to `add`.
    template <class Add>
    bool string_list_map(const Json& object, const char* key, Add add) {
        const Json* map = member(object, key);
        if (!map) return true;
        if (!map->is_object()) return fail(std::string(key) + " is not an object");
        for (const auto& [name, values] : map->items()) {
            if (!values.is_array()) return fail(std::string(key) + "." + name + " is not a list");
            for (const auto& value : values) {
                if (!value.is_string()) return fail(std::string(key) + "." + name + " holds a value that is not a string");
                add(name, value.template get_ref<const std::string&>());
            }
        }
        return true;
    }
    bool body(const Json& event, std::string& out) {
        if (!string(event, "body", out, "")) return false;
        const Json* encoded = member(event, "isBase64Encoded");
        if (encoded && !encoded->is_boolean()) return fail("isBase64Encoded is not a boolean");
        if (encoded && encoded->get<bool>()) {
            auto bytes = base64_decode(out);
            if (!bytes) return fail("isBase64Encoded is true but the body is not base64");
            out = std::move(*bytes);
        }
        return true;
    }
};

// RFC 3986's unreserved characters stay, everything else is %XX: API
// Gateway's REST events carry decoded query values, and app::Request's
// query is the text as sent.
void append_percent_encoded(std::string& out, std::string_view text) {
    static constexpr char hex[] = "0123456789ABCDEF";
    for (const char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
            c == '_' || c == '~') {
            out += c;
        } else {
            out += '%';
            out += hex[u >> 4];
            out += hex[u & 15];
        }
    }
}

void append_query_pair(std::string& query, std::string_view name, std::string_view value, bool encode) {
    if (!query.empty()) query += '&';
    if (encode) {
        append_percent_encoded(query, name);
        query += '=';
        append_percent_encoded(query, value);
    } else {
        query.append(name);
        query += '=';
        query.append(value);
    }
}

bool read_v2(const Json& event, LambdaHttpEvent& out, Reader& reader) {
    out.payload = LambdaPayload::V2;
    const Json& context = event.at("requestContext");
    const Json& http = context.at("http");
    if (!reader.required_string(http, "method", out.method, "requestContext.http.")) return false;
    if (!reader.required_string(event, "rawPath", out.path, "")) return false;
    if (!reader.string(event, "rawQueryString", out.query, "")) return false;
    if (!reader.string(http, "sourceIp", out.remote, "requestContext.http.")) return false;
    if (!reader.string(context, "requestId", out.context_request_id, "requestContext.")) return false;
    if (!reader.string_map(event, "headers", [&](const std::string& name, const std::string& value) {
            // The cookies array below is the request's Cookie header.
            if (!iequals(name, "cookie")) out.headers.emplace_back(name, value);
        }))
        return false;
    std::string cookie;
    if (const Json* cookies = member(event, "cookies")) {
        if (!cookies->is_array()) return reader.fail("cookies is not a list");
        for (const auto& c : *cookies) {
            if (!c.is_string()) return reader.fail("cookies holds a value that is not a string");
            if (!cookie.empty()) cookie += "; ";
            cookie += c.get_ref<const std::string&>();
        }
    } else if (const Json* headers = member(event, "headers"); headers && headers->is_object()) {
        // No cookies array: a Cookie header as sent, if any.
        for (const auto& [name, value] : headers->items())
            if (iequals(name, "cookie") && value.is_string()) cookie = value.get<std::string>();
    }
    if (!cookie.empty()) out.headers.emplace_back("cookie", std::move(cookie));
    return reader.body(event, out.body);
}

bool read_v1(const Json& event, LambdaHttpEvent& out, Reader& reader) {
    out.payload = LambdaPayload::V1;
    if (!reader.required_string(event, "httpMethod", out.method, "")) return false;
    if (!reader.required_string(event, "path", out.path, "")) return false;
    const Json* context = member(event, "requestContext");
    if (context && !context->is_object()) return reader.fail("requestContext is not an object");
    out.load_balancer = context && member(*context, "elb");
    if (context) {
        if (!reader.string(*context, "requestId", out.context_request_id, "requestContext.")) return false;
        if (const Json* identity = member(*context, "identity"); identity && identity->is_object())
            if (!reader.string(*identity, "sourceIp", out.remote, "requestContext.identity.")) return false;
    }
    // API Gateway sends both forms (multiValue* has every value); a load
    // balancer sends the one its target group is configured for.
    const auto add_header = [&](const std::string& name, const std::string& value) {
        out.headers.emplace_back(name, value);
    };
    out.multi_value_headers = member(event, "multiValueHeaders") != nullptr;
    if (out.multi_value_headers) {
        if (!reader.string_list_map(event, "multiValueHeaders", add_header)) return false;
    } else if (!reader.string_map(event, "headers", add_header)) {
        return false;
    }
    // API Gateway decodes query values, a load balancer passes them as sent.
    const bool encode = !out.load_balancer;
    const auto add_query = [&](const std::string& name, const std::string& value) {
        append_query_pair(out.query, name, value, encode);
    };
    if (member(event, "multiValueQueryStringParameters")) {
        if (!reader.string_list_map(event, "multiValueQueryStringParameters", add_query)) return false;
    } else if (!reader.string_map(event, "queryStringParameters", add_query)) {
        return false;
    }
    if (out.remote.empty())  // a load balancer names the client in X-Forwarded-For only
        for (const auto& [name, value] : out.headers)
            if (iequals(name, "x-forwarded-for")) out.remote = trim_ows(std::string_view(value).substr(0, value.find(',')));
    return reader.body(event, out.body);
}

// The request's views, once every string they point into is in place.
void point_request(LambdaHttpEvent& out) {
    out.target = out.query.empty() ? out.path : out.path + "?" + out.query;
    auto& r = out.request;
    r.method = out.method;
    r.target = out.target;
    r.path = out.path;
    r.query = out.query;
    r.version_minor = 1;
    r.headers.clear();
    r.headers.reserve(out.headers.size());
    for (const auto& [name, value] : out.headers) r.headers.emplace_back(name, trim_ows(value));
    r.body = out.body;
    r.remote = out.remote;
    r.keep_alive = true;
}

// "Name: a" and "name: b" become one entry "a, b" (RFC 9110 5.3), the
// first spelling kept; Set-Cookie never (its values may hold commas).
void add_joined(Json& headers, const std::string& name, std::string_view value) {
    for (auto& [key, existing] : headers.items())
        if (iequals(key, name)) {
            existing = existing.get<std::string>() + ", " + std::string(value);
            return;
        }
    headers[name] = std::string(value);
}

void add_multi(Json& headers, const std::string& name, std::string_view value) {
    for (auto& [key, existing] : headers.items())
        if (iequals(key, name)) {
            existing.push_back(std::string(value));
            return;
        }
    headers[name] = Json::array({std::string(value)});
}

}  // namespace

std::string parse_lambda_event(std::string_view event_json, LambdaHttpEvent& out) {
    const Json event = Json::parse(event_json, nullptr, false);
    if (event.is_discarded()) return "the event is not JSON; " + std::string(kExpected);
    if (!event.is_object()) return "the event is not a JSON object; " + std::string(kExpected);
    const Json* version = member(event, "version");
    const Json* context = member(event, "requestContext");
    const bool v2 = version && *version == "2.0" && context && context->is_object() &&
                    member(*context, "http") && context->at("http").is_object();
    const bool v1 = !v2 && member(event, "httpMethod");
    if (!v2 && !v1) {
        std::string keys;
        for (const auto& [key, value] : event.items()) {
            if (keys.size() > 200) {
                keys += ", ...";
                break;
            }
            keys += keys.empty() ? key : ", " + key;
        }
        return "not an HTTP event (its keys: " + (keys.empty() ? std::string("none") : keys) + "); " +
               std::string(kExpected);
    }
    Reader reader{v2 ? "payload format 2.0" : "payload format 1.0", {}};
    if (!(v2 ? read_v2(event, out, reader) : read_v1(event, out, reader))) return reader.error;
    // What the HTTP codec refuses on a socket is refused here too, so that
    // no plugin sees a request a client could not have sent.
    const std::string format = v2 ? "payload format 2.0" : "payload format 1.0";
    for (const auto& [name, value] : out.headers) {
        if (!is_token(name)) return format + ": header name '" + name + "' is not an HTTP token";
        if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos)
            return format + ": header '" + name + "' holds CR, LF or NUL";
    }
    if (out.method.empty() || !is_token(out.method))
        return format + ": the method '" + out.method + "' is not an HTTP token";
    // A request target has no control characters, spaces or DEL (RFC 9112 3.2).
    const auto target_byte = [](unsigned char c) { return c > 0x20 && c != 0x7f; };
    if (out.path.empty() || out.path.front() != '/' ||
        !std::all_of(out.path.begin(), out.path.end(), target_byte))
        return format + ": the path must start with '/' and hold no spaces or control characters";
    if (!std::all_of(out.query.begin(), out.query.end(), target_byte))
        return format + ": the query string holds spaces or control characters";
    point_request(out);
    return {};
}

std::string lambda_request_id(const app::Request& request, std::string_view invocation_id) {
    if (const auto given = request.header("X-Request-Id"); given && app::is_sane_request_id(*given))
        return std::string(*given);
    if (app::is_sane_request_id(invocation_id)) return std::string(invocation_id);
    return app::request_id_for(request);
}

std::string lambda_answer_json(const app::Response& response, const LambdaHttpEvent& event,
                               std::string_view request_id) {
    const bool v2 = event.payload == LambdaPayload::V2;
    const bool multi = !v2 && event.multi_value_headers;
    Json answer;
    answer["statusCode"] = response.status;
    if (event.load_balancer)
        answer["statusDescription"] = std::to_string(response.status) + " " + std::string(app::reason_phrase(response.status));
    Json headers = Json::object();
    Json cookies = Json::array();
    const auto add = [&](const std::string& name, std::string_view value) {
        if (multi) {
            add_multi(headers, name, value);
        } else if (v2 && iequals(name, "Set-Cookie")) {
            cookies.push_back(std::string(value));
        } else if (iequals(name, "Set-Cookie")) {
            headers[name] = std::string(value);  // one value only in this form: the last one set
        } else {
            add_joined(headers, name, value);
        }
    };
    if (const auto type = response.effective_content_type(); !type.empty()) add("Content-Type", type);
    for (const auto& [name, value] : response.headers) add(name, value);
    add("X-Request-Id", request_id);
    answer[multi ? "multiValueHeaders" : "headers"] = std::move(headers);
    if (v2 && !cookies.empty()) answer["cookies"] = std::move(cookies);
    const bool bodiless = event.request.method == "HEAD" || response.status == 204 || response.status == 304;
    const std::string_view body = bodiless ? std::string_view() : std::string_view(response.body);
    if (is_valid_utf8(body)) {
        answer["body"] = body;
        answer["isBase64Encoded"] = false;
    } else {
        answer["body"] = base64_encode(body);
        answer["isBase64Encoded"] = true;
    }
    // A header value need not be UTF-8 (the host API refuses only CR, LF and NUL): replaced, never thrown on.
    return answer.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace trellis::front
