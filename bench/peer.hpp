// What the bare Pistache benchmark peers share: keep-alive done the way
// trellis does it, JSON string escaping, argument parsing, and serving until
// SIGINT/SIGTERM. Kept to the minimum a hand-written server would have.
//
// Keep-alive: Pistache 0.0.5 answers an HTTP/1.1 request that carries no
// Connection header (what wrk and curl send) with "Connection: close" and then
// closes the socket. Trellis keeps connections alive by default, so for a fair
// peer each response to an HTTP/1.1 request carries "Connection: keep-alive"
// unless the client asked for "Connection: close" (RFC 9112 9.3).
#pragma once

#include <pistache/endpoint.h>
#include <pistache/http.h>
#include <pistache/router.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <string>

namespace peer {

using namespace Pistache;

// Sends `body` as JSON, replacing Pistache's "Connection: close" for HTTP/1.1
// clients that did not ask for it (Collection::add does not overwrite).
inline void send_json(const Rest::Request& request, Http::ResponseWriter& response, Http::Code code,
                      const std::string& body) {
    auto connection = request.headers().tryGet<Http::Header::Connection>();
    if (request.version() == Http::Version::Http11 &&
        (!connection || connection->control() != Http::ConnectionControl::Close)) {
        response.headers().remove<Http::Header::Connection>();
        response.headers().add<Http::Header::Connection>(Http::ConnectionControl::KeepAlive);
    }
    response.send(code, body, MIME(Application, Json));
}

// Appends a JSON string literal (quotes included); UTF-8 passes through.
inline void append_json_string(std::string& out, const std::string& in) {
    out += '"';
    for (char c : in) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (static_cast<unsigned char>(c) < 0x20) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
                out += buf;
            } else {
                out += c;
            }
        }
    }
    out += '"';
}

// An integer argument in [min, max]; exits with a message otherwise.
inline int parse_int(const char* program, const char* text, const char* what, int min, int max) {
    char* end = nullptr;
    long value = std::strtol(text, &end, 10);
    if (end == text || *end != '\0' || value < min || value > max) {
        std::fprintf(stderr, "%s: invalid %s '%s' (expected %d..%d)\n", program, what, text, min, max);
        std::exit(2);
    }
    return static_cast<int>(value);
}

// Serves `routes` on 127.0.0.1:port with `threads` threads, prints
// "listening on 127.0.0.1:<port>", and returns 0 after SIGINT/SIGTERM (1 on
// failure). Pistache installs no signal handlers: the stop signals are
// blocked in every thread (the serving threads inherit the mask) and waited
// for here.
inline int serve_until_signal(const char* program, int port, int threads,
                              const std::function<void(Rest::Router&)>& routes) {
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    if (pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr) != 0) {
        std::fprintf(stderr, "%s: cannot block signals\n", program);
        return 1;
    }
    try {
        Rest::Router router;
        routes(router);
        Http::Endpoint endpoint(Address(IP(127, 0, 0, 1), Port(static_cast<uint16_t>(port))));
        endpoint.init(Http::Endpoint::options().threads(threads).flags(Tcp::Options::ReuseAddr));
        endpoint.setHandler(router.handler());
        endpoint.serveThreaded();
        std::printf("listening on 127.0.0.1:%u\n", static_cast<unsigned>(static_cast<uint16_t>(endpoint.getPort())));
        std::fflush(stdout);
        int signal_number = 0;
        sigwait(&stop_signals, &signal_number);
        endpoint.shutdown();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s: %s\n", program, e.what());
        return 1;
    }
    return 0;
}

}  // namespace peer
