// The HTTP front: Pistache is the transport; routing, dispatch through the
// ABI and every error answer are ours.
#pragma once

#include <cstdint>
#include <memory>

#include "app/snapshot.hpp"

namespace Pistache::Http {
class Endpoint;
}
namespace trellis::ops {
class WorkerSlotWriter;
}

namespace trellis::front {

// How a server is run: alone (defaults), or as a worker of a supervisor.
struct ServerOptions {
    int inherited_listener = -1;             // the supervisor's listening socket, adopted instead of binding
    ops::WorkerSlotWriter* slots = nullptr;  // where a worker counts requests and shows what it runs
};

class Server {
public:
    explicit Server(std::shared_ptr<const app::Snapshot> snapshot, ServerOptions options = {});
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Binds and starts the worker threads. Throws std::runtime_error naming
    // the address when the port cannot be bound.
    void start();
    // The bound port (the real one when the config says 0).
    std::uint16_t port() const;
    // Stops accepting connections (the socket stays open for the other
    // workers), answers each open connection's next request with
    // Connection: close, waits up to server.shutdown_grace until no request
    // is in flight and none has started for a moment, then closes every
    // connection.
    void stop();

    struct State;

private:
    std::shared_ptr<State> state_;
    ServerOptions options_;
    int listener_fd_ = -1;
    std::unique_ptr<Pistache::Http::Endpoint> endpoint_;
};

}  // namespace trellis::front
