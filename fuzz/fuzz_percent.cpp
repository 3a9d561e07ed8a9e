// libFuzzer: percent-decoding, and encoding a segment back (it must decode
// to the same bytes).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "app/router.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    for (bool plus : {false, true}) {
        std::string out;
        if (trellis::app::percent_decode(text, out, plus) && out.size() > text.size()) __builtin_trap();
    }
    const std::string encoded = trellis::app::percent_encode_segment(text);
    std::string back;
    if (!trellis::app::percent_decode(encoded, back, false) || back != text) __builtin_trap();
    return 0;
}
