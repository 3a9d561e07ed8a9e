// trellis/testing.hpp -- the in-process test client for plugin authors.
//
// A trellis::testing::Host is the host's own core (the configuration
// loader, the plugin loader, migrations, hooks, routing, handlers and the
// error chain, exactly as `trellis serve` runs them) without sockets and
// without threads of its own: a request goes in as a function call and the
// answer comes back as a value.
//
//   find_package(TrellisSDK 1.3 REQUIRED)
//   trellis_add_plugin(greeter SOURCES greeter.cpp MANIFEST greeter.plugin.yaml)
//   trellis_add_plugin_test(greeter_test SOURCES greeter_test.cpp PLUGINS greeter)
//
//   trellis::testing::Host host(R"(
//   plugins:
//     greeter: {mount: /greet, settings: {greeting: Hi}}
//   )");
//   auto res = host.get("/greet/ada");
//   EXPECT_EQ(res.status, 200);
//   EXPECT_EQ(res.json()["greeting"], "Hi, ada");
//
// Link Trellis::testing (trellis_add_plugin_test() does). Only this header's
// API is exported by the library; the host's internals stay inside it.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

// The library is built with hidden visibility; these are its exports.
#define TRELLIS_TESTING_API __attribute__((visibility("default")))

namespace trellis::testing {

using Headers = std::vector<std::pair<std::string, std::string>>;

// One answer, as a client would read it off the wire: the status, every
// header the host sends except the transport's own (Content-Length, Date,
// Server, Connection), and the body. A HEAD answer has no body.
struct TRELLIS_TESTING_API Response {
    int status = 0;
    Headers headers;  // in order; Content-Type and X-Request-Id included
    std::string body;

    // The first header with this name (case-insensitive), if any.
    std::optional<std::string> header(std::string_view name) const;
    // The body parsed as JSON; throws nlohmann::json::parse_error otherwise.
    nlohmann::json json() const { return nlohmann::json::parse(body); }
};

// The configuration or a plugin was refused: what() lists every problem,
// one per line, with file:line:col as `trellis check` prints them.
class TRELLIS_TESTING_API LoadError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

namespace detail {
// TRELLIS_TEST_PLUGIN_PATH (colon-separated folders), which
// trellis_add_plugin_test() defines for its test: its plugins' build folders.
inline std::vector<std::string> default_plugin_path() {
    std::vector<std::string> dirs;
#ifdef TRELLIS_TEST_PLUGIN_PATH
    std::string_view rest = TRELLIS_TEST_PLUGIN_PATH;
    while (!rest.empty()) {
        const auto colon = rest.find(':');
        if (colon != 0) dirs.emplace_back(rest.substr(0, colon));
        if (colon == std::string_view::npos) break;
        rest.remove_prefix(colon + 1);
    }
#endif
    return dirs;
}
}  // namespace detail

struct Options {
    // Folders searched for plugin libraries by name (lib<name>.so), before
    // the configuration's own plugin_path; by default the folders of the
    // plugins that trellis_add_plugin_test() lists.
    std::vector<std::string> plugin_path = detail::default_plugin_path();
    // Where relative paths in the configuration (sqlite://notes.db,
    // plugin_path entries) are resolved; empty: the current directory.
    std::string base_dir{};
    // Every request's deadline (ABI 1.3: what trellis::Request::deadline()
    // and request_deadline_ms read), this long after request() is called, as
    // `trellis serve` with workers counts server.worker_timeout from a
    // request's dispatch; zero or negative: already reached or past. Unset
    // (the default): requests have no deadline, as with server.workers: 0.
    //   trellis::testing::Host host(yaml, {.deadline = std::chrono::seconds(5)});
    std::optional<std::chrono::milliseconds> deadline{};
};

class TRELLIS_TESTING_API Host {
public:
    // `config_yaml` is an operator configuration, the same keys as
    // trellis.yaml (plugins, database, errors, server.max_request_bytes, ...).
    // Without a `database` section the database is a private in-memory
    // SQLite one. Loads the plugins, runs their init and applies the
    // migrations; throws LoadError when any of that fails.
    explicit Host(std::string_view config_yaml, Options options = {});
    ~Host();  // runs the plugins' shutdown
    Host(const Host&) = delete;
    Host& operator=(const Host&) = delete;
    Host(Host&&) noexcept;
    Host& operator=(Host&&) noexcept;

    // One request: method as sent, target with an optional query
    // ("/notes?limit=2"), headers, body. Teardown hooks have run when it returns.
    Response request(std::string_view method, std::string_view target, const Headers& headers = {},
                     std::string_view body = {});

    Response get(std::string_view target, const Headers& headers = {}) { return request("GET", target, headers); }
    Response head(std::string_view target, const Headers& headers = {}) { return request("HEAD", target, headers); }
    Response del(std::string_view target, const Headers& headers = {}) { return request("DELETE", target, headers); }
    Response post(std::string_view target, std::string_view body, const Headers& headers = {}) {
        return request("POST", target, headers, body);
    }
    Response put(std::string_view target, std::string_view body, const Headers& headers = {}) {
        return request("PUT", target, headers, body);
    }
    Response patch(std::string_view target, std::string_view body, const Headers& headers = {}) {
        return request("PATCH", target, headers, body);
    }
    // The same with a JSON body and Content-Type: application/json.
    Response post_json(std::string_view target, const nlohmann::json& body, Headers headers = {}) {
        return with_json("POST", target, body, std::move(headers));
    }
    Response put_json(std::string_view target, const nlohmann::json& body, Headers headers = {}) {
        return with_json("PUT", target, body, std::move(headers));
    }
    Response patch_json(std::string_view target, const nlohmann::json& body, Headers headers = {}) {
        return with_json("PATCH", target, body, std::move(headers));
    }

private:
    Response with_json(std::string_view method, std::string_view target, const nlohmann::json& body,
                       Headers headers) {
        headers.emplace_back("Content-Type", "application/json");
        return request(method, target, headers, body.dump());
    }

    struct State;
    std::unique_ptr<State> state_;
};

}  // namespace trellis::testing
