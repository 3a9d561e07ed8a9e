#include "http/problem.hpp"

#include <nlohmann/json.hpp>
#include <pistache/http_defs.h>

namespace trellis::http {

std::string_view reason_phrase(int status) noexcept {
    const char* text = Pistache::Http::codeString(static_cast<Pistache::Http::Code>(status));
    return text && *text ? std::string_view(text) : std::string_view("Error");
}

std::string problem_json(int status, std::string_view detail, std::string_view instance, std::string_view errors_json) {
    nlohmann::ordered_json body = {
        {"type", "about:blank"},
        {"title", reason_phrase(status)},
        {"status", status},
    };
    if (!detail.empty()) body["detail"] = detail;
    if (!instance.empty()) body["instance"] = instance;
    if (!errors_json.empty()) body["errors"] = nlohmann::ordered_json::parse(errors_json, nullptr, false);
    // Request paths may hold invalid UTF-8: replace rather than throw.
    return body.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace trellis::http
