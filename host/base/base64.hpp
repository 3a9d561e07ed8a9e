// Base64 (RFC 4648 section 4, the standard alphabet, with '=' padding), for
// bodies that cross JSON as text: the Lambda front's events and answers.
// Written here rather than borrowed from Boost.Beast's detail namespace,
// which is not a public API.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace trellis {

std::string base64_encode(std::string_view bytes);

// The bytes, or nothing when `text` is not base64: a character outside the
// alphabet, a length that is not a multiple of 4 once padded, padding other
// than at the end, or non-zero bits left over in the last symbol. Missing
// padding is accepted (some encoders drop it); white space is not.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace trellis
