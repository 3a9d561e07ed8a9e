// One HTTP request as the host sees it: a plain value, filled by the codec
// (http/codec.*) and read by everything after it (pipeline, host API,
// resources, static files). Nothing of the transport is in it.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace trellis::http {

struct Request {
    std::string method;  // "GET", as sent (methods are case-sensitive)
    std::string target;  // the request target as sent: origin-form, absolute-form or "*"
    std::string path;    // the target's path (from absolute-form too), not decoded
    std::string query;   // after '?', without it; not decoded
    int version_minor = 1;  // HTTP/1.<minor>
    std::vector<std::pair<std::string, std::string>> headers;  // in order; values without surrounding whitespace
    std::string body;      // decoded (chunked bodies de-chunked)
    std::string remote;    // peer address, for logs
    bool keep_alive = true;  // what the client asked for (RFC 9112 9.3)

    // The first header with this name (case-insensitive).
    std::optional<std::string_view> header(std::string_view name) const noexcept;

    // The query's name=value pairs, in order, not decoded ("a&b=" gives
    // {"a",""}, {"b",""}).
    std::vector<std::pair<std::string_view, std::string_view>> query_pairs() const;
};

}  // namespace trellis::http
