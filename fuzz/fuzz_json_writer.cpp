// libFuzzer: the JSON writer. Any bytes become a JSON string that nlohmann
// parses back and writes identically (its `replace` handling of invalid
// UTF-8); any 8 bytes as a double read back as the same value.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "db/json_writer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    std::string out;
    trellis::db::append_json_string(out, text);
    const auto parsed = nlohmann::json::parse(out, nullptr, false);
    if (parsed.is_discarded() || !parsed.is_string()) __builtin_trap();
    const std::string nlohmann_text =
        nlohmann::json(std::string(text)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    if (nlohmann_text != out) __builtin_trap();
    if (size >= 8) {
        double value;
        std::memcpy(&value, data, sizeof value);
        std::string number;
        trellis::db::append_json_real(number, value);
        const auto back = nlohmann::json::parse(number, nullptr, false);
        if (std::isfinite(value)) {
            if (!back.is_number() || back.get<double>() != value) __builtin_trap();
        } else if (!back.is_null()) {
            __builtin_trap();
        }
    }
    return 0;
}
