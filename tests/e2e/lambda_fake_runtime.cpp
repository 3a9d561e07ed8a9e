#include "lambda_fake_runtime.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <stdexcept>

namespace e2e {

namespace {

constexpr std::string_view kPrefix = "/2018-06-01/runtime/";

std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

std::int64_t unix_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

bool send_all(int fd, std::string_view bytes) {
    while (!bytes.empty()) {
        const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n <= 0) return false;
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

}  // namespace

nlohmann::json FakeRuntimeApi::Outcome::json() const {
    try {
        return nlohmann::json::parse(body);
    } catch (const std::exception& e) {
        throw std::runtime_error(std::string("not JSON (") + e.what() + "): " + body);
    }
}

std::string FakeRuntimeApi::Outcome::describe() const {
    switch (kind) {
        case Kind::None: return "no answer from the runtime";
        case Kind::Response: return "response " + body;
        case Kind::Error: return "invocation error (" + error_type + ") " + body;
    }
    return {};
}

FakeRuntimeApi::FakeRuntimeApi() {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listen_fd_ < 0) throw std::runtime_error("socket failed");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listen_fd_, 16) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
        throw std::runtime_error("cannot listen on 127.0.0.1");
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
}

FakeRuntimeApi::~FakeRuntimeApi() {
    shut_down();
    if (acceptor_.joinable()) acceptor_.join();
    std::vector<std::thread> servers;
    {
        std::lock_guard lock(mutex_);
        servers.swap(servers_);
    }
    for (auto& t : servers) t.join();
    for (int fd : connections_) ::close(fd);
    ::close(listen_fd_);
}

void FakeRuntimeApi::shut_down() {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);
    for (int fd : connections_) ::shutdown(fd, SHUT_RDWR);
    changed_.notify_all();
}

void FakeRuntimeApi::accept_loop() {
    for (;;) {
        const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        std::lock_guard lock(mutex_);
        if (fd < 0 || stopping_) {
            if (fd >= 0) ::close(fd);
            return;
        }
        connections_.push_back(fd);
        servers_.emplace_back([this, fd] { serve(fd); });
    }
}

// One connection: requests in order, kept alive as libcurl expects.
void FakeRuntimeApi::serve(int fd) {
    std::string buffer;
    char chunk[65536];
    for (;;) {
        std::size_t head_end;
        while ((head_end = buffer.find("\r\n\r\n")) == std::string::npos) {
            const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
            if (n <= 0) return;
            buffer.append(chunk, static_cast<std::size_t>(n));
        }
        HttpRequest request;
        const std::string head = buffer.substr(0, head_end);
        std::size_t line_end = head.find("\r\n");
        const std::string request_line = head.substr(0, line_end);
        const auto sp1 = request_line.find(' '), sp2 = request_line.rfind(' ');
        request.method = request_line.substr(0, sp1);
        request.path = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
        while (line_end != std::string::npos && line_end < head.size()) {
            const auto start = line_end + 2;
            line_end = head.find("\r\n", start);
            const std::string line = head.substr(start, line_end == std::string::npos ? std::string::npos : line_end - start);
            const auto colon = line.find(':');
            if (colon == std::string::npos) continue;
            std::string value = line.substr(colon + 1);
            while (!value.empty() && value.front() == ' ') value.erase(0, 1);
            request.headers[lower(line.substr(0, colon))] = value;
        }
        std::size_t length = 0;
        if (auto it = request.headers.find("content-length"); it != request.headers.end()) length = std::stoul(it->second);
        buffer.erase(0, head_end + 4);
        while (buffer.size() < length) {
            const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
            if (n <= 0) return;
            buffer.append(chunk, static_cast<std::size_t>(n));
        }
        request.body = buffer.substr(0, length);
        buffer.erase(0, length);

        const HttpAnswer answer = handle(request);
        if (answer.close) return;
        std::string out = "HTTP/1.1 " + std::to_string(answer.status) + " X\r\n";
        for (const auto& [name, value] : answer.headers) out += name + ": " + value + "\r\n";
        out += "Content-Length: " + std::to_string(answer.body.size()) + "\r\n\r\n" + answer.body;
        if (!send_all(fd, out)) return;
    }
}

void FakeRuntimeApi::violation(std::string what) { violations_.push_back(std::move(what)); }

FakeRuntimeApi::HttpAnswer FakeRuntimeApi::handle(const HttpRequest& request) {
    {
        std::lock_guard lock(mutex_);
        if (auto it = request.headers.find("user-agent"); it != request.headers.end()) user_agents_.push_back(it->second);
    }
    const std::string_view path(request.path);
    if (path.substr(0, kPrefix.size()) == kPrefix) {
        const std::string_view rest = path.substr(kPrefix.size());
        if (rest == "invocation/next" && request.method == "GET") return next(request);
        if (rest == "init/error" && request.method == "POST") {
            std::lock_guard lock(mutex_);
            InitError error;
            if (auto it = request.headers.find("lambda-runtime-function-error-type"); it != request.headers.end())
                error.error_type = it->second;
            else
                violation("init/error without Lambda-Runtime-Function-Error-Type");
            error.body = request.body;
            if (next_calls_ > 0) violation("init/error after the first GET invocation/next");
            init_error_ = std::move(error);
            changed_.notify_all();
            return {202, {{"Content-Type", "application/json"}}, R"({"status":"OK"})"};
        }
        constexpr std::string_view kInvocation = "invocation/";
        if (rest.substr(0, kInvocation.size()) == kInvocation && request.method == "POST") {
            const std::string_view tail = rest.substr(kInvocation.size());
            const auto slash = tail.find('/');
            if (slash != std::string_view::npos) {
                const std::string id(tail.substr(0, slash));
                const std::string_view what = tail.substr(slash + 1);
                if (what == "response") return post_outcome(request, id, false);
                if (what == "error") return post_outcome(request, id, true);
            }
        }
    }
    std::lock_guard lock(mutex_);
    violation("unexpected request: " + request.method + " " + request.path);
    return {404, {{"Content-Type", "application/json"}}, R"({"errorMessage":"not found"})"};
}

FakeRuntimeApi::HttpAnswer FakeRuntimeApi::next(const HttpRequest&) {
    std::unique_lock lock(mutex_);
    ++next_calls_;
    if (outstanding_) violation("GET invocation/next before answering invocation " + *outstanding_);
    changed_.notify_all();
    changed_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (stopping_) return {.close = true};
    Invocation invocation = std::move(queue_.front());
    queue_.pop_front();
    outstanding_ = invocation.id;
    HttpAnswer answer;
    answer.headers = {{"Content-Type", "application/json"},
                      {"Lambda-Runtime-Aws-Request-Id", invocation.id},
                      {"Lambda-Runtime-Deadline-Ms", std::to_string(invocation.deadline_ms)},
                      {"Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:trellis"}};
    if (!invocation.trace_id.empty()) answer.headers.emplace_back("Lambda-Runtime-Trace-Id", invocation.trace_id);
    answer.body = std::move(invocation.event);
    return answer;
}

FakeRuntimeApi::HttpAnswer FakeRuntimeApi::post_outcome(const HttpRequest& request, const std::string& id, bool error) {
    std::lock_guard lock(mutex_);
    if (!outstanding_ || *outstanding_ != id) {
        violation("an answer for invocation " + id + ", which is not the one in progress (" +
                  (outstanding_ ? *outstanding_ : std::string("none")) + ")");
        return {400, {{"Content-Type", "application/json"}}, R"({"errorMessage":"invalid request id"})"};
    }
    if (!error && request.body.size() > response_limit_)
        return {413, {{"Content-Type", "application/json"}},
                R"({"errorMessage":"Exceeded maximum allowed payload size","errorType":"RequestEntityTooLarge"})"};
    Outcome outcome;
    outcome.kind = error ? Outcome::Kind::Error : Outcome::Kind::Response;
    outcome.id = id;
    outcome.body = request.body;
    if (error) {
        if (auto it = request.headers.find("lambda-runtime-function-error-type"); it != request.headers.end())
            outcome.error_type = it->second;
        else
            violation("invocation error without Lambda-Runtime-Function-Error-Type");
        const auto body = nlohmann::json::parse(request.body, nullptr, false);
        if (!body.is_object() || !body.contains("errorMessage") || !body["errorMessage"].is_string() ||
            !body.contains("errorType") || !body["errorType"].is_string())
            violation("invocation error body is not {errorMessage, errorType}: " + request.body);
    } else if (nlohmann::json::parse(request.body, nullptr, false).is_discarded()) {
        violation("response for " + id + " is not JSON: " + request.body);
    }
    outcomes_[id] = std::move(outcome);
    outstanding_.reset();
    changed_.notify_all();
    return {202, {{"Content-Type", "application/json"}}, R"({"status":"OK"})"};
}

FakeRuntimeApi::Outcome FakeRuntimeApi::invoke(Invocation invocation, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    if (invocation.id.empty()) {
        char id[64];
        std::snprintf(id, sizeof id, "8476a536-e9f4-11e8-9739-%012d", ++ids_);
        invocation.id = id;
    }
    if (invocation.deadline_ms == 0) invocation.deadline_ms = unix_ms() + 30000;
    const std::string id = invocation.id;
    queue_.push_back(std::move(invocation));
    changed_.notify_all();
    changed_.wait_for(lock, timeout, [&] { return outcomes_.count(id) > 0; });
    const auto it = outcomes_.find(id);
    return it == outcomes_.end() ? Outcome{} : it->second;
}

std::optional<FakeRuntimeApi::InitError> FakeRuntimeApi::wait_init_error(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, timeout, [&] { return init_error_.has_value(); });
    return init_error_;
}

void FakeRuntimeApi::set_response_limit(std::size_t bytes) {
    std::lock_guard lock(mutex_);
    response_limit_ = bytes;
}

int FakeRuntimeApi::next_calls() const {
    std::lock_guard lock(mutex_);
    return next_calls_;
}

bool FakeRuntimeApi::wait_next_calls(int count, std::chrono::milliseconds timeout) const {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return next_calls_ >= count; });
}

std::vector<std::string> FakeRuntimeApi::violations() const {
    std::lock_guard lock(mutex_);
    return violations_;
}

std::vector<std::string> FakeRuntimeApi::user_agents() const {
    std::lock_guard lock(mutex_);
    return user_agents_;
}

}  // namespace e2e
