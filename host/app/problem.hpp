// RFC 9457 problem details: the body of every error the host answers itself.
#pragma once

#include <string>
#include <string_view>

namespace trellis::app {

inline constexpr std::string_view kProblemContentType = "application/problem+json";

// The standard reason phrase for `status`, or "Error" for an unknown code.
std::string_view reason_phrase(int status) noexcept;

// {"type":"about:blank","title":...,"status":...,"detail":...,"instance":...}
// `detail` is shown to clients: never put internal text (exception messages) in it.
// `errors_json`, when not empty, is a JSON array added as the "errors"
// member (RFC 9457 extension), e.g. the invalid fields of a 422.
std::string problem_json(int status, std::string_view detail, std::string_view instance,
                         std::string_view errors_json = {});

}  // namespace trellis::app
