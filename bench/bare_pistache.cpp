// The benchmark peer: the smallest honest bare Pistache 0.0.5 server that
// answers what trellis' hello plugin answers for GET /hello/{name}:
//
//   200, Content-Type: application/json, {"message":"Hello, <name>!"}
//
// Usage: bare_pistache PORT THREADS   (listens on 127.0.0.1; PORT 0 = any free
// port; the bound port is printed as "listening on 127.0.0.1:<port>").
//
// Keep-alive: Pistache 0.0.5 answers an HTTP/1.1 request that carries no
// Connection header (what wrk and curl send) with "Connection: close" and then
// closes the socket, so every request would pay for a new TCP connection.
// Trellis keeps connections alive by default, so for a fair peer each response
// here to an HTTP/1.1 request explicitly carries "Connection: keep-alive"
// unless the client itself asked for "Connection: close" (HTTP/1.1's default,
// RFC 9112 9.3). Nothing else is tuned.
#include <pistache/endpoint.h>
#include <pistache/http.h>
#include <pistache/router.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

namespace {

using namespace Pistache;

// HTTP/1.1 is persistent unless the client says "Connection: close"
// (RFC 9112 9.3). HTTP/1.0 clients are left to Pistache's own handling.
bool keep_alive_by_default(const Http::Request& request) {
    if (request.version() != Http::Version::Http11) return false;
    auto connection = request.headers().tryGet<Http::Header::Connection>();
    return !connection || connection->control() != Http::ConnectionControl::Close;
}

// Escapes the few characters that would break a JSON string. Names in the
// benchmark are plain ASCII; this only keeps odd inputs from producing
// invalid JSON.
std::string json_escape(const std::string& in) {
    std::string out;
    out.reserve(in.size());
    for (char c : in) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
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
    return out;
}

void hello_name(const Rest::Request& request, Http::ResponseWriter response) {
    const std::string name = request.param(":name").as<std::string>();
    std::string body = "{\"message\":\"Hello, " + json_escape(name) + "!\"}";
    if (keep_alive_by_default(request)) {
        // Pistache has already put "Connection: close" into the response
        // headers, and Collection::add does not overwrite: replace it.
        response.headers().remove<Http::Header::Connection>();
        response.headers().add<Http::Header::Connection>(Http::ConnectionControl::KeepAlive);
    }
    response.send(Http::Code::Ok, body, MIME(Application, Json));
}

int parse_int(const char* text, const char* what, int min, int max) {
    char* end = nullptr;
    long value = std::strtol(text, &end, 10);
    if (end == text || *end != '\0' || value < min || value > max) {
        std::fprintf(stderr, "bare_pistache: invalid %s '%s' (expected %d..%d)\n", what, text, min, max);
        std::exit(2);
    }
    return static_cast<int>(value);
}

} // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: %s PORT THREADS\n", argv[0]);
        return 2;
    }
    const int port = parse_int(argv[1], "port", 0, 65535);
    const int threads = parse_int(argv[2], "threads", 1, 256);

    // Pistache installs no signal handlers: block the stop signals in every
    // thread (the serving threads inherit this mask) and wait for them here.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    if (pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr) != 0) {
        std::fprintf(stderr, "bare_pistache: cannot block signals\n");
        return 1;
    }

    try {
        Rest::Router router;
        Rest::Routes::Get(router, "/hello/:name", Rest::Routes::bind(&hello_name));

        Http::Endpoint endpoint(Address(IP(127, 0, 0, 1), Port(static_cast<uint16_t>(port))));
        endpoint.init(Http::Endpoint::options()
                          .threads(threads)
                          .flags(Tcp::Options::ReuseAddr));
        endpoint.setHandler(router.handler());
        endpoint.serveThreaded();

        std::printf("listening on 127.0.0.1:%u\n", static_cast<unsigned>(static_cast<uint16_t>(endpoint.getPort())));
        std::fflush(stdout);

        int signal_number = 0;
        sigwait(&stop_signals, &signal_number);
        endpoint.shutdown();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bare_pistache: %s\n", e.what());
        return 1;
    }
    return 0;
}
