// libFuzzer: the bytes of one connection through the HTTP/1.1 decoder, split
// between reads where the input says (its first byte picks the read size),
// pipelined requests included. Every event must be consistent.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "front/codec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::size_t step = 1 + data[0] % 64;
    std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
    trellis::front::CodecLimits limits;
    limits.max_body = 4096;
    limits.max_header_bytes = 8192;
    limits.max_headers = 32;
    trellis::front::RequestDecoder decoder(limits);
    std::size_t total = 0;
    while (!bytes.empty()) {
        const auto piece = bytes.substr(0, step);
        bytes.remove_prefix(piece.size());
        decoder.feed(piece);
        for (;;) {
            const auto event = decoder.next();
            using Kind = trellis::front::RequestDecoder::Event::Kind;
            if (event.kind == Kind::None) break;
            if (event.kind == Kind::Error) {
                if (event.status < 400 || event.status > 599 || event.detail.empty()) __builtin_trap();
                return 0;
            }
            if (event.kind == Kind::Request) {
                const auto& r = *event.request;
                if (r.body.size() > limits.max_body || r.path.empty()) __builtin_trap();
                total += r.method.size() + r.target.size() + r.query.size() + r.body.size();
                for (const auto& [name, value] : r.headers) total += name.size() + value.size();
                (void)r.query_pairs();
                (void)r.header("Host");
            }
        }
    }
    return total == static_cast<std::size_t>(-1);
}
