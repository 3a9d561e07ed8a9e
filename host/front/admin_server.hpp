// The supervisor's admin listener: a small HTTP server (Pistache, one
// thread) that asks the supervisor for each answer. It carries no plugin
// code and no routes but /livez, /readyz and /metrics, so it keeps
// answering while workers crash or reload.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace Pistache::Http {
class Endpoint;
}

namespace trellis::front {

struct AdminAnswer {
    int status = 200;
    std::string content_type;
    std::string body;
};

class AdminServer {
public:
    using Responder = std::function<AdminAnswer(std::string_view method, std::string_view path)>;

    AdminServer(std::string listen, std::uint16_t port, Responder responder);
    ~AdminServer();
    AdminServer(const AdminServer&) = delete;
    AdminServer& operator=(const AdminServer&) = delete;

    // Throws std::runtime_error naming the address when it cannot listen.
    void start();
    std::uint16_t port() const;
    void stop();

private:
    std::string listen_;
    std::uint16_t port_;
    Responder responder_;
    std::unique_ptr<Pistache::Http::Endpoint> endpoint_;
};

}  // namespace trellis::front
