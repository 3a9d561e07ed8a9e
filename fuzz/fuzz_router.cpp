// libFuzzer: route templates and request paths. Lines before an empty line
// are "METHOD template" routes to add (malformed ones must be refused with
// RouteError, nothing else); the lines after are "METHOD path" to match.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "app/router.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    trellis::app::Router router;
    bool adding = true;
    std::uint32_t target = 0;
    while (!text.empty()) {
        const auto nl = text.find('\n');
        const std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
        if (line.empty()) {
            adding = false;
            continue;
        }
        const auto space = line.find(' ');
        const std::string method(line.substr(0, space == std::string_view::npos ? 0 : space));
        const std::string_view rest = space == std::string_view::npos ? line : line.substr(space + 1);
        if (adding) {
            if (target >= 16) continue;
            try {
                router.add(method.empty() ? "GET" : method, std::string(rest), target++);
            } catch (const trellis::app::RouteError&) {
            }
        } else {
            const auto m = router.match(method.empty() ? "GET" : method, rest);
            if (m.kind == trellis::app::RouteMatch::Kind::Found && m.target >= target) __builtin_trap();
        }
    }
    return 0;
}
