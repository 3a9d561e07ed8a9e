// The host's direct JSON writer (host/db/json_writer.hpp) against
// nlohmann::json, which writes every other JSON answer of the host: strings
// must come out byte for byte the same, numbers must read back the same.
#include "db/json_writer.hpp"

#include <cmath>
#include <limits>
#include <random>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using trellis::db::append_json_integer;
using trellis::db::append_json_real;
using trellis::db::append_json_string;
using nlohmann::json;

namespace {

std::string written(std::string_view text) {
    std::string out = "prefix:";
    append_json_string(out, text);
    return out.substr(7);
}

std::string by_nlohmann(std::string_view text) {
    return json(std::string(text)).dump(-1, ' ', false, json::error_handler_t::replace);
}

TEST(JsonWriter, EscapesLikeNlohmann) {
    for (std::string_view text : {
             std::string_view(""), std::string_view("plain"), std::string_view("quote \" and backslash \\"),
             std::string_view("\b\f\n\r\t"), std::string_view("\x01\x1f\x7f", 3), std::string_view("nul \0 inside", 12),
             std::string_view("caf\xc3\xa9 \xe2\x98\x83 \xf0\x9f\x8c\xb3"),  // 2, 3 and 4 byte sequences
             std::string_view("/slash </script>"),
         }) {
        EXPECT_EQ(written(text), by_nlohmann(text)) << text;
    }
}

TEST(JsonWriter, ReplacesInvalidUtf8LikeNlohmann) {
    for (std::string_view text : {
             std::string_view("\x80"), std::string_view("a\xff" "b"), std::string_view("\xc3"),    // lone and truncated
             std::string_view("\xc0\xaf"), std::string_view("\xe0\x80\xaf"),                      // overlong
             std::string_view("\xed\xa0\x80"),                                                     // surrogate
             std::string_view("\xf4\x90\x80\x80"), std::string_view("\xf5\x80"),                   // above U+10FFFF
             std::string_view("\xe2\x98"), std::string_view("\xe2\x98x"), std::string_view("\xf0\x9f\x8c"),  // cut short
             std::string_view("ok \xe2\x98\x83 then \xe2 bad"),
         }) {
        EXPECT_EQ(written(text), by_nlohmann(text)) << json(std::string(text)).dump(-1, ' ', true, json::error_handler_t::replace);
    }
}

// Random bytes, biased towards the interesting ones: the writer and
// nlohmann agree on every string.
TEST(JsonWriter, AgreesWithNlohmannOnRandomBytes) {
    std::mt19937 random(20261124);
    const unsigned char interesting[] = {0x00, 0x1f, '"', '\\', 0x7f, 0x80, 0xbf, 0xc2, 0xdf, 0xe0, 0xed,
                                         0xef, 0xf0, 0xf4, 0xf5, 0xff, 0xa0, 0x9f, 0x90, 0x8f, 'a'};
    for (int round = 0; round < 20000; ++round) {
        std::string text(random() % 12, '\0');
        for (char& c : text)
            c = static_cast<char>(random() % 2 ? interesting[random() % sizeof interesting] : random() % 256);
        ASSERT_EQ(written(text), by_nlohmann(text)) << json(text).dump(-1, ' ', true, json::error_handler_t::replace);
    }
}

TEST(JsonWriter, IntegersAtTheLimits) {
    for (std::int64_t value : {std::int64_t{0}, std::int64_t{-1}, std::int64_t{42}, std::numeric_limits<std::int64_t>::max(),
                               std::numeric_limits<std::int64_t>::min()}) {
        std::string out;
        append_json_integer(out, value);
        EXPECT_EQ(out, json(value).dump());
    }
}

TEST(JsonWriter, RealsReadBackTheSameAndStayReals) {
    for (double value : {0.0, -0.0, 1.0, 3.0, 0.1, 1.5, -2.25, 1e20, 1e-7, 123456789.125, 1.0 / 3.0,
                         std::numeric_limits<double>::max(), std::numeric_limits<double>::min(),
                         std::numeric_limits<double>::denorm_min()}) {
        std::string out;
        append_json_real(out, value);
        const json parsed = json::parse(out);
        EXPECT_TRUE(parsed.is_number_float()) << out;
        EXPECT_EQ(parsed.get<double>(), value) << out;
        EXPECT_EQ(std::signbit(parsed.get<double>()), std::signbit(value)) << out;
    }
    for (double value : {std::nan(""), std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity()}) {
        std::string out;
        append_json_real(out, value);
        EXPECT_EQ(out, "null");
    }
}

}  // namespace
