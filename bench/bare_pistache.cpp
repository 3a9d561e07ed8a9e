// The benchmark peer: the smallest honest bare Pistache 0.0.5 server that
// answers what trellis' hello plugin answers for GET /hello/{name}:
//
//   200, Content-Type: application/json, {"message":"Hello, <name>!"}
//
// Usage: bare_pistache PORT THREADS   (listens on 127.0.0.1; PORT 0 = any free
// port; the bound port is printed as "listening on 127.0.0.1:<port>").
//
// Keep-alive as trellis does it (see peer.hpp); nothing else is tuned.
#include <string>

#include "peer.hpp"

namespace {

using namespace Pistache;

void hello_name(const Rest::Request& request, Http::ResponseWriter response) {
    std::string body = "{\"message\":";
    peer::append_json_string(body, "Hello, " + request.param(":name").as<std::string>() + "!");
    body += '}';
    peer::send_json(request, response, Http::Code::Ok, body);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: %s PORT THREADS\n", argv[0]);
        return 2;
    }
    const int port = peer::parse_int("bare_pistache", argv[1], "port", 0, 65535);
    const int threads = peer::parse_int("bare_pistache", argv[2], "threads", 1, 256);
    return peer::serve_until_signal("bare_pistache", port, threads, [](Rest::Router& router) {
        Rest::Routes::Get(router, "/hello/:name", Rest::Routes::bind(&hello_name));
    });
}
