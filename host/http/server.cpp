#include "http/server.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <optional>
#include <sstream>
#include <string>
#include <thread>

#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <pistache/endpoint.h>
#include <pistache/http.h>
#include <pistache/peer.h>
#include <spdlog/spdlog.h>

#include "http/listen_socket.hpp"
#include "http/pipeline.hpp"
#include "http/problem.hpp"
#include "http/text.hpp"
#include "ops/logging.hpp"
#include "ops/worker_slots.hpp"

namespace trellis::http {

using namespace Pistache;
using Clock = std::chrono::steady_clock;

// Headers take at most this much on top of max_request_bytes: Pistache's own
// limit covers headers plus body, ours covers the body alone.
constexpr std::size_t kHeaderAllowance = 64 * 1024;

// Worker threads share nothing they write on every request: a value that
// two cores both update moves between their caches each time, and at tens
// of thousands of requests per second that cost more than the routing. So
// the snapshot is read through a per-thread copy and requests in flight are
// counted per thread.
struct Server::State {
    // Every snapshot ever published gets a generation unique in the process;
    // a thread's copy is current while its generation matches.
    void publish(std::shared_ptr<const plugins::Snapshot> next) {
        static std::atomic<std::uint64_t> generations{0};
        snapshot.store(std::move(next), std::memory_order_release);
        generation.store(generations.fetch_add(1) + 1, std::memory_order_release);
    }

    // The current snapshot, through the calling thread's copy. The reference
    // stays valid until this thread's next call (for a worker: its next
    // request).
    const plugins::Snapshot& current() const {
        struct Copy {
            std::uint64_t generation = 0;
            std::shared_ptr<const plugins::Snapshot> snapshot;
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

    std::atomic<std::shared_ptr<const plugins::Snapshot>> snapshot;
    std::atomic<std::uint64_t> generation{0};
    std::array<Shard, kShards> in_flight;
    std::atomic<bool> stopping{false};
    ops::WorkerSlotWriter* slots = nullptr;
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
    SlotRecord(ops::WorkerSlotWriter* slots, const plugins::Snapshot& snapshot, std::string_view request_id,
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
        return {[](void* self, const plugins::RouteEntry* route, const plugins::Mount* owner) {
                    static_cast<SlotRecord*>(self)->routed(route, owner);
                },
                this};
    }
    void set_status(int status) noexcept { status_ = status; }

private:
    void routed(const plugins::RouteEntry* route, const plugins::Mount* owner) const noexcept {
        const auto route_index = route ? static_cast<std::int32_t>(route - snapshot_.routes.data()) : -1;
        const auto mount_index = owner ? static_cast<std::int32_t>(owner - snapshot_.mounts.data()) : -1;
        ops::WorkerSlotWriter::routed(*slot_, route_index, mount_index);
    }

    ops::ThreadSlot* slot_;
    const plugins::Snapshot& snapshot_;
    std::uint32_t method_;
    int status_ = 500;
    std::uint64_t started_ = ops::monotonic_ns();
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
        if (!content_type.empty()) response_.setMime(media_type(content_type));
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
    // Parsing a media type costs as much as a small handler: each worker
    // thread keeps the last one it parsed (answers of a route repeat theirs).
    static const Http::Mime::MediaType& media_type(std::string_view text) {
        thread_local std::string last_text;
        thread_local Http::Mime::MediaType last;
        if (text != last_text) {
            last = Http::Mime::MediaType::fromString(std::string(text));
            last_text = text;
        }
        return last;
    }

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

// A request the host refuses before it reaches a route: bad framing.
struct FramingError {
    int status;
    std::string detail;
    std::string instance;  // the request path, when the request line was read
};

// Checks a request's header block before Pistache's parser sees its body.
// Pistache 0.0.5 reserves the declared Content-Length (or chunk size) before
// any limit applies (upstream #1325) and answers a malformed length with a
// 500 carrying exception text; this check answers 400/411/413 first.
// Pistache discards pipelined requests anyway, so one header block per
// request is all there is to track.
class FramingGuard {
public:
    FramingGuard(std::size_t max_body, std::size_t max_head) : max_body_(max_body), max_head_(max_head) {}

    // Feeds the next bytes of the connection; throws FramingError.
    void feed(const char* data, std::size_t len) {
        if (checked_) return;
        const std::size_t room = max_head_ + 4 > head_.size() ? max_head_ + 4 - head_.size() : 0;
        head_.append(data, std::min(len, room));
        const auto end = head_.find("\r\n\r\n");
        if (end == std::string::npos) {
            if (head_.size() > max_head_)
                throw FramingError{431, "the request headers exceed " + std::to_string(max_head_) + " bytes",
                                   request_path(head_)};
            return;
        }
        checked_ = true;
        check_headers(std::string_view(head_).substr(0, end));
        head_.clear();
    }
    // The request was answered: the next bytes start a new one.
    void next_request() {
        checked_ = false;
        head_.clear();
    }

private:
    // The path of "METHOD /path?query HTTP/1.1", for the problem's instance.
    static std::string request_path(std::string_view head) {
        auto line = head.substr(0, head.find("\r\n"));
        auto start = line.find(' ');
        if (start == std::string_view::npos) return {};
        auto target = line.substr(start + 1);
        return std::string(target.substr(0, std::min(target.find(' '), target.find('?'))));
    }

    void check_headers(std::string_view head) const {
        std::optional<std::string_view> length;
        const auto fail = [&](int status, std::string detail) {
            throw FramingError{status, std::move(detail), request_path(head)};
        };
        std::size_t pos = head.find("\r\n");
        while (pos != std::string_view::npos) {
            const std::size_t start = pos + 2;
            pos = head.find("\r\n", start);
            std::string_view line = head.substr(start, pos == std::string_view::npos ? head.npos : pos - start);
            const auto colon = line.find(':');
            if (colon == std::string_view::npos) continue;  // the parser rejects it
            std::string_view name = line.substr(0, colon), value = line.substr(colon + 1);
            value = trim_ows(value);
            if (iequals(name, "Transfer-Encoding"))
                fail(411, "chunked request bodies are not accepted; send Content-Length");
            if (!iequals(name, "Content-Length")) continue;
            // RFC 9112 6.3: 1*DIGIT, and several lengths must agree.
            if (value.empty() || value.size() > 19 || value.find_first_not_of("0123456789") != std::string_view::npos)
                fail(400, "invalid Content-Length");
            if (length && *length != value) fail(400, "conflicting Content-Length headers");
            length = value;
            if (std::stoull(std::string(value)) > max_body_)
                fail(413, "the request body exceeds the limit of " + std::to_string(max_body_) + " bytes");
        }
    }

    std::size_t max_body_, max_head_;
    bool checked_ = false;
    std::string head_;
};

class RequestHandler : public Http::Handler {
public:
    HTTP_PROTOTYPE(RequestHandler)

    explicit RequestHandler(std::shared_ptr<Server::State> state) : state_(std::move(state)) {}

    // Replaces Pistache's own input loop (same steps) so that framing errors
    // and parser failures get problem+json instead of exception text, and so
    // that HTTP/1.1 connections stay open unless the client says otherwise.
    void onInput(const char* buffer, std::size_t len, const std::shared_ptr<Tcp::Peer>& peer) override {
        auto parser = getParser(peer);
        auto& request = parser->request;
        auto guard = framing_guard(peer);
        try {
            guard->feed(buffer, len);
            if (!parser->feed(buffer, len))
                throw FramingError{431, "the request headers are too large", {}};
            if (parser->parse() != Http::Private::State::Done) return;
            Http::ResponseWriter response(request.version(), transport(), this, peer);
            request.copyAddress(peer->address());
            response.headers().add<Http::Header::Connection>(connection_control(request));
            peer->setIdle(false);
            onRequest(request, std::move(response));
        } catch (const FramingError& e) {
            refuse(peer, request.version(), e.status, e.detail, e.instance);
        } catch (const std::exception&) {
            // Pistache's parser throws on malformed input: the client's fault.
            refuse(peer, request.version(), 400, "malformed HTTP request", {});
        }
        parser->reset();
        guard->next_request();
    }

    void onTimeout(const Http::Request& request, Http::ResponseWriter response) override {
        response.headers().add<Http::Header::Connection>(Http::ConnectionControl::Close);
        Reply(response, false).problem(408, "the request was not received in time", request.resource());
    }

    void onRequest(const Http::Request& request, Http::ResponseWriter response) override {
        InFlight guard(state_->shard());
        const auto started = Clock::now();
        const plugins::Snapshot& snapshot = state_->current();

        const std::string request_id = accept_or_make_request_id(request);
        trellis_call call(request, Http::methodString(request.method()), request.resource(), request_id);
        call.database = snapshot.database.get();
        SlotRecord record(state_->slots, snapshot, request_id, call.method, call.path);
        if (!snapshot.server.readiness_path.empty() && call.path == snapshot.server.readiness_path) {
            answer_readiness(call);
        } else {
            Pipeline pipeline(snapshot, call, record.observer());
            pipeline.respond();
            record.set_status(call.status);
            send(response, request, call, request_id);
            pipeline.teardown();
            if (snapshot.logging.access) access_log(snapshot, call, pipeline.owner(), request, started);
            return;
        }
        record.set_status(call.status);
        send(response, request, call, request_id);
        if (snapshot.logging.access) access_log(snapshot, call, nullptr, request, started);
    }

private:
    // server.readiness_path on the serving port, for balancers that probe
    // the port they send traffic to: 503 once this process drains.
    void answer_readiness(trellis_call& call) const {
        call.content_type = "application/json";
        if (state_->stopping.load(std::memory_order_relaxed)) {
            call.status = 503;
            call.content_type = std::string(kProblemContentType);
            call.body = problem_json(503, "draining: this process is stopping", call.path);
        } else {
            call.status = 200;
            call.body = R"({"status":"ready"})";
        }
    }

    static void send(Http::ResponseWriter& response, const Http::Request& request, trellis_call& call,
                     const std::string& request_id) {
        Reply reply(response, request.method() == Http::Method::Head);
        for (auto& [name, value] : call.headers) reply.header(std::move(name), std::move(value));
        reply.header("X-Request-Id", request_id);
        const std::string_view content_type =
            call.content_type.empty() && !call.body.empty() ? std::string_view("text/plain; charset=utf-8")
                                                              : std::string_view(call.content_type);
        reply.send(call.status, content_type, call.body);
    }

    // Pistache 0.0.5 answers an HTTP/1.1 request that has no Connection
    // header with "Connection: close"; HTTP/1.1 means keep-alive unless said
    // otherwise (RFC 9112 9.3). While stopping, connections are closed.
    Http::ConnectionControl connection_control(const Http::Request& request) const {
        if (state_->stopping.load(std::memory_order_relaxed)) return Http::ConnectionControl::Close;
        if (auto connection = request.headers().tryGet<Http::Header::Connection>()) return connection->control();
        return request.version() == Http::Version::Http11 ? Http::ConnectionControl::KeepAlive
                                                          : Http::ConnectionControl::Close;
    }

    std::shared_ptr<FramingGuard> framing_guard(const std::shared_ptr<Tcp::Peer>& peer) const {
        static constexpr const char* kKey = "trellis.framing";
        if (auto existing = peer->tryGetData(kKey)) return std::static_pointer_cast<FramingGuard>(existing);
        auto guard = std::make_shared<FramingGuard>(state_->current().server.max_request_bytes, kHeaderAllowance);
        peer->putData(kKey, guard);
        return guard;
    }

    // Answers a request that never reached routing, and closes the
    // connection: after bad framing, where the next request starts is unknown.
    void refuse(const std::shared_ptr<Tcp::Peer>& peer, Http::Version version, int status, const std::string& detail,
                const std::string& instance) {
        Http::ResponseWriter response(version, transport(), this, peer);
        response.headers().add<Http::Header::Connection>(Http::ConnectionControl::Close);
        Reply(response, false).problem(status, detail, instance);
        // Refused before it became a request: in the access log all the same.
        const auto& logging = state_->current().logging;
        if (!logging.access) return;
        const std::string remote = peer->address().host();
        if (logging.access_json)
            ops::access_logger().info("{}", nlohmann::ordered_json{{"remote", remote},
                                                                   {"path", instance},
                                                                   {"status", status},
                                                                   {"refused", detail}}
                                                .dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
        else
            ops::access_logger().info("access {} \"- {}\" {} refused: {}", remote, instance.empty() ? "-" : instance,
                                      status, detail);
    }

    // X-Request-Id from the client when it is sane (it ends up in logs and
    // headers), else a fresh one: 16 hex digits, unique per process.
    static std::string accept_or_make_request_id(const Http::Request& request) {
        const auto& raw = request.headers().rawList();
        if (auto it = raw.find("X-Request-Id"); it != raw.end()) {
            std::string id = it->second.value();
            const bool sane = !id.empty() && id.size() <= 128 && std::all_of(id.begin(), id.end(), [](char c) {
                return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == ':' || c == '-';
            });
            if (sane) return id;
        }
        static std::atomic<std::uint64_t> counter{0};
        static const std::uint64_t seed =
            std::hash<std::uint64_t>{}(static_cast<std::uint64_t>(Clock::now().time_since_epoch().count())) ^
            (static_cast<std::uint64_t>(::getpid()) << 40);
        // Each thread takes counter values in blocks (see Server::State on
        // shared writes).
        static constexpr std::uint64_t kBlock = 1024;
        thread_local std::uint64_t next = 0, end = 0;
        if (next == end) {
            next = counter.fetch_add(kBlock, std::memory_order_relaxed);
            end = next + kBlock;
        }
        // splitmix64 of a counter: unique, cheap, and not guessable in order.
        std::uint64_t z = seed + 0x9e3779b97f4a7c15ULL * (next++ + 1);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        z ^= z >> 31;
        static constexpr char hex[] = "0123456789abcdef";
        std::string id(16, '0');
        for (int i = 15; i >= 0; --i, z >>= 4) id[static_cast<std::size_t>(i)] = hex[z & 0xF];
        return id;
    }

    static void access_log(const plugins::Snapshot& snapshot, const trellis_call& call, const plugins::Mount* owner,
                           const Http::Request& request, Clock::time_point started) {
        const double ms =
            std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started).count() / 1000.0;
        const std::string_view plugin = owner ? std::string_view(owner->plugin->name()) : std::string_view("-");
        const std::string_view route = call.route.empty() ? std::string_view("-") : call.route;
        const std::string remote = request.address().host();
        if (snapshot.logging.access_json) {
            nlohmann::ordered_json line = {
                {"remote", remote},       {"method", call.method}, {"path", call.path},
                {"route", route},         {"plugin", plugin},      {"status", call.status},
                {"bytes", call.body.size()}, {"duration_ms", ms},  {"request_id", call.request_id},
            };
            ops::access_logger().info("{}", line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
        } else {
            ops::access_logger().info("access {} \"{} {}\" {} {} {:.3f}ms route={} plugin={} id={}", remote, call.method,
                                      call.path, call.status, call.body.size(), ms, route, plugin, call.request_id);
        }
    }

    std::shared_ptr<Server::State> state_;
};

}  // namespace

Server::Server(std::shared_ptr<const plugins::Snapshot> snapshot, ServerOptions options)
    : state_(std::make_shared<State>()), options_(options) {
    state_->slots = options.slots;
    state_->publish(std::move(snapshot));
}

Server::~Server() {
    if (endpoint_) endpoint_->shutdown();
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
                       .maxRequestSize(cfg.max_request_bytes + kHeaderAllowance)
                       .headerTimeout(cfg.header_timeout)
                       .bodyTimeout(cfg.body_timeout)
                       .keepaliveTimeout(cfg.keepalive_timeout);
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
}

}  // namespace trellis::http
