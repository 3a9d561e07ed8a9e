// The HTTP front: Pistache is the transport; routing, dispatch through the
// ABI and every error answer are ours.
#pragma once

#include <cstdint>
#include <memory>

#include "plugins/snapshot.hpp"

namespace Pistache::Http {
class Endpoint;
}

namespace trellis::http {

class Server {
public:
    explicit Server(std::shared_ptr<const plugins::Snapshot> snapshot);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Binds and starts the worker threads. Throws std::runtime_error naming
    // the address when the port cannot be bound.
    void start();
    // The bound port (the real one when the config says 0).
    std::uint16_t port() const;
    // Stops taking new work, waits up to server.shutdown_grace for requests
    // in flight to finish, then closes every connection.
    void stop();

    struct State;

private:
    std::shared_ptr<State> state_;
    std::unique_ptr<Pistache::Http::Endpoint> endpoint_;
};

}  // namespace trellis::http
