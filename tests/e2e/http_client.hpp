// A deliberately small HTTP/1.1 client over raw sockets: the tests need to
// send malformed requests, reuse connections and see exactly what came back.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace e2e {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Response {
    std::string version;  // "HTTP/1.1"
    int status = 0;
    std::string reason;
    Headers headers;      // in order received
    std::string body;     // de-chunked

    // First header with this name (case-insensitive).
    std::optional<std::string> header(std::string_view name) const;
    std::size_t header_count(std::string_view name) const;
    // Parses the body; throws with the body in the message if it is not JSON.
    nlohmann::json json() const;
    // Status line, headers and body, for assertion messages.
    std::string dump() const;
};

class Connection {
public:
    explicit Connection(int port);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    // Sends bytes as they are. Returns false if the peer closed/reset (the
    // server may answer and close before it read everything).
    bool send_raw(std::string_view bytes);
    // Reads one response. `head` means it answers a HEAD request (no body).
    // Throws std::runtime_error on timeout or on EOF before a full response.
    Response read_response(bool head = false, int timeout_ms = 5000);
    // Builds, sends and reads one request.
    Response request(std::string_view method, std::string_view target, const Headers& headers = {},
                     std::optional<std::string> body = std::nullopt);

    // true when the server closed the connection (EOF or reset) within
    // timeout_ms and sent nothing more.
    bool closed_by_peer(int timeout_ms = 2000);
    // true when bytes beyond the last response arrive within timeout_ms.
    bool has_extra_bytes(int timeout_ms);

    int port() const noexcept { return port_; }

private:
    // Reads more bytes into buf_; returns false on EOF/reset. Throws on timeout.
    bool fill(int timeout_ms);
    int fd_ = -1;
    int port_;
    std::string buf_;
};

// "METHOD target HTTP/1.1" with Host, the given headers, and Content-Length
// when a body is given.
std::string build_request(std::string_view method, std::string_view target, int port,
                          const Headers& headers = {}, const std::optional<std::string>& body = std::nullopt);

// One request on a fresh connection.
Response http(int port, std::string_view method, std::string_view target, const Headers& headers = {},
              std::optional<std::string> body = std::nullopt);
inline Response get(int port, std::string_view target, const Headers& headers = {}) {
    return http(port, "GET", target, headers);
}

}  // namespace e2e
