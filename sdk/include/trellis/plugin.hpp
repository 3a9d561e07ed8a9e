// trellis/plugin.hpp -- the header-only C++ layer over trellis/abi.h.
//
// This file is compiled into the plugin, never into the host, so it may change
// freely between releases: only abi.h is a contract. Nothing here throws
// across the ABI: TRELLIS_HANDLER catches everything at the boundary.
//
//   #include <trellis/plugin.hpp>
//   TRELLIS_PLUGIN();
//   TRELLIS_HANDLER(hello_name, trellis::Request& req, trellis::Response& res) {
//       res.json({{"hello", req.param("name")}});
//   }
#pragma once

#include <trellis/abi.h>

#include <charconv>
#include <chrono>
#include <cstdint>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

// A host API field that a later minor version appended: the host running the
// plugin may be older than the SDK it was built with, so check first.
#define TRELLIS_DETAIL_REQUIRE(host, field)                                                      \
    (TRELLIS_HOST_HAS(host, field)                                                               \
         ? (host)->field                                                                         \
         : throw std::logic_error("the host does not provide " #field " (it is older than this SDK)"))

namespace trellis {

using Json = nlohmann::json;

namespace detail {
inline trellis_str view(std::string_view s) noexcept { return {s.data(), s.size()}; }
inline std::string_view view(trellis_str s) noexcept { return {s.ptr ? s.ptr : "", s.len}; }

template <class T>
std::optional<T> parse_number(std::string_view text) {
    T value{};
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
    return value;
}
}  // namespace detail

// Thrown by handlers to answer with an error status. `detail` is shown to the
// client (RFC 9457 `detail`), so it must not carry internal information.
// `headers` go out with the error's answer, whoever writes it (ABI 1.2:
// HttpError(401, "a token is required", {{"WWW-Authenticate", "Bearer"}})).
class HttpError : public std::runtime_error {
public:
    using Headers = std::vector<std::pair<std::string, std::string>>;
    HttpError(int status, std::string detail, Headers headers = {})
        : std::runtime_error(std::move(detail)), status_(status), headers_(std::move(headers)) {}
    int status() const noexcept { return status_; }
    std::string_view detail() const noexcept { return what(); }
    const Headers& headers() const noexcept { return headers_; }

private:
    int status_;
    Headers headers_;
};

// One loaded plugin: its settings and its log.
class Plugin {
public:
    Plugin(const trellis_host_api* host, trellis_plugin_ctx* ctx) noexcept : host_(host), ctx_(ctx) {}

    // The raw setting text (scalars as text, lists and maps as JSON).
    std::optional<std::string_view> setting(std::string_view name) const {
        trellis_str out{};
        if (!host_->setting(ctx_, detail::view(name), &out)) return std::nullopt;
        return detail::view(out);
    }

    // A typed setting. The host validated types against the manifest already;
    // a mismatch here means the manifest and the code disagree.
    template <class T>
    T setting(std::string_view name, T fallback) const {
        auto raw = setting(name);
        if (!raw) return fallback;
        if constexpr (std::is_same_v<T, std::string>) {
            return std::string(*raw);
        } else if constexpr (std::is_same_v<T, bool>) {
            return *raw == "true";
        } else if constexpr (std::is_same_v<T, Json>) {
            return Json::parse(*raw);
        } else {
            auto n = detail::parse_number<T>(*raw);
            if (!n) throw std::runtime_error("setting '" + std::string(name) + "' is not a number");
            return *n;
        }
    }

    void log(trellis_log_level level, std::string_view message) const noexcept {
        host_->log(ctx_, level, detail::view(message));
    }

    // ABI 1.2: this instance's name (its key under the operator's `plugins:`).
    std::string_view instance() const {
        return detail::view(TRELLIS_DETAIL_REQUIRE(host_, plugin_instance)(ctx_));
    }
    // ABI 1.2: the instance's state (see TRELLIS_PLUGIN_STATE); throws when
    // the plugin has none.
    template <class T>
    T& state() const {
        void* state = TRELLIS_DETAIL_REQUIRE(host_, plugin_state)(ctx_);
        if (!state) throw std::logic_error("this plugin instance has no state (see TRELLIS_PLUGIN_STATE)");
        return *static_cast<T*>(state);
    }
    void info(std::string_view message) const noexcept { log(TRELLIS_LOG_INFO, message); }
    void warn(std::string_view message) const noexcept { log(TRELLIS_LOG_WARN, message); }
    void error(std::string_view message) const noexcept { log(TRELLIS_LOG_ERROR, message); }

private:
    const trellis_host_api* host_;
    trellis_plugin_ctx* ctx_;
};

// ---- Database (ABI 1.1) ----

// A database failure. Uncaught in a handler, `unavailable` answers 503,
// `constraint` 409, anything else 500 (the message goes to the log only).
class DbError : public std::runtime_error {
public:
    DbError(int code, std::string message) : std::runtime_error(std::move(message)), code_(code) {}
    int code() const noexcept { return code_; }
    bool unavailable() const noexcept { return code_ == TRELLIS_DB_UNAVAILABLE; }
    bool constraint() const noexcept { return code_ == TRELLIS_DB_CONSTRAINT; }

private:
    int code_;
};

// A value bound to a named parameter.
class DbValue {
public:
    DbValue(std::nullptr_t) noexcept : kind_(Null) {}
    DbValue(bool v) noexcept : kind_(Int), int_(v ? 1 : 0) {}
    template <class T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>, int> = 0>
    DbValue(T v) noexcept : kind_(Int), int_(static_cast<std::int64_t>(v)) {}
    DbValue(double v) noexcept : kind_(Real), real_(v) {}
    DbValue(std::string_view v) noexcept : kind_(Text), text_(v) {}
    DbValue(const char* v) noexcept : kind_(Text), text_(v) {}
    DbValue(const std::string& v) noexcept : kind_(Text), text_(v) {}

    enum Kind { Null, Int, Real, Text };
    Kind kind() const noexcept { return kind_; }
    std::int64_t integer() const noexcept { return int_; }
    double real() const noexcept { return real_; }
    std::string_view text() const noexcept { return text_; }

private:
    Kind kind_;
    std::int64_t int_ = 0;
    double real_ = 0;
    std::string_view text_;
};
using DbParams = std::initializer_list<std::pair<std::string_view, DbValue>>;

// One row copied out of a result: safe to keep after the statement is gone.
class DbRow {
public:
    bool has(std::string_view column) const noexcept { return find(column) != nullptr; }
    bool is_null(std::string_view column) const { return at(column).is_null(); }
    std::int64_t integer(std::string_view column) const { return at(column).get<std::int64_t>(); }
    double real(std::string_view column) const {
        const Json& v = at(column);
        return v.is_number() ? v.get<double>() : 0.0;
    }
    std::string text(std::string_view column) const {
        const Json& v = at(column);
        return v.is_string() ? v.get<std::string>() : v.dump();
    }
    // column -> value (integers, reals, strings, null)
    const Json& json() const noexcept { return values_; }

private:
    friend class DbStatement;
    const Json* find(std::string_view column) const noexcept {
        auto it = values_.find(std::string(column));
        return it == values_.end() ? nullptr : &*it;
    }
    const Json& at(std::string_view column) const {
        const Json* v = find(column);
        if (!v) throw std::out_of_range("no column '" + std::string(column) + "' in the result");
        return *v;
    }
    Json values_ = Json::object();
};

// A prepared statement, finalized when it goes out of scope.
class DbStatement {
public:
    DbStatement(const trellis_host_api* host, trellis_call* call, std::string_view sql) : host_(host), call_(call) {
        check(TRELLIS_DETAIL_REQUIRE(host_, db_prepare)(call_, detail::view(sql), &stmt_));
    }
    ~DbStatement() {
        if (stmt_) host_->db_finalize(stmt_);
    }
    DbStatement(const DbStatement&) = delete;
    DbStatement& operator=(const DbStatement&) = delete;

    DbStatement& bind(std::string_view name, const DbValue& value) {
        const trellis_str n = detail::view(name);
        switch (value.kind()) {
            case DbValue::Null: check(host_->db_bind_null(stmt_, n)); break;
            case DbValue::Int: check(host_->db_bind_int(stmt_, n, value.integer())); break;
            case DbValue::Real: check(host_->db_bind_real(stmt_, n, value.real())); break;
            case DbValue::Text: check(host_->db_bind_text(stmt_, n, detail::view(value.text()))); break;
        }
        return *this;
    }
    DbStatement& bind(DbParams params) {
        for (const auto& [name, value] : params) bind(name, value);
        return *this;
    }

    // Executes (first call) or advances; true while a row is available.
    bool next() {
        const int rc = host_->db_step(stmt_);
        if (rc == TRELLIS_DB_ROW) return true;
        if (rc == TRELLIS_DB_DONE) return false;
        check(rc);
        return false;
    }
    // The current row, copied.
    DbRow row() const {
        DbRow row;
        const int n = host_->db_column_count(stmt_);
        for (int i = 0; i < n; ++i) {
            std::string name(detail::view(host_->db_column_name(stmt_, i)));
            switch (host_->db_column_type(stmt_, i)) {
                case TRELLIS_DB_INTEGER: row.values_[name] = host_->db_column_int(stmt_, i); break;
                case TRELLIS_DB_REAL: row.values_[name] = host_->db_column_real(stmt_, i); break;
                case TRELLIS_DB_TEXT: row.values_[name] = std::string(detail::view(host_->db_column_text(stmt_, i))); break;
                default: row.values_[name] = nullptr; break;
            }
        }
        return row;
    }
    std::int64_t rows_affected() const { return host_->db_rows_affected(stmt_); }

private:
    void check(int rc) const {
        if (rc == TRELLIS_DB_OK || rc == TRELLIS_DB_ROW || rc == TRELLIS_DB_DONE) return;
        trellis_str message{};
        host_->db_error(call_, &message);
        throw DbError(rc, std::string(detail::view(message)));
    }

    const trellis_host_api* host_;
    trellis_call* call_;
    trellis_stmt* stmt_ = nullptr;
};

// Rolls back unless commit() was called.
class DbTransaction {
public:
    DbTransaction(const trellis_host_api* host, trellis_call* call) : host_(host), call_(call) {
        check(TRELLIS_DETAIL_REQUIRE(host_, db_begin)(call_));
    }
    ~DbTransaction() {
        if (open_) host_->db_rollback(call_);
    }
    DbTransaction(const DbTransaction&) = delete;
    DbTransaction& operator=(const DbTransaction&) = delete;
    void commit() {
        open_ = false;
        check(host_->db_commit(call_));
    }

private:
    void check(int rc) const {
        if (rc == TRELLIS_DB_OK) return;
        trellis_str message{};
        host_->db_error(call_, &message);
        throw DbError(rc, std::string(detail::view(message)));
    }
    const trellis_host_api* host_;
    trellis_call* call_;
    bool open_ = true;
};

// The request's database session (the host's pool; SQLite or PostgreSQL).
// SQL takes named parameters (:name): bind values, never paste them in.
class Db {
public:
    Db(const trellis_host_api* host, trellis_call* call) noexcept : host_(host), call_(call) {}

    DbStatement prepare(std::string_view sql) const { return DbStatement(host_, call_, sql); }
    // The first row, if any.
    std::optional<DbRow> one(std::string_view sql, DbParams params = {}) const {
        DbStatement st(host_, call_, sql);
        st.bind(params);
        if (!st.next()) return std::nullopt;
        return st.row();
    }
    std::vector<DbRow> all(std::string_view sql, DbParams params = {}) const {
        DbStatement st(host_, call_, sql);
        st.bind(params);
        std::vector<DbRow> rows;
        while (st.next()) rows.push_back(st.row());
        return rows;
    }
    // Runs a statement that returns no rows; returns the rows it changed.
    std::int64_t exec(std::string_view sql, DbParams params = {}) const {
        DbStatement st(host_, call_, sql);
        st.bind(params);
        while (st.next()) {
        }
        return st.rows_affected();
    }
    DbTransaction transaction() const { return DbTransaction(host_, call_); }

private:
    const trellis_host_api* host_;
    trellis_call* call_;
};

// The incoming request. Views are valid until the handler returns.
class Request {
public:
    Request(const trellis_host_api* host, trellis_call* call) noexcept : host_(host), call_(call) {}

    std::string_view method() const { return detail::view(host_->request_method(call_)); }
    std::string_view path() const { return detail::view(host_->request_path(call_)); }
    std::string_view body() const { return detail::view(host_->request_body(call_)); }

    std::optional<std::string_view> header(std::string_view name) const {
        return lookup(host_->request_header, name);
    }
    std::optional<std::string_view> query(std::string_view name) const {
        return lookup(host_->request_query, name);
    }

    // A path parameter; the router already checked its declared type, so a
    // missing parameter is a programming error and answers 500.
    std::string_view param(std::string_view name) const {
        auto v = lookup(host_->request_param, name);
        if (!v) throw std::logic_error("route has no parameter '" + std::string(name) + "'");
        return *v;
    }
    template <class T>
    T param(std::string_view name) const {
        if constexpr (std::is_same_v<T, std::string>) {
            return std::string(param(name));
        } else {
            auto n = detail::parse_number<T>(param(name));
            if (!n) throw HttpError(404, "no such resource");
            return *n;
        }
    }

    // The body parsed as JSON; invalid JSON is the client's fault (400).
    Json json() const {
        Json parsed = Json::parse(body(), nullptr, /*allow_exceptions=*/false);
        if (parsed.is_discarded()) throw HttpError(400, "request body is not valid JSON");
        return parsed;
    }

    Plugin plugin() const noexcept { return Plugin(host_, host_->call_plugin(call_)); }
    // ABI 1.2: the state of the instance whose code runs now (TRELLIS_PLUGIN_STATE).
    template <class T>
    T& state() const {
        return plugin().state<T>();
    }
    // ABI 1.1: the request's database session.
    Db db() const noexcept { return Db(host_, call_); }

    // ABI 1.1: the request id (also sent back as X-Request-Id).
    std::string_view id() const { return detail::view(TRELLIS_DETAIL_REQUIRE(host_, request_id)(call_)); }
    // ABI 1.1: the matched route template; empty when no route matched.
    std::string_view route() const {
        return detail::view(TRELLIS_DETAIL_REQUIRE(host_, request_route)(call_));
    }
    // ABI 1.1: in an error handler, the failed status and its client-safe detail.
    std::optional<std::pair<int, std::string_view>> error() const {
        trellis_str detail{};
        int status = TRELLIS_DETAIL_REQUIRE(host_, error_status)(call_, &detail);
        if (status == 0) return std::nullopt;
        return std::make_pair(status, detail::view(detail));
    }
    // ABI 1.3: when the answer is due, on the host's wall clock: under
    // `trellis serve` with workers the request's dispatch plus
    // server.worker_timeout (the worker is killed then), under `trellis
    // lambda` the invocation's deadline. nullopt when the request has none
    // (server.workers: 0) or the host's table predates 1.3 (checked, not
    // assumed), so it needs no `abi: 1.3` in the manifest.
    std::optional<std::chrono::system_clock::time_point> deadline() const {
        if (!TRELLIS_HOST_HAS(host_, request_deadline_ms)) return std::nullopt;
        const std::int64_t ms = host_->request_deadline_ms(call_);
        if (ms == 0) return std::nullopt;
        return std::chrono::system_clock::time_point(std::chrono::milliseconds(ms));
    }
    // ABI 1.3: the time until deadline(), negative once it has passed;
    // nullopt when there is none. Stop long work while it is still positive:
    // if (auto left = req.time_left(); left && *left < 200ms) throw HttpError(503, "...").
    std::optional<std::chrono::milliseconds> time_left() const {
        const auto due = deadline();
        if (!due) return std::nullopt;
        return std::chrono::duration_cast<std::chrono::milliseconds>(*due - std::chrono::system_clock::now());
    }
    // A log line tagged with the plugin and the request id (plugin-only on a 1.0 host).
    void log(trellis_log_level level, std::string_view message) const noexcept {
        if (TRELLIS_HOST_HAS(host_, call_log))
            host_->call_log(call_, level, detail::view(message));
        else
            host_->log(host_->call_plugin(call_), level, detail::view(message));
    }

private:
    using Lookup = int (*)(trellis_call*, trellis_str, trellis_str*);
    std::optional<std::string_view> lookup(Lookup fn, std::string_view name) const {
        trellis_str out{};
        if (!fn(call_, detail::view(name), &out)) return std::nullopt;
        return detail::view(out);
    }

    const trellis_host_api* host_;
    trellis_call* call_;
};

// The outgoing response. The host copies everything.
class Response {
public:
    Response(const trellis_host_api* host, trellis_call* call) noexcept : host_(host), call_(call) {}

    Response& status(int code) {
        if (!host_->response_status(call_, code)) throw std::invalid_argument("invalid HTTP status");
        return *this;
    }
    Response& header(std::string_view name, std::string_view value) {
        if (!host_->response_header(call_, detail::view(name), detail::view(value)))
            throw std::invalid_argument("invalid response header '" + std::string(name) + "'");
        return *this;
    }
    Response& body(std::string_view content) {
        host_->response_body(call_, detail::view(content));
        return *this;
    }
    Response& text(std::string_view content) {
        return header("Content-Type", "text/plain; charset=utf-8").body(content);
    }
    Response& json(const Json& value) {
        return header("Content-Type", "application/json").body(value.dump());
    }

    // ABI 1.1 (after_request hooks): the response as it stands.
    int status() const { return TRELLIS_DETAIL_REQUIRE(host_, response_get_status)(call_); }
    std::optional<std::string_view> header(std::string_view name) const {
        trellis_str out{};
        if (!TRELLIS_DETAIL_REQUIRE(host_, response_get_header)(call_, detail::view(name), &out))
            return std::nullopt;
        return detail::view(out);
    }
    Response& remove_header(std::string_view name) {
        TRELLIS_DETAIL_REQUIRE(host_, response_remove_header)(call_, detail::view(name));
        return *this;
    }

    // In a before_request hook: the response is complete, skip the rest of
    // the chain (the route handler and later before hooks).
    void done() noexcept { done_ = true; }
    bool is_done() const noexcept { return done_; }

private:
    bool done_ = false;
    const trellis_host_api* host_;
    trellis_call* call_;
};

namespace detail {
using HandlerBody = void (*)(Request&, Response&);

// The one place where exceptions stop: nothing crosses into the host.
inline trellis_status invoke(const trellis_host_api* host, trellis_call* call, HandlerBody body,
                             const char* name) noexcept {
    try {
        Request req(host, call);
        Response res(host, call);
        body(req, res);
        return res.is_done() ? TRELLIS_DONE : TRELLIS_OK;
    } catch (const HttpError& e) {
        for (const auto& [name_, value] : e.headers()) {
            if (!TRELLIS_HOST_HAS(host, fail_header)) {
                std::string msg = std::string("handler ") + name + ": this host (before ABI 1.2) cannot send the "
                                  "headers of an HttpError; they are dropped";
                host->log(host->call_plugin(call), TRELLIS_LOG_WARN, view(msg));
                break;
            }
            if (!host->fail_header(call, view(name_), view(value))) {
                std::string msg = std::string("handler ") + name + ": the host refused HttpError header '" + name_ + "'";
                host->log(host->call_plugin(call), TRELLIS_LOG_WARN, view(msg));
            }
        }
        host->fail(call, e.status(), view(e.detail()));
        return TRELLIS_OK;
    } catch (const DbError& e) {
        std::string msg = std::string("handler ") + name + ": database error: " + e.what();
        host->log(host->call_plugin(call), TRELLIS_LOG_ERROR, view(msg));
        if (e.unavailable()) {
            host->fail(call, 503, view("the database is unavailable; try again shortly"));
            return TRELLIS_OK;
        }
        if (e.constraint()) {
            host->fail(call, 409, view("the request conflicts with existing data"));
            return TRELLIS_OK;
        }
    } catch (const std::exception& e) {
        std::string msg = std::string("handler ") + name + " threw: " + e.what();
        host->log(host->call_plugin(call), TRELLIS_LOG_ERROR, view(msg));
    } catch (...) {
        std::string msg = std::string("handler ") + name + " threw a non-standard exception";
        host->log(host->call_plugin(call), TRELLIS_LOG_ERROR, view(msg));
    }
    return TRELLIS_ERROR;
}

template <void (*Init)(Plugin&)>
trellis_status init_trampoline(const trellis_host_api* host, trellis_plugin_ctx* ctx) noexcept {
    Plugin plugin(host, ctx);
    try {
        Init(plugin);
        return TRELLIS_OK;
    } catch (const std::exception& e) {
        plugin.error(std::string("init failed: ") + e.what());
    } catch (...) {
        plugin.error("init failed with a non-standard exception");
    }
    return TRELLIS_ERROR;
}

template <void (*Shutdown)(Plugin&)>
void shutdown_trampoline(const trellis_host_api* host, trellis_plugin_ctx* ctx) noexcept {
    Plugin plugin(host, ctx);
    try {
        Shutdown(plugin);
    } catch (...) {
        plugin.error("shutdown threw; ignored");
    }
}

// TRELLIS_PLUGIN_STATE: one T per instance, made by init, deleted by shutdown.
template <class T>
trellis_status state_init(const trellis_host_api* host, trellis_plugin_ctx* ctx) noexcept {
    Plugin plugin(host, ctx);
    if (!TRELLIS_HOST_HAS(host, plugin_set_state)) {
        plugin.error("init failed: plugin state needs a host of ABI 1.2 or later");
        return TRELLIS_ERROR;
    }
    try {
        host->plugin_set_state(ctx, new T(plugin));
        return TRELLIS_OK;
    } catch (const std::exception& e) {
        plugin.error(std::string("init failed: ") + e.what());
    } catch (...) {
        plugin.error("init failed with a non-standard exception");
    }
    return TRELLIS_ERROR;
}

template <class T>
void state_shutdown(const trellis_host_api* host, trellis_plugin_ctx* ctx) noexcept {
    T* state = static_cast<T*>(host->plugin_state(ctx));
    host->plugin_set_state(ctx, nullptr);
    try {
        delete state;
    } catch (...) {
        Plugin(host, ctx).error("the state's destructor threw; ignored");
    }
}
}  // namespace detail
}  // namespace trellis

// Defined by trellis_add_plugin(): the manifest embedded from the plugin's YAML.
extern "C" const char trellis_manifest_text[];
extern "C" const size_t trellis_manifest_size;

#if !defined(TRELLIS_PLUGIN_NAME) || !defined(TRELLIS_PLUGIN_VERSION)
#error "TRELLIS_PLUGIN_NAME/TRELLIS_PLUGIN_VERSION are set by trellis_add_plugin() from the manifest"
#endif
// The manifest's `abi:`, the lowest host ABI the plugin needs (set by
// trellis_add_plugin() from the manifest; older builds did not, so 1.0).
#ifndef TRELLIS_PLUGIN_ABI_MAJOR
#define TRELLIS_PLUGIN_ABI_MAJOR 1
#define TRELLIS_PLUGIN_ABI_MINOR 0
#endif

#define TRELLIS_DETAIL_ENTRY(init_fn, shutdown_fn)                                               \
    extern "C" TRELLIS_EXPORT const trellis_plugin_descriptor* trellis_plugin_entry(void) {      \
        static const trellis_plugin_descriptor descriptor = {                                    \
            sizeof(trellis_plugin_descriptor), TRELLIS_ABI_MAJOR, TRELLIS_ABI_MINOR,              \
            TRELLIS_PLUGIN_NAME, TRELLIS_PLUGIN_VERSION,                                         \
            trellis_str{trellis_manifest_text, trellis_manifest_size}, init_fn, shutdown_fn};    \
        return &descriptor;                                                                      \
    }

// Defines the entry symbol for a plugin without lifecycle hooks.
#define TRELLIS_PLUGIN() TRELLIS_DETAIL_ENTRY(nullptr, nullptr)

// Defines the entry symbol with init/shutdown: `void fn(trellis::Plugin&)`.
// init may throw to refuse the plugin; the message is logged.
#define TRELLIS_PLUGIN_LIFECYCLE(init, shutdown)                                                 \
    TRELLIS_DETAIL_ENTRY(&::trellis::detail::init_trampoline<init>,                              \
                         &::trellis::detail::shutdown_trampoline<shutdown>)

// Defines the entry symbol for a plugin whose instances each keep a `Type`
// (ABI 1.2): init constructs it as Type(trellis::Plugin&), which may throw to
// refuse the instance; shutdown deletes it; handlers, hooks and error
// handlers reach their instance's with req.state<Type>().
//   struct Policy { explicit Policy(trellis::Plugin& p); std::string origin; };
//   TRELLIS_PLUGIN_STATE(Policy);
#define TRELLIS_PLUGIN_STATE(Type)                                                               \
    static_assert(TRELLIS_PLUGIN_ABI_MAJOR > 1 || TRELLIS_PLUGIN_ABI_MINOR >= 2,                  \
                  "TRELLIS_PLUGIN_STATE needs ABI 1.2: declare abi: 1.2 in the manifest");        \
    TRELLIS_DETAIL_ENTRY(&::trellis::detail::state_init<Type>, &::trellis::detail::state_shutdown<Type>)

// Defines an exported handler: TRELLIS_HANDLER(sym, trellis::Request& req, trellis::Response& res)
#define TRELLIS_HANDLER(symbol, ...)                                                             \
    static void symbol##_body(__VA_ARGS__);                                                      \
    extern "C" TRELLIS_EXPORT trellis_status symbol(const trellis_host_api* host,               \
                                                    trellis_call* call) {                        \
        return ::trellis::detail::invoke(host, call, &symbol##_body, #symbol);                   \
    }                                                                                            \
    static void symbol##_body(__VA_ARGS__)
