#include "http/listen_socket.hpp"

#include <dlfcn.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace {

struct Arming {
    bool armed = false;
    int inherited_fd = -1;
    int captured_fd = -1;
};
thread_local Arming arming;

using BindFn = int (*)(int, const sockaddr*, socklen_t);

BindFn real_bind() {
    static const BindFn fn = reinterpret_cast<BindFn>(::dlsym(RTLD_NEXT, "bind"));
    return fn;
}

}  // namespace

// Interposes libc's bind() for the whole process; passes through unless an
// AdoptListenSocket armed the calling thread (see listen_socket.hpp).
extern "C" int bind(int fd, const sockaddr* addr, socklen_t len) {
    if (arming.armed) {
        arming.armed = false;
        arming.captured_fd = fd;
        if (arming.inherited_fd >= 0) return ::dup2(arming.inherited_fd, fd) < 0 ? -1 : 0;
    }
    const BindFn next = real_bind();
    if (!next) {
        errno = ENOSYS;
        return -1;
    }
    return next(fd, addr, len);
}

namespace trellis::http {

int bind_listen_socket(const std::string& host, std::uint16_t port) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    addrinfo* found = nullptr;
    const std::string service = std::to_string(port);
    const std::string where = host + ":" + service;
    if (int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found); rc != 0)
        throw std::runtime_error("cannot listen on " + where + ": " + ::gai_strerror(rc));
    std::string why = "no address";
    int fd = -1;
    for (addrinfo* ai = found; ai && fd < 0; ai = ai->ai_next) {
        fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            why = std::strerror(errno);
            continue;
        }
        int one = 1;
        ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        ::setsockopt(fd, IPPROTO_TCP, 1 /* TCP_NODELAY */, &one, sizeof one);
        // The kernel caps the backlog at net.core.somaxconn.
        if (::bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || ::listen(fd, 4096) != 0) {
            why = std::strerror(errno);
            ::close(fd);
            fd = -1;
        }
    }
    ::freeaddrinfo(found);
    if (fd < 0) throw std::runtime_error("cannot listen on " + where + ": " + why);
    return fd;
}

std::uint16_t bound_port(int fd) {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return 0;
    if (addr.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
    if (addr.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
    return 0;
}

AdoptListenSocket::AdoptListenSocket(int inherited_fd) {
    arming = Arming{true, inherited_fd, -1};
}

AdoptListenSocket::~AdoptListenSocket() { arming.armed = false; }

int AdoptListenSocket::listener_fd() const noexcept { return arming.captured_fd; }

void stop_accepting(int listener_fd) {
    if (listener_fd < 0) return;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd", ec)) {
        std::error_code link_ec;
        const auto target = std::filesystem::read_symlink(entry.path(), link_ec);
        if (link_ec || target.string() != "anon_inode:[eventpoll]") continue;
        const int epfd = std::atoi(entry.path().filename().c_str());
        ::epoll_ctl(epfd, EPOLL_CTL_DEL, listener_fd, nullptr);  // ENOENT where it was not registered
    }
    const int placeholder = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (placeholder >= 0) {
        ::dup2(placeholder, listener_fd);
        ::close(placeholder);
    }
}

}  // namespace trellis::http
