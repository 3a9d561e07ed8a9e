// The front's server: Pistache as transport only. Per-connection state, the
// codec feeding, timeouts, the response bytes and their sending share the
// private Connection type and Pistache's handler lifetime; over 600 lines on
// purpose, so that no Pistache type leaves this file (docs/architecture.md,
// "The front's HTTP codec").
#include "front/server.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

#include <sys/socket.h>
#include <unistd.h>


#include <pistache/endpoint.h>
#include <pistache/http.h>
#include <pistache/peer.h>
#include <spdlog/spdlog.h>

#include "front/codec.hpp"
#include "front/listen_socket.hpp"
#include "app/pipeline.hpp"
#include "app/problem.hpp"
#include "app/request.hpp"
#include "app/request_id.hpp"
#include "base/text.hpp"
#include "ops/logging.hpp"
#include "ops/worker_slots.hpp"

namespace trellis::front {

using namespace Pistache;
using Clock = std::chrono::steady_clock;
using app::kProblemContentType;
using app::Pipeline;
using app::problem_json;
using app::reason_phrase;
using app::RoutedObserver;

// Pistache's own header/body/keep-alive timers watch its parser, which the
// host no longer feeds: they are set out of reach, and Connection deadlines
// (checked by Server::State's reaper) hold instead.
constexpr auto kPistacheTimersOff = std::chrono::hours(24 * 365);

// What the host keeps per connection: the decoder, and the deadline of the
// phase it is in (written by the connection's reactor thread, read by the
// reaper).
struct Connection {
    Connection(CodecLimits limits, std::weak_ptr<Tcp::Peer> peer_, std::string remote_)
        : decoder(limits), peer(std::move(peer_)), remote(std::move(remote_)) {}

    RequestDecoder decoder;
    std::weak_ptr<Tcp::Peer> peer;
    std::string remote;
    RequestDecoder::Phase phase = RequestDecoder::Phase::Idle;
    std::atomic<std::uint64_t> deadline_ns{0};  // 0: none
    std::atomic<int> deadline_phase{0};         // the Phase the deadline belongs to
    std::atomic<bool> closing{false};           // answered with Connection: close (or timed out)
    std::atomic<bool> lingering{false};         // half-closed after the last answer; reset at deadline_ns
    std::atomic<int> queued{0};                 // answers still in Pistache's write queue
    std::weak_ptr<Connection> self;
};

// Worker threads share nothing they write on every request: a value that
// two cores both update moves between their caches each time, and at tens
// of thousands of requests per second that cost more than the routing. So
// the snapshot is read through a per-thread copy and requests in flight are
// counted per thread.
struct Server::State {
    // Every snapshot ever published gets a generation unique in the process;
    // a thread's copy is current while its generation matches.
    void publish(std::shared_ptr<const app::Snapshot> next) {
        static std::atomic<std::uint64_t> generations{0};
        snapshot.store(std::move(next), std::memory_order_release);
        generation.store(generations.fetch_add(1) + 1, std::memory_order_release);
    }

    // The current snapshot, through the calling thread's copy. The reference
    // stays valid until this thread's next call (for a worker: its next
    // request).
    const app::Snapshot& current() const {
        struct Copy {
            std::uint64_t generation = 0;
            std::shared_ptr<const app::Snapshot> snapshot;
        };
        thread_local Copy copy;
        const auto now = generation.load(std::memory_order_acquire);
        if (copy.generation != now) {
            copy.snapshot = snapshot.load(std::memory_order_acquire);
            copy.generation = now;
        }
        return *copy.snapshot;
    }

    // Requests in flight, counted in per-thread shards (each on its own
    // cache line); only stop() adds them up.
    struct alignas(64) Shard {
        std::atomic<int> count{0};
        std::atomic<std::uint64_t> started{0};  // requests begun, for the drain's quiet check
    };
    static constexpr std::size_t kShards = 64;
    Shard& shard() {
        static std::atomic<std::size_t> threads{0};
        thread_local const std::size_t index = threads.fetch_add(1) % kShards;
        return in_flight[index];
    }
    int requests_in_flight() const {
        int total = 0;
        for (const auto& shard : in_flight) total += shard.count.load(std::memory_order_acquire);
        return total;
    }
    std::uint64_t requests_started() const {
        std::uint64_t total = 0;
        for (const auto& shard : in_flight) total += shard.started.load(std::memory_order_relaxed);
        return total;
    }

    // Open connections, for max_connections and the reaper (taken on
    // connect and disconnect only, never per request).
    std::mutex connections_mutex;
    std::unordered_map<const Tcp::Peer*, std::weak_ptr<Connection>> connections;
    std::atomic<std::size_t> refused_connections{0};

    std::atomic<std::shared_ptr<const app::Snapshot>> snapshot;
    std::atomic<std::uint64_t> generation{0};
    std::array<Shard, kShards> in_flight;
    std::atomic<bool> stopping{false};
    ops::WorkerSlotWriter* slots = nullptr;

    // The reaper: closes connections past their phase's deadline.
    std::thread reaper;
    std::mutex reaper_mutex;
    std::condition_variable reaper_wake;
    bool reaper_stop = false;
};

namespace {

class InFlight {
public:
    explicit InFlight(Server::State::Shard& shard) : shard_(shard) {
        shard_.count.fetch_add(1, std::memory_order_relaxed);
        shard_.started.fetch_add(1, std::memory_order_relaxed);
    }
    ~InFlight() { shard_.count.fetch_sub(1, std::memory_order_release); }
    InFlight(const InFlight&) = delete;
    InFlight& operator=(const InFlight&) = delete;

private:
    Server::State::Shard& shard_;
};

// What a worker's supervisor sees of one request: begun, routed, finished.
class SlotRecord {
public:
    SlotRecord(ops::WorkerSlotWriter* slots, const app::Snapshot& snapshot, std::string_view request_id,
               std::string_view method, std::string_view path)
        : slot_(slots ? &slots->slot() : nullptr), snapshot_(snapshot), method_(ops::method_index(method)) {
        if (slot_) ops::WorkerSlotWriter::begin(*slot_, request_id, method, path);
    }
    ~SlotRecord() {
        if (slot_) ops::WorkerSlotWriter::finish(*slot_, method_, status_, ops::monotonic_ns() - started_);
    }
    SlotRecord(const SlotRecord&) = delete;
    SlotRecord& operator=(const SlotRecord&) = delete;

    RoutedObserver observer() {
        if (!slot_) return {};
        return {[](void* self, const app::RouteEntry* route, const app::Mount* owner) {
                    static_cast<SlotRecord*>(self)->routed(route, owner);
                },
                this};
    }
    void set_status(int status) noexcept { status_ = status; }
    // The request's deadline (ABI 1.3, request_deadline_ms): a worker's
    // supervisor kills it once a request has run server.worker_timeout past
    // its dispatch (the slot's busy_since_ns, stored by begin()), so that is
    // when the answer is due; a lone process (workers: 0) has none.
    // Read right after begin(): a lone process reads no clock for it.
    std::int64_t deadline_ms(std::chrono::milliseconds worker_timeout) const noexcept {
        return slot_ ? app::unix_ms_now() + worker_timeout.count() : 0;
    }

private:
    void routed(const app::RouteEntry* route, const app::Mount* owner) const noexcept {
        const auto route_index = route ? static_cast<std::int32_t>(route - snapshot_.routes.data()) : -1;
        const auto mount_index = owner ? static_cast<std::int32_t>(owner - snapshot_.mounts.data()) : -1;
        ops::WorkerSlotWriter::routed(*slot_, route_index, mount_index);
    }

    ops::ThreadSlot* slot_;
    const app::Snapshot& snapshot_;
    std::uint32_t method_;
    int status_ = 500;
    std::uint64_t started_ = ops::monotonic_ns();
};

// "Date: Tue, 01 Dec 2026 22:12:41 GMT\r\n", formatted at most once a second per thread.
std::string_view date_line() {
    thread_local std::time_t last = 0;
    thread_local char line[64];
    thread_local std::size_t length = 0;
    const std::time_t now = std::time(nullptr);
    if (now != last) {
        std::tm tm{};
        ::gmtime_r(&now, &tm);
        length = std::strftime(line, sizeof line, "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
        last = now;
    }
    return {line, length};
}

// The bytes of one response: status line, headers and body in one buffer,
// handed to the transport in one write.
struct ResponseBytes {
    int status = 200;
    std::string_view content_type;
    const std::vector<std::pair<std::string, std::string>>* headers = nullptr;
    std::string_view request_id;
    std::string_view body;
    bool head = false;   // a HEAD answer: the GET answer's headers, no body
    bool close = false;

    bool has_header(std::string_view name) const {
        if (!headers) return false;
        for (const auto& [n, v] : *headers)
            if (iequals(n, name)) return true;
        return false;
    }

    // Into a buffer this thread reuses (the view is valid until its next call).
    std::string_view serialize(const config::ServerConfig& server) const {
        thread_local std::string out;
        out.clear();
        out.reserve(160 + body.size() + (headers ? headers->size() * 48 : 0));
        out += "HTTP/1.1 ";
        out += std::to_string(status);
        out += ' ';
        out += reason_phrase(status);
        out += "\r\n";
        if (server.date_header) out += date_line();
        if (!server.server_header.empty() && !has_header("Server")) {
            out += "Server: ";
            out += server.server_header;
            out += "\r\n";
        }
        if (!content_type.empty()) {
            out += "Content-Type: ";
            out += content_type;
            out += "\r\n";
        }
        if (headers)
            for (const auto& [name, value] : *headers) {
                out += name;
                out += ": ";
                out += value;
                out += "\r\n";
            }
        if (!request_id.empty()) {
            out += "X-Request-Id: ";
            out += request_id;
            out += "\r\n";
        }
        // RFC 9110 8.6: no Content-Length in 1xx and 204 answers, nor in 304
        // (it would have to be the length of the 200 that was not sent).
        if (status >= 200 && status != 204 && status != 304) {
            out += "Content-Length: ";
            out += std::to_string(body.size());
            out += "\r\n";
        }
        out += close ? "Connection: close\r\n\r\n" : "Connection: keep-alive\r\n\r\n";
        if (!head && status != 204 && status != 304) out += body;
        return out;
    }
};

// A closing connection is half-closed once its last answer is written: the
// client reads the answer and sees the end; what it still sends (the rest of
// a refused body) is read and dropped, for at most this long, instead of
// making the kernel reset the connection under the answer (a lingering
// close, as nginx does).
constexpr std::uint64_t kLingerNs = 2'000'000'000ULL;

void finish_writing(Connection* connection, int fd, bool close) {
    if (!close) return;
    if (!connection) {
        ::shutdown(fd, SHUT_RDWR);
        return;
    }
    connection->deadline_ns.store(ops::monotonic_ns() + kLingerNs, std::memory_order_relaxed);
    connection->lingering.store(true, std::memory_order_release);
    ::shutdown(fd, SHUT_WR);
}

// Sends bytes; with `close`, shuts the socket down once they are written.
// On the connection's own reactor thread with nothing queued before them,
// the bytes go straight to the socket: one send(2), no trip through
// Pistache's write queue (which costs an eventfd write and read and two
// epoll_ctl per answer). Whatever the kernel does not take at once, and
// anything sent from another thread, goes through the queue, in order.
void send_bytes(Connection* connection, const std::shared_ptr<Tcp::Peer>& peer, std::string_view bytes, bool close,
                bool on_reactor_thread) {
    const int fd = peer->fd();
    if (on_reactor_thread && connection && connection->queued == 0) {
        const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n == static_cast<ssize_t>(bytes.size())) {
            finish_writing(connection, fd, close);
            return;
        }
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
            ::shutdown(fd, SHUT_RDWR);  // the client is gone
            return;
        }
        if (n > 0) bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    if (connection) ++connection->queued;
    auto sent = peer->send(RawBuffer(std::string(bytes), bytes.size()));
    std::weak_ptr<Connection> weak;
    if (connection) weak = connection->self;
    const auto done = [weak, peer, close] {
        auto c = weak.lock();
        if (c) --c->queued;
        finish_writing(c.get(), peer->fd(), close);
    };
    sent.then([done](ssize_t) { done(); }, [done](std::exception_ptr) { done(); });
}

class RequestHandler : public Http::Handler {
public:
    HTTP_PROTOTYPE(RequestHandler)

    explicit RequestHandler(std::shared_ptr<Server::State> state) : state_(std::move(state)) {}

    // Pistache's parser is never fed (see onInput), but its transport's
    // timer looks each peer's parser up: it must exist.
    void onConnection(const std::shared_ptr<Tcp::Peer>& peer) override {
        peer->putData(Http::Handler::ParserData, std::make_shared<Http::RequestParser>(1));
        const auto& snapshot = state_->current();
        CodecLimits limits;
        limits.max_body = snapshot.server.max_request_bytes;
        auto connection = std::make_shared<Connection>(limits, peer, peer->address().host());
        connection->self = connection;
        peer->putData(kConnectionKey, connection);
        std::size_t open = 0;
        {
            std::lock_guard lock(state_->connections_mutex);
            state_->connections.emplace(peer.get(), connection);
            open = state_->connections.size();
        }
        if (open > snapshot.server.max_connections) {
            // Over the limit: answered and closed, and counted in the log
            // (once a second at most: a flood must not flood the log too).
            connection->closing = true;
            const auto refused = state_->refused_connections.fetch_add(1) + 1;
            static std::atomic<std::time_t> last_log{0};
            const std::time_t now = std::time(nullptr);
            if (last_log.exchange(now) != now)
                spdlog::warn("{} open connections, more than server.max_connections ({}): refusing new ones ({} so far)",
                             open - 1, snapshot.server.max_connections, refused);
            ResponseBytes r;
            r.status = 503;
            r.content_type = kProblemContentType;
            const std::string body = problem_json(503, "too many open connections; try again later", "");
            r.body = body;
            r.close = true;
            send_bytes(connection.get(), peer, r.serialize(snapshot.server), true, true);
            return;
        }
        arm(*connection, RequestDecoder::Phase::Idle, snapshot.server);
    }

    void onDisconnection(const std::shared_ptr<Tcp::Peer>& peer) override {
        std::lock_guard lock(state_->connections_mutex);
        state_->connections.erase(peer.get());
    }

    // The bytes of a connection, as they arrive: the codec splits them into
    // requests (pipelined ones too), each answered in order before the next
    // is parsed.
    void onInput(const char* buffer, std::size_t len, const std::shared_ptr<Tcp::Peer>& peer) override {
        auto connection = std::static_pointer_cast<Connection>(peer->tryGetData(kConnectionKey));
        if (!connection || connection->closing.load(std::memory_order_relaxed)) return;
        const app::Snapshot& snapshot = state_->current();
        connection->decoder.feed({buffer, len});
        for (;;) {
            auto event = connection->decoder.next();
            switch (event.kind) {
                case RequestDecoder::Event::Kind::None:
                    arm(*connection, connection->decoder.phase(), snapshot.server);
                    return;
                case RequestDecoder::Event::Kind::Continue:
                    send_bytes(connection.get(), peer, "HTTP/1.1 100 Continue\r\n\r\n", false, true);
                    arm(*connection, RequestDecoder::Phase::Body, snapshot.server);
                    continue;
                case RequestDecoder::Event::Kind::Error:
                    refuse(*connection, peer, snapshot, event.status, event.detail, event.instance);
                    return;
                case RequestDecoder::Event::Kind::Request:
                    event.request->remote = connection->remote;
                    // No deadline while the request is handled; the answer
                    // starts keepalive_timeout afresh (arm below).
                    connection->deadline_ns.store(0, std::memory_order_release);
                    respond(*connection, peer, snapshot, *event.request);
                    if (connection->closing.load(std::memory_order_relaxed)) return;
                    arm(*connection, RequestDecoder::Phase::Idle, snapshot.server);
                    continue;
            }
        }
    }

    // Never called: onInput answers every request itself.
    void onRequest(const Http::Request&, Http::ResponseWriter) override {}

    static constexpr const char* kConnectionKey = "trellis.connection";

private:
    // Sets the deadline of the phase the connection just entered (each phase
    // once: header_timeout covers the whole request head, not each read). A
    // cleared deadline (a request was being handled) is always set again.
    static void arm(Connection& c, RequestDecoder::Phase phase, const config::ServerConfig& server) {
        if (phase == c.phase && c.deadline_ns.load(std::memory_order_relaxed) != 0) return;
        c.phase = phase;
        std::chrono::milliseconds limit = server.keepalive_timeout;
        if (phase == RequestDecoder::Phase::Head) limit = server.header_timeout;
        if (phase == RequestDecoder::Phase::Body) limit = server.body_timeout;
        c.deadline_phase.store(static_cast<int>(phase), std::memory_order_relaxed);
        c.deadline_ns.store(ops::monotonic_ns() + static_cast<std::uint64_t>(limit.count()) * 1000000ULL,
                            std::memory_order_release);
    }

    void respond(Connection& connection, const std::shared_ptr<Tcp::Peer>& peer, const app::Snapshot& snapshot,
                 const Request& request) {
        InFlight guard(state_->shard());
        const auto started = Clock::now();
        const std::string request_id = app::request_id_for(request);
        SlotRecord record(state_->slots, snapshot, request_id, request.method, request.path);
        std::optional<Pipeline> pipeline;
        app::Response readiness;
        const app::Response* response = &readiness;
        if (!snapshot.server.readiness_path.empty() && request.path == snapshot.server.readiness_path) {
            answer_readiness(readiness, request.path);
        } else {
            pipeline.emplace(snapshot, request, request_id, record.observer());
            pipeline->set_deadline_ms(record.deadline_ms(snapshot.server.worker_timeout));
            response = &pipeline->respond();
        }
        record.set_status(response->status);

        const bool close = !request.keep_alive || state_->stopping.load(std::memory_order_relaxed);
        ResponseBytes r;
        r.status = response->status;
        r.content_type = response->effective_content_type();
        r.headers = &response->headers;
        r.request_id = request_id;
        r.body = response->body;
        r.head = request.method == "HEAD";
        r.close = close;
        if (close) connection.closing = true;
        send_bytes(&connection, peer, r.serialize(snapshot.server), close, true);

        if (pipeline) pipeline->teardown();
        if (snapshot.logging.access)
            access_log(snapshot, request, request_id, pipeline ? pipeline->route() : nullptr,
                       pipeline ? pipeline->owner() : nullptr, *response, started);
    }

    // server.readiness_path on the serving port, for balancers that probe
    // the port they send traffic to: 503 once this process drains.
    void answer_readiness(app::Response& response, std::string_view path) const {
        response.content_type = "application/json";
        const bool service_stopping = state_->slots && state_->slots->service_stopping();
        if (state_->stopping.load(std::memory_order_relaxed) || service_stopping) {
            response.status = 503;
            response.content_type = std::string(kProblemContentType);
            response.body = problem_json(503, service_stopping ? "draining: the service is stopping"
                                                               : "draining: this process is stopping",
                                         path);
        } else {
            response.status = 200;
            response.body = R"({"status":"ready"})";
        }
    }

    // Answers a request that never reached routing, and closes the
    // connection: after bad framing, where the next request starts is unknown.
    void refuse(Connection& connection, const std::shared_ptr<Tcp::Peer>& peer, const app::Snapshot& snapshot,
                int status, const std::string& detail, const std::string& instance) {
        connection.closing = true;
        const std::string body = problem_json(status, detail, instance);
        ResponseBytes r;
        r.status = status;
        r.content_type = kProblemContentType;
        r.body = body;
        r.close = true;
        send_bytes(&connection, peer, r.serialize(snapshot.server), true, true);
        log_refusal(snapshot, connection.remote, status, detail, instance);
    }

    static void log_refusal(const app::Snapshot& snapshot, const std::string& remote, int status,
                            const std::string& detail, const std::string& instance) {
        // Refused before it became a request: in the access log all the same.
        if (!snapshot.logging.access) return;
        ops::AccessEntry entry;
        entry.remote = remote;
        entry.path = instance;
        entry.status = status;
        entry.refused = detail;
        ops::log_access(entry, snapshot.logging.access_json);
    }

    static void access_log(const app::Snapshot& snapshot, const Request& request, std::string_view request_id,
                           const app::RouteEntry* matched, const app::Mount* owner, const app::Response& response,
                           Clock::time_point started) {
        ops::AccessEntry entry;
        entry.remote = request.remote;
        entry.method = request.method;
        entry.path = request.path;
        if (matched) entry.route = matched->pattern;
        if (owner) entry.plugin = owner->plugin->name();
        entry.request_id = request_id;
        entry.status = response.status;
        entry.bytes = response.body.size();
        entry.duration_ms =
            std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started).count() / 1000.0;
        ops::log_access(entry, snapshot.logging.access_json);
    }

    std::shared_ptr<Server::State> state_;
};

// Closes connections whose phase outlived its timeout: a request head or
// body not received in time gets 408, an idle keep-alive connection is
// simply closed.
void reap(Server::State& state) {
    const auto interval = std::chrono::milliseconds(100);
    std::unique_lock lock(state.reaper_mutex);
    while (!state.reaper_wake.wait_for(lock, interval, [&] { return state.reaper_stop; })) {
        const std::uint64_t now = ops::monotonic_ns();
        std::vector<std::pair<std::shared_ptr<Tcp::Peer>, int>> expired;
        {
            std::lock_guard connections_lock(state.connections_mutex);
            for (const auto& [key, weak] : state.connections) {
                const auto connection = weak.lock();
                if (!connection) continue;
                if (connection->lingering.load(std::memory_order_acquire)) {
                    // The client had its time to read the answer and close.
                    if (now >= connection->deadline_ns.load(std::memory_order_relaxed))
                        if (auto peer = connection->peer.lock()) {
                            connection->lingering = false;
                            ::shutdown(peer->fd(), SHUT_RDWR);
                        }
                    continue;
                }
                if (connection->closing.load(std::memory_order_relaxed)) continue;
                // An answer still being written to a slow reader is not idleness.
                if (connection->queued.load(std::memory_order_relaxed) > 0) continue;
                const auto deadline = connection->deadline_ns.load(std::memory_order_acquire);
                if (deadline == 0 || now < deadline) continue;
                if (auto peer = connection->peer.lock()) {
                    connection->closing = true;
                    expired.emplace_back(std::move(peer), connection->deadline_phase.load(std::memory_order_relaxed));
                }
            }
        }
        if (expired.empty()) continue;
        const auto snapshot = state.snapshot.load(std::memory_order_acquire);
        for (const auto& [peer, phase] : expired) {
            if (phase == static_cast<int>(RequestDecoder::Phase::Idle)) {
                ::shutdown(peer->fd(), SHUT_RDWR);
                continue;
            }
            const bool head = phase == static_cast<int>(RequestDecoder::Phase::Head);
            const std::string body = problem_json(
                408, head ? "the request headers were not received within server.header_timeout"
                          : "the request body was not received within server.body_timeout",
                "");
            ResponseBytes r;
            r.status = 408;
            r.content_type = kProblemContentType;
            r.body = body;
            r.close = true;
            send_bytes(nullptr, peer, r.serialize(snapshot->server), true, false);
        }
    }
}

}  // namespace

Server::Server(std::shared_ptr<const app::Snapshot> snapshot, ServerOptions options)
    : state_(std::make_shared<State>()), options_(options) {
    state_->slots = options.slots;
    state_->publish(std::move(snapshot));
}

Server::~Server() {
    if (endpoint_) endpoint_->shutdown();
    if (state_->reaper.joinable()) {
        {
            std::lock_guard lock(state_->reaper_mutex);
            state_->reaper_stop = true;
        }
        state_->reaper_wake.notify_all();
        state_->reaper.join();
    }
}

void Server::start() {
    // Main thread: the shared snapshot itself (current() is for workers).
    const auto snapshot = state_->snapshot.load();
    const auto& cfg = snapshot->server;
    const unsigned threads = config::resolved_threads(cfg);

    Address address(cfg.listen, Port(cfg.port));
    endpoint_ = std::make_unique<Http::Endpoint>(address);
    auto options = Http::Endpoint::options()
                       .threads(static_cast<int>(threads))
                       .flags(Tcp::Options::ReuseAddr | Tcp::Options::NoDelay)
                       .headerTimeout(kPistacheTimersOff)
                       .bodyTimeout(kPistacheTimersOff)
                       .keepaliveTimeout(kPistacheTimersOff);
    endpoint_->init(options);
    endpoint_->setHandler(std::make_shared<RequestHandler>(state_));
    try {
        AdoptListenSocket adopt(options_.inherited_listener);
        endpoint_->serveThreaded();  // binds on this thread
        listener_fd_ = adopt.listener_fd();
        // Pistache listens with a backlog of 128 (and ignores Options::backlog):
        // listening again only raises it (the kernel caps it at somaxconn).
        if (listener_fd_ >= 0) ::listen(listener_fd_, 4096);
        // The adopted socket now lives at listener_fd_: the inherited
        // descriptor would keep it open after this worker stops accepting.
        if (options_.inherited_listener >= 0 && options_.inherited_listener != listener_fd_)
            ::close(options_.inherited_listener);
    } catch (const std::exception& e) {
        endpoint_.reset();
        throw std::runtime_error("cannot listen on " + cfg.listen + ":" + std::to_string(cfg.port) + ": " + e.what());
    }
    state_->reaper = std::thread([state = state_] { reap(*state); });
    if (options_.inherited_listener >= 0)
        spdlog::info("serving http://{}:{} with {} threads", cfg.listen, port(), threads);
    else
        spdlog::info("listening on http://{}:{} with {} threads", cfg.listen, port(), threads);
}

std::uint16_t Server::port() const { return endpoint_ ? static_cast<std::uint16_t>(endpoint_->getPort()) : 0; }

void Server::stop() {
    if (!endpoint_) return;
    state_->stopping.store(true);
    stop_accepting(listener_fd_);
    const auto grace = state_->snapshot.load()->server.shutdown_grace;
    const auto deadline = Clock::now() + grace;
    // A busy keep-alive connection sends its next request within a round
    // trip and gets Connection: close with the answer; one that stays quiet
    // this long is idle and is closed with the rest.
    constexpr auto kQuiet = std::chrono::milliseconds(150);
    auto last_started = state_->requests_started();
    auto quiet_since = Clock::now();
    while (Clock::now() < deadline) {
        const auto started = state_->requests_started();
        if (started != last_started) {
            last_started = started;
            quiet_since = Clock::now();
        }
        if (state_->requests_in_flight() == 0 && Clock::now() - quiet_since >= kQuiet) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (int left = state_->requests_in_flight(); left > 0)
        spdlog::warn("{} requests still running after the {} ms grace period; closing anyway", left, grace.count());
    endpoint_->shutdown();
    endpoint_.reset();
    ops::flush_access_log();
}

}  // namespace trellis::front
