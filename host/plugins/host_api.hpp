// The host side of the ABI: what the opaque handles are, and the function
// table handed to every plugin.
#pragma once

#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <trellis/abi.h>

namespace Pistache::Http {
class Request;
}

// One loaded plugin instance, as plugins see it (opaque to them).
struct trellis_plugin_ctx {
    std::string name;
    std::string version;
    std::filesystem::path file;
    std::map<std::string, std::string, std::less<>> settings; // validated, defaults applied
};

// One request/response exchange, alive for the duration of one handler call.
struct trellis_call {
    trellis_call(const Pistache::Http::Request& request_, std::string_view method_, std::string_view path_,
                 const std::vector<std::pair<std::string, std::string>>& params_, trellis_plugin_ctx* plugin_)
        : request(request_), method(method_), path(path_), params(params_), plugin(plugin_) {}

    const Pistache::Http::Request& request;
    std::string_view method;
    std::string_view path;
    const std::vector<std::pair<std::string, std::string>>& params;
    trellis_plugin_ctx* plugin;

    int status = 200;
    std::vector<std::pair<std::string, std::string>> headers; // except Content-Type
    std::string content_type;  // empty: text/plain when there is a body
    std::string body;

    int fail_status = 0;     // set by fail(): the host answers through its error chain
    std::string fail_detail;

    // Owns strings the host decoded or copied for views it handed out.
    std::deque<std::string> scratch;
};

namespace trellis::plugins {

// The host API table (ABI 1.0 fields), the same for every plugin.
const trellis_host_api* host_api() noexcept;

}  // namespace trellis::plugins
