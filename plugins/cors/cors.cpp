// The cors plugin: Cross-Origin Resource Sharing for the whole application.
//
// Two application-scope hooks (see cors.plugin.yaml), no routes:
//  - cors_preflight (before_request) answers preflight requests (OPTIONS with
//    Origin and Access-Control-Request-Method) for any path, routed or not:
//    204 with the Access-Control-Allow-* headers, or 403 when the origin, the
//    method or a requested header is not allowed.
//  - cors_response (after_request) adds Access-Control-Allow-Origin (and
//    Allow-Credentials, Expose-Headers) to every other response, errors
//    included, sent to an allowed origin; and `Vary: Origin` to every
//    response, since whether the CORS headers are present depends on Origin.
//
// Each instance parses and validates its settings once, in init, into a
// Policy it keeps as its state (ABI 1.2, TRELLIS_PLUGIN_STATE): a bad origin
// refuses the plugin at load instead of failing requests, and requests only
// read the policy, so the hooks are thread-safe without locks. A reload with
// new settings makes a new instance with a new policy.
#include <algorithm>
#include <cctype>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <trellis/plugin.hpp>

namespace {

using trellis::HttpError;
using trellis::Json;

bool iequals(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

std::string upper(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}

std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// RFC 9110 token: what a method or a header name may be made of.
bool is_token(std::string_view s) noexcept {
    if (s.empty()) return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
    });
}

// "scheme://host[:port]", what browsers send in Origin (no path, no slash).
bool is_origin(std::string_view s) noexcept {
    const auto sep = s.find("://");
    if (sep == std::string_view::npos || sep == 0) return false;
    const auto scheme = s.substr(0, sep);
    const auto authority = s.substr(sep + 3);
    if (authority.empty()) return false;
    const bool scheme_ok = std::all_of(scheme.begin(), scheme.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
    });
    const bool authority_ok = std::all_of(authority.begin(), authority.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("-._~:[]").find(c) != std::string_view::npos;
    });
    return scheme_ok && authority_ok;
}

// Splits a comma-separated header value ("a, b,c") into trimmed, non-empty items.
std::vector<std::string_view> split_list(std::string_view value) {
    std::vector<std::string_view> items;
    while (!value.empty()) {
        const auto comma = value.find(',');
        const auto item = trim(value.substr(0, comma));
        if (!item.empty()) items.push_back(item);
        if (comma == std::string_view::npos) break;
        value.remove_prefix(comma + 1);
    }
    return items;
}

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& item : items) {
        if (!out.empty()) out += ", ";
        out += item;
    }
    return out;
}

bool contains_ci(const std::vector<std::string>& items, std::string_view value) {
    return std::any_of(items.begin(), items.end(), [&](const std::string& item) { return iequals(item, value); });
}

// A list setting as strings. The host hands lists over as JSON and types
// YAML scalars (an unquoted 8080 arrives as a number): take their text.
std::vector<std::string> string_list(const trellis::Plugin& plugin, const std::string& name) {
    const Json value = plugin.setting<Json>(name, Json::array());
    if (!value.is_array()) throw std::runtime_error("setting '" + name + "' must be a list");
    std::vector<std::string> out;
    for (const auto& item : value) {
        if (item.is_string())
            out.push_back(item.get<std::string>());
        else if (item.is_number() || item.is_boolean())
            out.push_back(item.dump());
        else
            throw std::runtime_error("setting '" + name + "' must be a list of strings, not " + item.dump());
    }
    return out;
}

struct Policy {
    // Validates the settings (throws std::runtime_error: the plugin is
    // refused with the message) and says in the log what is allowed.
    explicit Policy(trellis::Plugin& plugin);

    std::vector<std::string> origins;  // exact origins ("*" removed)
    bool any_origin = false;
    std::vector<std::string> methods;  // upper case ("*" removed)
    bool any_method = false;
    std::vector<std::string> headers;  // as configured ("*" removed)
    bool any_header = false;
    std::vector<std::string> expose;
    bool credentials = false;
    long long max_age = 600;

    bool allows_origin(std::string_view origin) const {
        if (contains_ci(origins, origin)) return true;
        // "*" with credentials echoes the origin; never for the opaque
        // "null" origin (sandboxed frames, file:), which anyone can forge.
        return any_origin && !(credentials && origin == "null");
    }
    // The Access-Control-Allow-Origin value for an allowed origin.
    std::string allow_origin_value(std::string_view origin) const {
        if (any_origin && !credentials && !contains_ci(origins, origin)) return "*";
        return std::string(origin);
    }
    bool allows_method(std::string_view method) const { return any_method || contains_ci(methods, method); }
    bool allows_header(std::string_view header) const { return any_header || contains_ci(headers, header); }
};

// Builds and validates the policy from the plugin's settings. Throws
// std::runtime_error with a message for the operator.
Policy::Policy(trellis::Plugin& plugin) {
    Policy& p = *this;
    for (auto& origin : string_list(plugin, "origins")) {
        if (origin == "*") {
            p.any_origin = true;
        } else if (origin == "null" || is_origin(origin)) {
            p.origins.push_back(std::move(origin));
        } else {
            throw std::runtime_error("setting 'origins': '" + origin +
                                     "' is not an origin; write scheme://host[:port] without a path or "
                                     "trailing slash, or \"*\"");
        }
    }
    for (const auto& method : string_list(plugin, "methods")) {
        if (method == "*") {
            p.any_method = true;
        } else if (is_token(method)) {
            p.methods.push_back(upper(method));
        } else {
            throw std::runtime_error("setting 'methods': '" + method + "' is not an HTTP method");
        }
    }
    for (auto& header : string_list(plugin, "headers")) {
        if (header == "*") {
            p.any_header = true;
        } else if (is_token(header)) {
            p.headers.push_back(std::move(header));
        } else {
            throw std::runtime_error("setting 'headers': '" + header + "' is not a header name");
        }
    }
    for (auto& header : string_list(plugin, "expose_headers")) {
        if (!is_token(header))
            throw std::runtime_error("setting 'expose_headers': '" + header + "' is not a header name");
        p.expose.push_back(std::move(header));
    }
    p.credentials = plugin.setting<bool>("credentials", false);
    p.max_age = plugin.setting<long long>("max_age", 600);
    if (p.max_age < 0) throw std::runtime_error("setting 'max_age' must not be negative");
    if (origins.empty() && !any_origin) {
        plugin.warn("no origins configured: every cross-origin request is refused (set origins)");
        return;
    }
    std::string allowed = any_origin ? std::string("*") : std::string();
    if (!origins.empty()) allowed += (allowed.empty() ? "" : ", ") + join(origins);
    plugin.info("allowing origins " + allowed + (credentials ? " with credentials" : ""));
}

// Adds `token` to the response's Vary header unless it is already there.
void add_vary(trellis::Response& res, std::string_view token) {
    const auto existing = res.header("Vary");
    if (!existing) {
        res.header("Vary", token);
        return;
    }
    const auto items = split_list(*existing);
    for (auto item : items)
        if (item == "*" || iequals(item, token)) return;
    std::string merged(*existing);
    merged += ", ";
    merged += token;
    res.remove_header("Vary");
    res.header("Vary", merged);
}

bool is_preflight(const trellis::Request& req) {
    return req.method() == "OPTIONS" && req.header("Origin") && req.header("Access-Control-Request-Method");
}

}  // namespace

TRELLIS_PLUGIN_STATE(Policy);

// before_request, application scope: answers preflight requests itself.
TRELLIS_HANDLER(cors_preflight, trellis::Request& req, trellis::Response& res) {
    if (!is_preflight(req)) return;  // a plain OPTIONS (or any other) request goes on as usual
    const std::string origin(*req.header("Origin"));
    const std::string method(trim(*req.header("Access-Control-Request-Method")));
    const Policy& p = req.state<Policy>();

    if (!p.allows_origin(origin)) throw HttpError(403, "origin not allowed by the CORS policy");
    if (!p.allows_method(method)) throw HttpError(403, "method " + method + " not allowed by the CORS policy");
    std::vector<std::string> requested;
    if (const auto list = req.header("Access-Control-Request-Headers")) {
        for (auto name : split_list(*list)) {
            if (!p.allows_header(name))
                throw HttpError(403, "request header " + std::string(name) + " not allowed by the CORS policy");
            requested.emplace_back(name);
        }
    }

    res.status(204);
    res.header("Access-Control-Allow-Origin", p.allow_origin_value(origin));
    // With credentials, browsers take "*" literally: echo what was asked for.
    if (p.any_method)
        res.header("Access-Control-Allow-Methods", p.credentials ? upper(method) : std::string("*"));
    else
        res.header("Access-Control-Allow-Methods", join(p.methods));
    if (p.any_header) {
        if (!p.credentials) res.header("Access-Control-Allow-Headers", "*");
        else if (!requested.empty()) res.header("Access-Control-Allow-Headers", join(requested));
    } else if (!p.headers.empty()) {
        res.header("Access-Control-Allow-Headers", join(p.headers));
    }
    res.header("Access-Control-Max-Age", std::to_string(p.max_age));
    if (p.credentials) res.header("Access-Control-Allow-Credentials", "true");
    add_vary(res, "Origin");
    add_vary(res, "Access-Control-Request-Method");
    add_vary(res, "Access-Control-Request-Headers");
    res.done();
}

// after_request, application scope: CORS headers on actual responses.
TRELLIS_HANDLER(cors_response, trellis::Request& req, trellis::Response& res) {
    // Caches must not serve a response prepared for one origin to another
    // (or to a same-origin request): it varies on Origin whatever happens next.
    add_vary(res, "Origin");
    const auto origin = req.header("Origin");
    if (!origin || is_preflight(req)) return;  // preflights were answered (or refused) before
    if (res.header("Access-Control-Allow-Origin")) return;  // the handler set its own policy
    const Policy& p = req.state<Policy>();
    if (!p.allows_origin(*origin)) return;  // no headers: the browser withholds the response
    res.header("Access-Control-Allow-Origin", p.allow_origin_value(*origin));
    if (p.credentials) res.header("Access-Control-Allow-Credentials", "true");
    if (!p.expose.empty()) res.header("Access-Control-Expose-Headers", join(p.expose));
}
