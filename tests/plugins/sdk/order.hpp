// Order markers for the hook tests: every hook and handler appends
// "<plugin>:<what>" to the response's X-Order header and logs the same
// marker (tagged with the request id), so a test can see which ran, in
// which order, even when the response was replaced by an error.
#pragma once

#include <string>
#include <string_view>

#include <trellis/plugin.hpp>

inline void append_order(trellis::Response& res, std::string_view marker) {
    std::string value;
    if (auto current = res.header("X-Order")) {
        value = std::string(*current) + ",";
        res.remove_header("X-Order");
    }
    value += marker;
    res.header("X-Order", value);
}

inline void log_order(const trellis::Request& req, std::string_view marker) {
    req.log(TRELLIS_LOG_INFO, "order " + std::string(marker) + " " + std::string(req.path()));
}

inline void mark(const trellis::Request& req, trellis::Response& res, std::string_view marker) {
    append_order(res, marker);
    log_order(req, marker);
}
