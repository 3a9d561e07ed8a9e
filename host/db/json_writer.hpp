// Appends JSON values to a string, for answers the host writes straight
// from database rows (no document tree in between: on a point read that
// tree cost more than the query). Strings come out byte for byte as
// nlohmann::json's dump(-1, ' ', false, error_handler_t::replace) writes
// them, so every JSON answer of the host reads alike; numbers read back as
// the same value.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace trellis::db {

// A JSON string: quotes, backslashes and control characters escaped
// (\b \f \n \r \t, else \u00XX); other characters as they are, in UTF-8.
// Invalid UTF-8 becomes U+FFFD, one per maximal invalid subsequence (the
// Unicode recommendation, and nlohmann's `replace`).
void append_json_string(std::string& out, std::string_view text);

void append_json_integer(std::string& out, std::int64_t value);

// The shortest text that reads back as `value`, with ".0" when it would
// read as an integer ("3.0", "1e+20", "0.1"); null when it is not finite.
void append_json_real(std::string& out, double value);

}  // namespace trellis::db
