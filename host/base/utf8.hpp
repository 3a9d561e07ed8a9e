// UTF-8 well-formedness, for text that must be valid to travel as a JSON
// string (the Lambda front sends any other body as base64).
#pragma once

#include <string_view>

namespace trellis {

// Whether `bytes` is well-formed UTF-8 (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF).
bool is_valid_utf8(std::string_view bytes) noexcept;

}  // namespace trellis
