// One HTTP request as the host sees it: a plain value, filled by the codec
// (front/codec.*) and read by everything after it (pipeline, host API,
// resources, static files). Nothing of the transport is in it.
//
// The views point into storage owned by whoever produced the request (the
// codec keeps one per connection and reuses it, so a request costs no
// allocation once a connection has warmed up): valid until that producer
// makes the next request, which is after this one was answered.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace trellis::app {

struct Request {
    std::string_view method;  // "GET", as sent (methods are case-sensitive)
    std::string_view target;  // the request target as sent: origin-form, absolute-form or "*"
    std::string_view path;    // the target's path (from absolute-form too), not decoded
    std::string_view query;   // after '?', without it; not decoded
    int version_minor = 1;    // HTTP/1.<minor>
    std::vector<std::pair<std::string_view, std::string_view>> headers;  // in order; values without surrounding whitespace
    std::string_view body;    // decoded (chunked bodies de-chunked)
    std::string_view remote;  // peer address, for logs
    bool keep_alive = true;   // what the client asked for (RFC 9112 9.3)

    // The first header with this name (case-insensitive).
    std::optional<std::string_view> header(std::string_view name) const noexcept;

    // The query's name=value pairs, in order, not decoded ("a&b=" gives
    // {"a",""}, {"b",""}).
    std::vector<std::pair<std::string_view, std::string_view>> query_pairs() const;
};

}  // namespace trellis::app
