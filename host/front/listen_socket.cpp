#include "front/listen_socket.hpp"

#include <dlfcn.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <linux/filter.h>
#include <netinet/tcp.h>
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

namespace trellis::front {

ReusePortGroup::ReusePortGroup(std::string host, std::uint16_t port) : host_(std::move(host)), port_(port) {
    fds_.push_back(open_one());
    port_ = bound_port(fds_.front());
}

ReusePortGroup::~ReusePortGroup() { close_all(); }

int ReusePortGroup::open_one() {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    addrinfo* found = nullptr;
    const std::string service = std::to_string(port_);
    const std::string where = host_ + ":" + service;
    if (int rc = ::getaddrinfo(host_.c_str(), service.c_str(), &hints, &found); rc != 0)
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
        ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
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

int ReusePortGroup::socket(unsigned index) {
    if (fds_.empty()) throw std::runtime_error("the listening sockets of " + host_ + " are closed");
    while (fds_.size() <= index) fds_.push_back(open_one());
    return fds_[index];
}

void ReusePortGroup::steer(const std::vector<unsigned>& live) {
    if (fds_.empty()) return;
    // A = random; A %= live.size(); then one comparison per slot, each
    // returning its socket index. An index past the group's end (no live
    // slot) makes the kernel fall back to its hash.
    std::vector<sock_filter> code;
    if (live.empty()) {
        code.push_back(BPF_STMT(BPF_RET | BPF_K, 0xFFFFFFFFu));
    } else {
        code.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, static_cast<std::uint32_t>(SKF_AD_OFF + SKF_AD_RANDOM)));
        code.push_back(BPF_STMT(BPF_ALU | BPF_MOD | BPF_K, static_cast<std::uint32_t>(live.size())));
        for (std::size_t i = 0; i + 1 < live.size(); ++i) {
            code.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, static_cast<std::uint32_t>(i), 0, 1));
            code.push_back(BPF_STMT(BPF_RET | BPF_K, live[i]));
        }
        code.push_back(BPF_STMT(BPF_RET | BPF_K, live.back()));
    }
    sock_fprog program{static_cast<unsigned short>(code.size()), code.data()};
    if (::setsockopt(fds_.front(), SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &program, sizeof program) != 0)
        throw std::runtime_error(std::string("cannot steer connections between workers (SO_ATTACH_REUSEPORT_CBPF): ") +
                                 std::strerror(errno));
}

void ReusePortGroup::close_all() {
    for (int fd : fds_) ::close(fd);
    fds_.clear();
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

}  // namespace trellis::front
