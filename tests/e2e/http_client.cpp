#include "http_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <strings.h>

namespace e2e {

namespace {
bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && ::strncasecmp(a.data(), b.data(), a.size()) == 0;
}
std::string trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return std::string(s);
}
}  // namespace

std::optional<std::string> Response::header(std::string_view name) const {
    for (const auto& [k, v] : headers)
        if (iequals(k, name)) return v;
    return std::nullopt;
}

std::size_t Response::header_count(std::string_view name) const {
    std::size_t n = 0;
    for (const auto& h : headers) n += iequals(h.first, name);
    return n;
}

nlohmann::json Response::json() const {
    auto j = nlohmann::json::parse(body, nullptr, false);
    if (j.is_discarded()) throw std::runtime_error("response body is not JSON:\n" + dump());
    return j;
}

std::string Response::dump() const {
    std::string s = version + " " + std::to_string(status) + " " + reason + "\n";
    for (const auto& [k, v] : headers) s += k + ": " + v + "\n";
    s += "\n" + body;
    return s;
}

Connection::Connection(int port) : port_(port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::runtime_error("socket failed");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        int err = errno;
        ::close(fd_);
        throw std::runtime_error("connect to 127.0.0.1:" + std::to_string(port) + ": " + std::strerror(err));
    }
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

Connection::~Connection() {
    if (fd_ >= 0) ::close(fd_);
}

bool Connection::send_raw(std::string_view bytes) {
    while (!bytes.empty()) {
        ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

bool Connection::fill(int timeout_ms) {
    pollfd p{fd_, POLLIN, 0};
    int r;
    do {
        r = ::poll(&p, 1, timeout_ms);
    } while (r < 0 && errno == EINTR);
    if (r == 0) throw std::runtime_error("timed out after " + std::to_string(timeout_ms) +
                                         " ms waiting for the response; received so far:\n" + buf_);
    char chunk[16384];
    ssize_t n;
    do {
        n = ::recv(fd_, chunk, sizeof chunk, 0);
    } while (n < 0 && errno == EINTR);
    if (n <= 0) return false;
    buf_.append(chunk, static_cast<std::size_t>(n));
    return true;
}

Response Connection::read_response(bool head, int timeout_ms) {
    std::size_t end;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
        if (!fill(timeout_ms))
            throw std::runtime_error("connection closed before a complete response header; received:\n" + buf_);
    }
    std::string head_text = buf_.substr(0, end);
    buf_.erase(0, end + 4);

    Response r;
    std::size_t line_end = head_text.find("\r\n");
    std::string status_line = head_text.substr(0, line_end);
    {
        auto sp1 = status_line.find(' ');
        if (sp1 == std::string::npos) throw std::runtime_error("malformed status line: " + status_line);
        r.version = status_line.substr(0, sp1);
        auto sp2 = status_line.find(' ', sp1 + 1);
        r.status = std::stoi(status_line.substr(sp1 + 1, sp2 == std::string::npos ? std::string::npos : sp2 - sp1 - 1));
        if (sp2 != std::string::npos) r.reason = status_line.substr(sp2 + 1);
    }
    std::size_t pos = line_end == std::string::npos ? head_text.size() : line_end + 2;
    while (pos < head_text.size()) {
        std::size_t next = head_text.find("\r\n", pos);
        if (next == std::string::npos) next = head_text.size();
        std::string_view line(head_text.data() + pos, next - pos);
        auto colon = line.find(':');
        if (colon != std::string_view::npos)
            r.headers.emplace_back(trim(line.substr(0, colon)), trim(line.substr(colon + 1)));
        pos = next + 2;
    }

    bool no_body = head || r.status / 100 == 1 || r.status == 204 || r.status == 304;
    if (no_body) return r;

    auto te = r.header("Transfer-Encoding");
    if (te && te->find("chunked") != std::string::npos) {
        while (true) {
            std::size_t le;
            while ((le = buf_.find("\r\n")) == std::string::npos)
                if (!fill(timeout_ms)) throw std::runtime_error("EOF inside chunked body");
            std::size_t size = std::stoul(buf_.substr(0, le), nullptr, 16);
            while (buf_.size() < le + 2 + size + 2)
                if (!fill(timeout_ms)) throw std::runtime_error("EOF inside chunked body");
            r.body.append(buf_, le + 2, size);
            buf_.erase(0, le + 2 + size + 2);
            if (size == 0) break;  // (trailers are not supported: none expected)
        }
        return r;
    }
    if (auto cl = r.header("Content-Length")) {
        std::size_t n = std::stoul(*cl);
        while (buf_.size() < n)
            if (!fill(timeout_ms))
                throw std::runtime_error("EOF after " + std::to_string(buf_.size()) + " of " + std::to_string(n) +
                                         " body bytes:\n" + r.dump() + buf_);
        r.body = buf_.substr(0, n);
        buf_.erase(0, n);
        return r;
    }
    // No length: the body runs until the server closes.
    while (fill(timeout_ms)) {
    }
    r.body = std::move(buf_);
    buf_.clear();
    return r;
}

Response Connection::request(std::string_view method, std::string_view target, const Headers& headers,
                             std::optional<std::string> body) {
    send_raw(build_request(method, target, port_, headers, body));
    return read_response(method == "HEAD");
}

bool Connection::closed_by_peer(int timeout_ms) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    try {
        while (true) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) return false;
            if (!fill(static_cast<int>(left.count()))) return true;  // EOF or reset
        }
    } catch (const std::runtime_error&) {
        return false;  // timed out: still open
    }
}

bool Connection::has_extra_bytes(int timeout_ms) {
    if (!buf_.empty()) return true;
    try {
        fill(timeout_ms);
    } catch (const std::runtime_error&) {
        return false;
    }
    return !buf_.empty();
}

std::string build_request(std::string_view method, std::string_view target, int port, const Headers& headers,
                          const std::optional<std::string>& body) {
    std::string s;
    s.append(method).append(" ").append(target).append(" HTTP/1.1\r\n");
    s += "Host: 127.0.0.1:" + std::to_string(port) + "\r\n";
    for (const auto& [k, v] : headers) s += k + ": " + v + "\r\n";
    if (body) s += "Content-Length: " + std::to_string(body->size()) + "\r\n";
    s += "\r\n";
    if (body) s += *body;
    return s;
}

Response http(int port, std::string_view method, std::string_view target, const Headers& headers,
              std::optional<std::string> body) {
    Connection c(port);
    return c.request(method, target, headers, std::move(body));
}

}  // namespace e2e
