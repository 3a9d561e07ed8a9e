#include "db/json_writer.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <system_error>

namespace trellis::db {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD in UTF-8

// The length of the well-formed UTF-8 sequence at the start of `s`, or 0.
// With 0, `*valid_prefix` is how many bytes form the longest start of a
// well-formed sequence (at least 1): they are replaced as one.
std::size_t utf8_sequence(std::string_view s, std::size_t* valid_prefix) {
    const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
    const unsigned char lead = byte(0);
    std::size_t length = 0;
    unsigned char low = 0x80, high = 0xBF;  // the range of the second byte (Unicode table 3-7)
    if (lead >= 0xC2 && lead <= 0xDF) {
        length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        length = 3;
        if (lead == 0xE0) low = 0xA0;   // no overlong forms
        if (lead == 0xED) high = 0x9F;  // no surrogates
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        length = 4;
        if (lead == 0xF0) low = 0x90;   // no overlong forms
        if (lead == 0xF4) high = 0x8F;  // nothing above U+10FFFF
    } else {
        *valid_prefix = 1;
        return 0;
    }
    std::size_t i = 1;
    for (; i < length && i < s.size(); ++i) {
        const unsigned char c = byte(i);
        const bool ok = i == 1 ? c >= low && c <= high : c >= 0x80 && c <= 0xBF;
        if (!ok) break;
    }
    if (i == length) return length;
    *valid_prefix = i;
    return 0;
}

// Bytes that are copied as they are: printable ASCII but '"' and '\\'.
constexpr std::array<bool, 256> kPlain = [] {
    std::array<bool, 256> plain{};
    for (int c = 0x20; c < 0x80; ++c) plain[static_cast<std::size_t>(c)] = c != '"' && c != '\\';
    return plain;
}();

}  // namespace

void append_json_string(std::string& out, std::string_view text) {
    static constexpr char hex[] = "0123456789abcdef";
    out.reserve(out.size() + text.size() + 2);
    out += '"';
    std::size_t plain = 0;  // start of the run of bytes copied as they are
    const auto flush = [&](std::size_t end) { out.append(text.data() + plain, end - plain); };
    for (std::size_t i = 0; i < text.size();) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (kPlain[c]) {
            ++i;
            continue;
        }
        if (c >= 0x80) {
            std::size_t bad = 0;
            if (const std::size_t length = utf8_sequence(text.substr(i), &bad)) {
                i += length;
                continue;
            }
            flush(i);
            out += kReplacement;
            i += bad;
            plain = i;
            continue;
        }
        flush(i);
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\b': out += "\\b"; break;
            case '\f': out += "\\f"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                out += "\\u00";
                out += hex[c >> 4];
                out += hex[c & 0xF];
        }
        plain = ++i;
    }
    flush(text.size());
    out += '"';
}

void append_json_integer(std::string& out, std::int64_t value) {
    char buffer[24];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
    out.append(buffer, result.ptr);
}

void append_json_real(std::string& out, double value) {
    if (!std::isfinite(value)) {
        out += "null";
        return;
    }
    char buffer[32];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
    const std::string_view text(buffer, static_cast<std::size_t>(result.ptr - buffer));
    out += text;
    if (text.find_first_of(".e") == std::string_view::npos) out += ".0";
}

}  // namespace trellis::db
