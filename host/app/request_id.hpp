// The id a request is known by in logs, in the X-Request-Id answer header
// and to plugins: the client's when it is sane (it ends up in logs and
// headers), else a fresh one.
#pragma once

#include <string>
#include <string_view>

#include "app/request.hpp"

namespace trellis::app {

// 1 to 128 characters of [A-Za-z0-9._:-].
bool is_sane_request_id(std::string_view id) noexcept;

// The request's X-Request-Id when sane, else a fresh id: 16 hex digits,
// unique in this process and not guessable in order. Thread-safe.
std::string request_id_for(const Request& request);

}  // namespace trellis::app
