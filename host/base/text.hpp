// The host's text helpers, in one place: views across the ABI, and HTTP's
// case-insensitive tokens (header names, units, media types). ASCII only,
// by design: HTTP tokens are ASCII.
#pragma once

#include <algorithm>
#include <string_view>

#include <trellis/abi.h>

namespace trellis {

// trellis_str <-> std::string_view; a null pointer is the empty string.
constexpr std::string_view view(trellis_str s) noexcept { return {s.ptr ? s.ptr : "", s.len}; }
constexpr trellis_str str(std::string_view s) noexcept { return {s.data(), s.size()}; }

constexpr char ascii_lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

constexpr bool iequals(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return ascii_lower(x) == ascii_lower(y); });
}

constexpr bool icontains(std::string_view haystack, std::string_view needle) noexcept {
    return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(), [](char x, char y) {
               return ascii_lower(x) == ascii_lower(y);
           }) != haystack.end();
}

// Optional white space around header values (RFC 9110 5.6.3).
constexpr std::string_view trim_ows(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

constexpr bool is_token_char(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

constexpr bool is_token(std::string_view s) noexcept {
    return !s.empty() && std::all_of(s.begin(), s.end(), is_token_char);
}

// A media type as Content-Type carries it (RFC 9110 8.3.1):
// type "/" subtype *( OWS ";" OWS [ name "=" ( token / quoted-string ) ] ).
constexpr bool is_media_type(std::string_view s) noexcept {
    const auto semi = s.find(';');
    const std::string_view essence = trim_ows(s.substr(0, semi));
    const auto slash = essence.find('/');
    if (slash == std::string_view::npos || !is_token(essence.substr(0, slash)) || !is_token(essence.substr(slash + 1)))
        return false;
    std::string_view rest = semi == std::string_view::npos ? std::string_view() : s.substr(semi);
    while (!rest.empty()) {  // at a ';'
        rest = trim_ows(rest.substr(1));
        if (rest.empty() || rest.front() == ';') continue;
        const auto eq = rest.find('=');
        if (eq == std::string_view::npos || !is_token(rest.substr(0, eq))) return false;
        rest.remove_prefix(eq + 1);
        std::size_t end = 0;
        if (!rest.empty() && rest.front() == '"') {
            for (end = 1; end < rest.size() && rest[end] != '"'; ++end)
                if (rest[end] == '\\') ++end;
            if (end >= rest.size()) return false;  // unterminated
            ++end;
        } else {
            while (end < rest.size() && is_token_char(rest[end])) ++end;
            if (end == 0) return false;
        }
        rest = trim_ows(rest.substr(end));
        if (!rest.empty() && rest.front() != ';') return false;
    }
    return true;
}

}  // namespace trellis
