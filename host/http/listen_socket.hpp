// The serving port as one socket that outlives any worker process.
//
// Like nginx and gunicorn, the supervisor binds the port once and every
// worker of every generation accepts from that one socket, inherited across
// exec. A worker that exits or drains closes only its own descriptor, so no
// connection waiting in the accept queue is ever reset (closing one of
// several SO_REUSEPORT sockets would reset its queue unless
// net.ipv4.tcp_migrate_req=1). Pistache 0.0.5 cannot adopt a socket
// (upstream #1248): its listener always calls socket() and bind() itself.
// So while an AdoptListenSocket is alive, the host's own definition of
// bind() (this file's .cpp; the executable's symbols come first in the
// dynamic linker's lookup) puts the inherited socket in place of the one
// Pistache just created, on the thread that armed it, once.
#pragma once

#include <cstdint>
#include <string>

namespace trellis::http {

// Binds and listens on host:port (SO_REUSEADDR, close-on-exec) and returns
// the descriptor. Throws std::runtime_error naming the address.
int bind_listen_socket(const std::string& host, std::uint16_t port);

// The port a listening socket is bound to.
std::uint16_t bound_port(int fd);

// For the lifetime of this object, the next bind() on the calling thread
// adopts `inherited_fd` (when >= 0) instead of binding; either way the
// descriptor that bind() was called with is recorded.
class AdoptListenSocket {
public:
    explicit AdoptListenSocket(int inherited_fd);
    ~AdoptListenSocket();
    AdoptListenSocket(const AdoptListenSocket&) = delete;
    AdoptListenSocket& operator=(const AdoptListenSocket&) = delete;

    // The listener's descriptor once bind() ran, else -1.
    int listener_fd() const noexcept;
};

// Stops this process accepting on `listener_fd` without closing the socket
// for others: removes it from every epoll set of the process (Pistache's
// accept loop among them) and puts /dev/null in its place, so that the
// descriptor number stays owned until Pistache closes it.
void stop_accepting(int listener_fd);

}  // namespace trellis::http
