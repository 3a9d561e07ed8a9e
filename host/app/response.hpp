// One HTTP answer as the core produces it: a plain value that the front
// serializes onto a connection and the in-process test client hands to a
// test. Nothing of the transport is in it (no Date, no Connection, no
// Content-Length: the front adds those).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace trellis::app {

struct Response {
    int status = 200;
    std::vector<std::pair<std::string, std::string>> headers;  // in order; except Content-Type
    std::string content_type;                                  // empty: see effective_content_type()
    std::string body;

    // What Content-Type says: the handler's choice, else plain UTF-8 text
    // when there is a body, else nothing (empty).
    std::string_view effective_content_type() const noexcept {
        if (content_type.empty() && !body.empty()) return "text/plain; charset=utf-8";
        return content_type;
    }
};

}  // namespace trellis::app
