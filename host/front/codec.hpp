// The HTTP/1.1 request decoder of one connection, on llhttp (Node.js'
// parser, built from Debian's node-llhttp sources in strict mode). Bytes go
// in as they arrive, split anywhere; complete requests come out one at a
// time, in order, so pipelined requests are answered in order, each once.
// It knows no sockets: the server feeds it, the fuzz target too.
//
// What it refuses, always with a status for a problem+json answer after
// which the connection must close (where the next request would start is
// unknown): a malformed request line, header or chunk (400), HTTP/0.9 (400)
// or HTTP/2+ (505) on this port, a missing or repeated Host on HTTP/1.1
// (400), obs-fold (400), Content-Length together with Transfer-Encoding or a
// Transfer-Encoding other than chunked (400; request smuggling), headers over
// the limit (431), a body over max_request_bytes, declared or chunked (413,
// before any of it is buffered).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "app/request.hpp"

namespace trellis::front {

// The codec produces the core's request value itself: no copy between them.
using app::Request;

struct CodecLimits {
    std::size_t max_body = 1024 * 1024;     // decoded body bytes
    std::size_t max_header_bytes = 64 * 1024;  // request line + header lines
    std::size_t max_headers = 100;
};

class RequestDecoder {
public:
    explicit RequestDecoder(CodecLimits limits);
    ~RequestDecoder();
    RequestDecoder(const RequestDecoder&) = delete;
    RequestDecoder& operator=(const RequestDecoder&) = delete;

    // Appends bytes received on the connection.
    void feed(std::string_view bytes);

    struct Event {
        enum class Kind {
            None,      // nothing complete yet: feed more
            Request,   // `request` is complete
            Continue,  // the client waits for "100 Continue" before sending the body
            Error,     // answer `status` with `detail`, then close
        } kind = Kind::None;
        Request* request = nullptr;  // Kind::Request: valid until the next call of next()
        int status = 0;
        std::string detail;
        std::string instance;  // the request's path when it was read
    };
    // The next thing that happened, parsing as far as needed. After an
    // Error, only Error again.
    Event next();

    // Where the connection stands, for timeouts: no bytes of a request yet,
    // inside the request line and headers, or inside the body.
    enum class Phase { Idle, Head, Body };
    Phase phase() const noexcept;

    struct Parser;  // llhttp state and callbacks (codec.cpp)

private:
    std::unique_ptr<Parser> parser_;
};

}  // namespace trellis::front
