#include "front/codec.hpp"

#include <llhttp.h>

#include <utility>
#include <vector>

#include "base/text.hpp"

namespace trellis::front {

namespace {

// Splits a request target into path and query. Absolute-form
// ("http://host:8080/a?b", RFC 9112 3.2.2) is routed by its path.
void split_target(std::string_view target, std::string_view& path, std::string_view& query) {
    std::string_view rest = target;
    if (!rest.empty() && rest.front() != '/' && rest != "*") {
        const auto scheme_end = rest.find("://");
        if (scheme_end != std::string_view::npos) {
            const auto path_start = rest.find_first_of("/?", scheme_end + 3);
            rest = path_start == std::string_view::npos ? std::string_view() : rest.substr(path_start);
        }
    }
    const auto q = rest.find('?');
    path = rest.substr(0, q);
    if (path.empty()) path = "/";  // "http://host" and "http://host?x"
    query = q == std::string_view::npos ? std::string_view() : rest.substr(q + 1);
}

// A piece of the arena: views are made from these once the arena stops growing.
struct Span {
    std::size_t offset = 0, length = 0;
};

}  // namespace

// The parser's state for one connection. Every byte of a request head is
// appended to one arena (method, target, header names and values as spans
// into it), the body to another; both keep their capacity from request to
// request. The request's views are made when its head is complete.
struct RequestDecoder::Parser {
    explicit Parser(CodecLimits limits_) : limits(limits_) {
        llhttp_settings_init(&settings);
        settings.on_message_begin = [](llhttp_t* p) { return self(p)->message_begin(); };
        settings.on_method = [](llhttp_t* p, const char* at, std::size_t n) { return self(p)->append(self(p)->method, at, n); };
        settings.on_url = [](llhttp_t* p, const char* at, std::size_t n) { return self(p)->append(self(p)->target, at, n); };
        settings.on_header_field = [](llhttp_t* p, const char* at, std::size_t n) { return self(p)->field_data(at, n); };
        settings.on_header_value = [](llhttp_t* p, const char* at, std::size_t n) { return self(p)->value_data(at, n); };
        settings.on_header_value_complete = [](llhttp_t* p) { return self(p)->header_complete(); };
        settings.on_headers_complete = [](llhttp_t* p) { return self(p)->headers_complete(); };
        settings.on_chunk_header = [](llhttp_t* p) { return self(p)->chunk_header(); };
        settings.on_body = [](llhttp_t* p, const char* at, std::size_t n) { return self(p)->body_data(at, n); };
        settings.on_message_complete = [](llhttp_t* p) { return self(p)->message_complete(); };
        llhttp_init(&parser, HTTP_REQUEST, &settings);
        parser.data = this;
    }

    static Parser* self(llhttp_t* p) { return static_cast<Parser*>(p->data); }

    std::string_view text(Span s) const { return std::string_view(arena).substr(s.offset, s.length); }

    // The request's path as far as it was read, for a problem's instance.
    std::string path_so_far() const {
        std::string_view path, query;
        split_target(text(target), path, query);
        return target.length ? std::string(path) : std::string();
    }

    // Stops parsing with an answer for the client; the connection closes after it.
    int refuse(int status, std::string detail) {
        if (failure.kind != Event::Kind::Error) {
            failure.kind = Event::Kind::Error;
            failure.status = status;
            failure.detail = std::move(detail);
            failure.instance = path_so_far();
        }
        return HPE_USER;
    }

    int message_begin() {
        auto headers = std::move(current.headers);  // keeps the vector's capacity
        headers.clear();
        current = Request{};
        current.headers = std::move(headers);
        arena.clear();
        body.clear();
        spans.clear();
        method = target = field = value = Span{};
        in_field = false;
        trailer_bytes = 0;
        phase = Phase::Head;
        return 0;
    }

    // Appends a fragment to the arena and grows `span` over it (fragments of
    // one item are contiguous: llhttp reports them in order).
    int append(Span& span, const char* at, std::size_t n) {
        if (arena.size() + n > limits.max_header_bytes)
            return refuse(431, "the request line and headers exceed " + std::to_string(limits.max_header_bytes) + " bytes");
        if (span.length == 0) span.offset = arena.size();
        arena.append(at, n);
        span.length += n;
        return 0;
    }

    // Trailer fields (after a chunked body) come through the same callbacks:
    // they are ignored (RFC 9112 7.1.2 lets a recipient discard them), only
    // counted against the header limit. The arena must not grow once the
    // request's views point into it.
    int trailer_data(std::size_t n) {
        trailer_bytes += n;
        if (trailer_bytes > limits.max_header_bytes)
            return refuse(431, "the trailer fields exceed " + std::to_string(limits.max_header_bytes) + " bytes");
        return 0;
    }

    int field_data(const char* at, std::size_t n) {
        if (phase == Phase::Body) return trailer_data(n);
        if (!in_field) {  // a new header line starts
            field = value = Span{};
            in_field = true;
        }
        return append(field, at, n);
    }

    int value_data(const char* at, std::size_t n) {
        // A value fragment that starts with white space right after a line
        // end is an obs-fold continuation line (RFC 9112 5.2: refuse it).
        if (phase == Phase::Body) return trailer_data(n);
        if (n > 0 && (at[0] == ' ' || at[0] == '\t')) {
            const char before = at == exec_start ? previous_byte : at[-1];
            if (before == '\n') return refuse(400, "obsolete line folding in header values is not accepted");
        }
        in_field = false;
        return append(value, at, n);
    }

    int header_complete() {
        in_field = false;
        if (phase == Phase::Body) return 0;  // a trailer field
        if (spans.size() >= limits.max_headers)
            return refuse(431, "more than " + std::to_string(limits.max_headers) + " header fields");
        spans.emplace_back(field, value);
        field = value = Span{};
        return 0;
    }

    int headers_complete() {
        // The arena is complete: the views can be made.
        current.method = text(method);
        current.target = text(target);
        split_target(current.target, current.path, current.query);
        for (const auto& [name, v] : spans) current.headers.emplace_back(text(name), trim_ows(text(v)));
        current.version_minor = parser.http_minor;
        if (parser.http_major == 0) return refuse(400, "HTTP/0.9 requests are not accepted; send HTTP/1.1");
        if (parser.http_major != 1 || parser.http_minor > 1)
            return refuse(505, "only HTTP/1.0 and HTTP/1.1 are served on this port");
        if (parser.http_minor == 1) {
            std::size_t hosts = 0;
            for (const auto& [name, v] : current.headers) hosts += iequals(name, "Host");
            if (hosts == 0) return refuse(400, "HTTP/1.1 requests need a Host header");
            if (hosts > 1) return refuse(400, "more than one Host header");
        }
        const bool chunked = (parser.flags & F_CHUNKED) != 0;
        const bool has_length = (parser.flags & F_CONTENT_LENGTH) != 0;
        if (has_length && parser.content_length > limits.max_body)
            return refuse(413, "the request body exceeds the limit of " + std::to_string(limits.max_body) + " bytes");
        phase = Phase::Body;
        if (const auto expect = current.header("Expect")) {
            if (!iequals(*expect, "100-continue")) return refuse(417, "only Expect: 100-continue is understood");
            if (parser.http_minor == 1 && (chunked || (has_length && parser.content_length > 0))) {
                staged.kind = Event::Kind::Continue;
                return HPE_PAUSED;
            }
        }
        return 0;
    }

    int chunk_header() {
        // parser.content_length is this chunk's size: refuse before reading it.
        if (parser.content_length > limits.max_body - std::min(limits.max_body, body.size()))
            return refuse(413, "the request body exceeds the limit of " + std::to_string(limits.max_body) + " bytes");
        return 0;
    }

    int body_data(const char* at, std::size_t n) {
        if (body.size() + n > limits.max_body)
            return refuse(413, "the request body exceeds the limit of " + std::to_string(limits.max_body) + " bytes");
        body.append(at, n);
        return 0;
    }

    int message_complete() {
        current.body = body;
        current.keep_alive = llhttp_should_keep_alive(&parser) != 0 && parser.upgrade == 0;
        staged.kind = Event::Kind::Request;
        staged.request = &current;
        phase = Phase::Idle;
        return HPE_PAUSED;
    }

    Event next() {
        if (failure.kind == Event::Kind::Error) return failure;
        while (pos < buffer.size()) {
            exec_start = buffer.data() + pos;
            const auto err = llhttp_execute(&parser, exec_start, buffer.size() - pos);
            if (err == HPE_OK) {
                previous_byte = buffer.back();
                buffer.clear();
                pos = 0;
                break;
            }
            if (err == HPE_PAUSED || err == HPE_PAUSED_UPGRADE) {
                const char* stop = llhttp_get_error_pos(&parser);
                pos = static_cast<std::size_t>(stop - buffer.data());
                if (pos > 0) previous_byte = buffer[pos - 1];
                if (err == HPE_PAUSED) {
                    llhttp_resume(&parser);
                } else {
                    upgraded = true;  // what follows is another protocol: never parsed
                }
                if (staged.kind != Event::Kind::None) return std::exchange(staged, Event{});
                if (upgraded) break;
                continue;
            }
            if (err == HPE_PAUSED_H2_UPGRADE) refuse(505, "HTTP/2 is not served on this port; send HTTP/1.1");
            // A well-formed version llhttp does not speak (HTTP/1.2, HTTP/3.0);
            // a malformed one ("HTTP/1.x") is "Invalid minor/major version": 400.
            if (err == HPE_INVALID_VERSION && std::string_view(llhttp_get_error_reason(&parser)) == "Invalid HTTP version")
                refuse(505, "only HTTP/1.0 and HTTP/1.1 are served on this port");
            if (failure.kind != Event::Kind::Error) {
                // llhttp's own verdict: malformed request line, header, chunk or framing.
                failure.kind = Event::Kind::Error;
                failure.status = 400;
                failure.detail = std::string("malformed HTTP request: ") + llhttp_get_error_reason(&parser);
                failure.instance = path_so_far();
            }
            return failure;
        }
        if (pos > 0 && pos == buffer.size()) {
            buffer.clear();
            pos = 0;
        }
        return {};
    }

    CodecLimits limits;
    llhttp_settings_t settings{};
    llhttp_t parser{};
    std::string buffer;  // bytes not parsed yet (after a pause)
    std::size_t pos = 0;
    const char* exec_start = nullptr;
    char previous_byte = '\0';  // the byte before exec_start

    Request current;
    std::string arena, body;
    Span method, target, field, value;
    std::vector<std::pair<Span, Span>> spans;  // header names and values
    bool in_field = false;  // between a header name's fragments
    std::size_t trailer_bytes = 0;

    Event staged, failure;
    Phase phase = Phase::Idle;
    bool upgraded = false;
};

RequestDecoder::RequestDecoder(CodecLimits limits) : parser_(std::make_unique<Parser>(limits)) {}
RequestDecoder::~RequestDecoder() = default;

void RequestDecoder::feed(std::string_view bytes) {
    if (parser_->upgraded) return;
    if (parser_->pos == parser_->buffer.size()) {
        parser_->buffer.clear();
        parser_->pos = 0;
    }
    parser_->buffer.append(bytes);
}

RequestDecoder::Event RequestDecoder::next() { return parser_->next(); }

RequestDecoder::Phase RequestDecoder::phase() const noexcept {
    if (parser_->phase == Phase::Idle && parser_->pos < parser_->buffer.size()) return Phase::Head;
    return parser_->phase;
}

}  // namespace trellis::front
