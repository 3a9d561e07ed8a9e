#include "http/server.hpp"

#include <atomic>
#include <chrono>
#include <sstream>
#include <thread>

#include <sys/socket.h>

#include <pistache/endpoint.h>
#include <pistache/http.h>
#include <pistache/peer.h>
#include <spdlog/spdlog.h>

#include "http/problem.hpp"

namespace trellis::http {

using namespace Pistache;
using Clock = std::chrono::steady_clock;

// Headers take at most this much on top of max_request_bytes: Pistache's own
// limit covers headers plus body, ours covers the body alone.
constexpr std::size_t kHeaderAllowance = 64 * 1024;

struct Server::State {
    std::atomic<std::shared_ptr<const plugins::Snapshot>> snapshot;
    std::atomic<int> in_flight{0};
    std::atomic<bool> stopping{false};
};

namespace {

class InFlight {
public:
    explicit InFlight(std::atomic<int>& counter) : counter_(counter) { counter_.fetch_add(1, std::memory_order_relaxed); }
    ~InFlight() { counter_.fetch_sub(1, std::memory_order_release); }
    InFlight(const InFlight&) = delete;
    InFlight& operator=(const InFlight&) = delete;

private:
    std::atomic<int>& counter_;
};

// A response header with a name chosen at run time. Pistache 0.0.5 only
// writes typed headers (raw ones are dropped), so this carries any name.
// Content-Type, Content-Length and Connection never go through it: Pistache
// looks those up by type.
class NamedHeader final : public Http::Header::Header {
public:
    NamedHeader(std::string name, std::string value) : name_(std::move(name)), value_(std::move(value)) {}
    const char* name() const override { return name_.c_str(); }
    void write(std::ostream& os) const override { os << value_; }
    std::uint64_t hash() const override { return Http::Header::detail::hash(name_.c_str()); }

private:
    std::string name_, value_;
};

// One answer to one request: headers, then exactly one send.
class Reply {
public:
    Reply(Http::ResponseWriter& response, bool head) : response_(response), head_(head) {}

    void header(std::string name, std::string value) {
        response_.headers().add(std::make_shared<NamedHeader>(std::move(name), std::move(value)));
    }

    // Sends status, Content-Type and body. A HEAD answer carries the headers
    // of the GET answer (Content-Length included) and no body.
    void send(int status, std::string_view content_type, std::string_view body) {
        if (!content_type.empty())
            response_.setMime(Http::Mime::MediaType::fromString(std::string(content_type)));
        const bool close = closes_connection();
        auto peer = response_.peer();
        Async::Promise<ssize_t> sent = head_ ? send_head(status, body.size())
                                             : response_.send(static_cast<Http::Code>(status), body.data(), body.size());
        // Pistache 0.0.5 writes "Connection: close" but keeps the socket open:
        // shut it down once the answer is written.
        if (close && peer)
            sent.then([peer](ssize_t) { ::shutdown(peer->fd(), SHUT_RDWR); }, Async::IgnoreException);
    }

    void problem(int status, std::string_view detail, std::string_view instance) {
        send(status, kProblemContentType, problem_json(status, detail, instance));
    }

private:
    bool closes_connection() const {
        auto connection = response_.headers().tryGet<Http::Header::Connection>();
        return connection && connection->control() == Http::ConnectionControl::Close;
    }

    // Pistache always writes "Content-Length: <bytes sent>", which for HEAD
    // would be 0: write the response head ourselves instead.
    Async::Promise<ssize_t> send_head(int status, std::size_t content_length) {
        std::ostringstream out;
        out << "HTTP/1.1 " << status << ' ' << reason_phrase(status) << "\r\n";
        for (const auto& header : response_.headers().list()) {
            out << header->name() << ": ";
            header->write(out);
            out << "\r\n";
        }
        out << "Content-Length: " << content_length << "\r\n\r\n";
        std::string bytes = out.str();
        const auto size = bytes.size();
        if (auto peer = response_.peer()) return peer->send(Pistache::RawBuffer(std::move(bytes), size));
        return Async::Promise<ssize_t>::rejected(std::runtime_error("peer gone"));
    }

    Http::ResponseWriter& response_;
    bool head_;
};

class RequestHandler : public Http::Handler {
public:
    HTTP_PROTOTYPE(RequestHandler)

    explicit RequestHandler(std::shared_ptr<Server::State> state) : state_(std::move(state)) {}

    void onRequest(const Http::Request& request, Http::ResponseWriter response) override {
        InFlight guard(state_->in_flight);
        const auto started = Clock::now();
        keep_alive_by_default(request, response);

        const std::string& path = request.resource();
        const std::string_view method = Http::methodString(request.method());
        Reply reply(response, request.method() == Http::Method::Head);
        auto snapshot = state_->snapshot.load(std::memory_order_acquire);

        int status = 0;
        const plugins::RouteEntry* route = nullptr;
        if (request.body().size() > snapshot->server.max_request_bytes) {
            status = 413;
            reply.problem(status,
                         "the request body exceeds the limit of " +
                             std::to_string(snapshot->server.max_request_bytes) + " bytes",
                         path);
        } else {
            auto match = snapshot->router.match(method, path);
            switch (match.kind) {
                case RouteMatch::Kind::NotFound:
                    status = 404;
                    reply.problem(status, "no route matches this path", path);
                    break;
                case RouteMatch::Kind::MethodNotAllowed:
                    status = 405;
                    reply.header("Allow", match.allow);
                    reply.problem(status,
                                 std::string(method) + " is not allowed here; allowed: " + match.allow, path);
                    break;
                case RouteMatch::Kind::Found:
                    route = &snapshot->routes[match.target];
                    status = dispatch(*route, request, reply, method, path, match.params);
                    break;
            }
        }

        if (spdlog::should_log(spdlog::level::debug)) {
            const auto micros =
                std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started).count();
            spdlog::debug("{} {} -> {} ({}) {:.3f} ms", method, path, status,
                          route ? route->plugin->name() + "." + route->handler_symbol : std::string("host"),
                          micros / 1000.0);
        }
    }

private:
    // Pistache 0.0.5 answers an HTTP/1.1 request that has no Connection
    // header with "Connection: close"; HTTP/1.1 means keep-alive unless said
    // otherwise (RFC 9112 9.3). While stopping, connections are closed.
    void keep_alive_by_default(const Http::Request& request, Http::ResponseWriter& response) const {
        auto& headers = response.headers();
        if (state_->stopping.load(std::memory_order_relaxed)) {
            headers.remove<Http::Header::Connection>();
            headers.add<Http::Header::Connection>(Http::ConnectionControl::Close);
        } else if (request.version() == Http::Version::Http11 &&
                   !request.headers().has<Http::Header::Connection>()) {
            headers.remove<Http::Header::Connection>();
            headers.add<Http::Header::Connection>(Http::ConnectionControl::KeepAlive);
        }
    }

    // Runs the handler through the ABI and sends what it produced.
    int dispatch(const plugins::RouteEntry& route, const Http::Request& request, Reply& reply,
                 std::string_view method, const std::string& path,
                 const std::vector<std::pair<std::string, std::string>>& params) const {
        trellis_call call{request, method, path, params, &route.plugin->ctx};
        trellis_status rc = TRELLIS_ERROR;
        try {
            rc = route.handler(plugins::host_api(), &call);
        } catch (...) {
            // Only a plugin that bypasses the SDK can get here.
            spdlog::error("{} {}: handler {}.{} let an exception escape the ABI", method, path,
                          route.plugin->name(), route.handler_symbol);
            rc = TRELLIS_ERROR;
        }

        if (call.fail_status != 0) {
            reply.problem(call.fail_status, call.fail_detail, path);
            return call.fail_status;
        }
        if (rc != TRELLIS_OK) {
            spdlog::error("{} {}: handler {}.{} (route {}) failed; answered 500", method, path,
                          route.plugin->name(), route.handler_symbol, route.pattern);
            reply.problem(500, "the server failed to handle this request", path);
            return 500;
        }
        for (auto& [name, value] : call.headers) reply.header(std::move(name), std::move(value));
        const std::string_view content_type =
            call.content_type.empty() && !call.body.empty() ? std::string_view("text/plain; charset=utf-8")
                                                              : std::string_view(call.content_type);
        reply.send(call.status, content_type, call.body);
        return call.status;
    }

    std::shared_ptr<Server::State> state_;
};

}  // namespace

Server::Server(std::shared_ptr<const plugins::Snapshot> snapshot) : state_(std::make_shared<State>()) {
    state_->snapshot.store(std::move(snapshot));
}

Server::~Server() {
    if (endpoint_) endpoint_->shutdown();
}

void Server::start() {
    auto snapshot = state_->snapshot.load();
    const auto& cfg = snapshot->server;
    const unsigned threads = cfg.threads ? cfg.threads : std::max(1u, std::thread::hardware_concurrency());

    Address address(cfg.listen, Port(cfg.port));
    endpoint_ = std::make_unique<Http::Endpoint>(address);
    auto options = Http::Endpoint::options()
                       .threads(static_cast<int>(threads))
                       .flags(Tcp::Options::ReuseAddr | Tcp::Options::NoDelay)
                       .maxRequestSize(cfg.max_request_bytes + kHeaderAllowance)
                       .headerTimeout(cfg.header_timeout)
                       .bodyTimeout(cfg.body_timeout)
                       .keepaliveTimeout(cfg.keepalive_timeout);
    endpoint_->init(options);
    endpoint_->setHandler(std::make_shared<RequestHandler>(state_));
    try {
        endpoint_->serveThreaded();
    } catch (const std::exception& e) {
        endpoint_.reset();
        throw std::runtime_error("cannot listen on " + cfg.listen + ":" + std::to_string(cfg.port) + ": " + e.what());
    }
    spdlog::info("listening on http://{}:{} with {} threads", cfg.listen, port(), threads);
}

std::uint16_t Server::port() const { return endpoint_ ? static_cast<std::uint16_t>(endpoint_->getPort()) : 0; }

void Server::stop() {
    if (!endpoint_) return;
    state_->stopping.store(true);
    const auto grace = state_->snapshot.load()->server.shutdown_grace;
    const auto deadline = Clock::now() + grace;
    while (state_->in_flight.load(std::memory_order_acquire) > 0 && Clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (int left = state_->in_flight.load(); left > 0)
        spdlog::warn("{} requests still running after the {} ms grace period; closing anyway", left, grace.count());
    endpoint_->shutdown();
    endpoint_.reset();
}

}  // namespace trellis::http
