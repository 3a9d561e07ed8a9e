// The serving port as sockets that outlive any worker process.
//
// The supervisor holds a group of SO_REUSEPORT sockets on the serving
// address, one per worker slot; worker i of every generation accepts from
// socket i, inherited across exec. A worker that exits or drains closes only
// its own descriptor: the supervisor's copy keeps the socket, and the
// connections waiting in its accept queue, for the next worker of that
// slot. (Closing the last descriptor of one SO_REUSEPORT socket would reset
// its queue unless net.ipv4.tcp_migrate_req=1.) The kernel spreads new
// connections over the group; a classic BPF program the supervisor attaches
// to it sends them only to slots whose worker is serving, so a dead or
// draining worker gets none.
//
// Pistache 0.0.5 cannot adopt a socket (upstream #1248): its listener always
// calls socket() and bind() itself. So while an AdoptListenSocket is alive,
// the host's own definition of bind() (this file's .cpp; the executable's
// symbols come first in the dynamic linker's lookup) puts the inherited
// socket in place of the one Pistache just created, on the thread that
// armed it, once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace trellis::front {

// One SO_REUSEPORT group on host:port, held by the supervisor.
class ReusePortGroup {
public:
    // Binds the first socket (port 0: any free port, then kept for the
    // others). Throws std::runtime_error naming the address.
    ReusePortGroup(std::string host, std::uint16_t port);
    ~ReusePortGroup();
    ReusePortGroup(const ReusePortGroup&) = delete;
    ReusePortGroup& operator=(const ReusePortGroup&) = delete;

    // Socket `index`, created (with those before it) when first asked for.
    // Sockets are never closed before the group is: the kernel numbers a
    // group's sockets in the order they joined, and closing one renumbers
    // the last. Throws std::runtime_error.
    int socket(unsigned index);
    std::size_t size() const noexcept { return fds_.size(); }
    const std::string& host() const noexcept { return host_; }
    std::uint16_t port() const noexcept { return port_; }

    // From now on new connections go to the sockets in `live`, spread at
    // random; with none, the kernel's own hash over all of them. Throws
    // std::runtime_error when the kernel refuses the program.
    void steer(const std::vector<unsigned>& live);
    // Closes every socket (no new connections; queued ones are reset).
    void close_all();

private:
    int open_one();
    std::string host_;
    std::uint16_t port_;
    std::vector<int> fds_;
};

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

}  // namespace trellis::front
