// The host side of the ABI: what the opaque handles are, and the function
// table handed to every plugin.
#pragma once

#include <chrono>
#include <cstdint>
#include <forward_list>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <trellis/abi.h>

#include "app/response.hpp"
#include "plugins/plugin_ctx.hpp"

namespace trellis::app {
struct Request;
struct Resource;
}
namespace trellis::db {
class Database;
struct CallDb;
}


// One request/response exchange, alive from the request's arrival until
// its teardown hooks ran. Hooks, the route handler and error handlers all
// see the same call; `plugin` is whichever plugin's code runs now.
struct trellis_call {
    trellis_call(const trellis::app::Request& request_, std::string_view method_, std::string_view path_,
                 std::string_view request_id_)
        : request(request_), method(method_), path(path_), request_id(request_id_) {}

    const trellis::app::Request& request;
    std::string_view method;
    std::string_view path;
    std::string_view request_id;
    std::string_view route;  // matched template; empty until (unless) a route matched
    const std::vector<std::pair<std::string, std::string>>* params = nullptr;
    const trellis::app::Resource* resource = nullptr;  // resource routes: the collection served
    trellis_plugin_ctx* plugin = nullptr;
    // ABI 1.3, request_deadline_ms: Unix time in ms by which the answer is
    // due, set by the front before the pipeline runs (serve's workers:
    // dispatch + server.worker_timeout; lambda: Lambda-Runtime-Deadline-Ms;
    // the test client: its Options::deadline); 0: none.
    std::int64_t deadline_ms = 0;

    trellis::app::Response response;  // the answer being built

    int fail_status = 0;     // set by fail(): the host answers through its error chain
    std::string fail_detail;
    std::string fail_errors; // host-built failures only: a JSON array for the problem's "errors" member
    std::vector<std::pair<std::string, std::string>> fail_headers;  // fail_header(): kept on the failure's answer

    int error_status = 0;    // while an error handler runs: the status it answers
    std::string error_detail;

    // Owns strings the host decoded or copied for views it handed out
    // (elements never move; unlike a deque, an empty list allocates nothing).
    std::forward_list<std::string> scratch;

    // The database, and what this request did with it (created on first use).
    struct CallDbDeleter {
        void operator()(trellis::db::CallDb* db) const noexcept;  // host_api.cpp: CallDb is complete there
    };
    trellis::db::Database* database = nullptr;
    std::unique_ptr<trellis::db::CallDb, CallDbDeleter> db;

    // Clears the response (status back to `new_status`), keeping nothing.
    void reset_response(int new_status) { response = trellis::app::Response{new_status, {}, {}, {}}; }
};

namespace trellis::app {

// The host API table, the same for every plugin.
const trellis_host_api* host_api() noexcept;

// The wall clock as request_deadline_ms counts: Unix time in milliseconds.
inline std::int64_t unix_ms_now() noexcept {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace trellis::app
