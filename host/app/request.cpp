#include "app/request.hpp"

#include "base/text.hpp"

namespace trellis::app {

std::optional<std::string_view> Request::header(std::string_view name) const noexcept {
    for (const auto& [key, value] : headers)
        if (iequals(key, name)) return std::string_view(value);
    return std::nullopt;
}

std::vector<std::pair<std::string_view, std::string_view>> Request::query_pairs() const {
    std::vector<std::pair<std::string_view, std::string_view>> pairs;
    std::string_view rest = query;
    while (!rest.empty()) {
        const auto amp = rest.find('&');
        const std::string_view item = rest.substr(0, amp);
        rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
        if (item.empty()) continue;
        const auto eq = item.find('=');
        pairs.emplace_back(item.substr(0, eq), eq == std::string_view::npos ? std::string_view() : item.substr(eq + 1));
    }
    return pairs;
}

}  // namespace trellis::app
