// `trellis lambda` against a fake Lambda Runtime API on 127.0.0.1
// (lambda_fake_runtime.*): the real binary, real plugins, SQLite in a
// scratch folder. Events follow the shapes of the AWS documentation's
// examples (payload format 2.0 and 1.0, API Gateway REST and ALB).
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "fixture.hpp"
#include "harness.hpp"
#include "lambda_fake_runtime.hpp"

namespace e2e {
namespace {

using nlohmann::json;
using Kind = FakeRuntimeApi::Outcome::Kind;

fs::path lambda_plugin_dir() { return TRELLIS_E2E_LAMBDA_PLUGIN_DIR; }

constexpr const char* kPlugins =
    "  hello: {mount: /}\n"
    "  notes: {mount: /api/notes}\n"
    "  faulty: {mount: /f}\n"
    "  lambdaprobe: {mount: /probe}\n"
    "  deadline: {mount: /dl}\n";

std::int64_t unix_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// An API Gateway HTTP API / function URL event (payload format 2.0).
json v2(std::string_view method, std::string_view raw_path, std::string_view raw_query = "",
        json headers = json::object(), std::optional<std::string> body = std::nullopt, bool base64 = false) {
    headers["host"] = "abcdefghij.lambda-url.us-east-1.on.aws";
    json e = {{"version", "2.0"},
              {"routeKey", "$default"},
              {"rawPath", raw_path},
              {"rawQueryString", raw_query},
              {"headers", headers},
              {"requestContext",
               {{"accountId", "123456789012"},
                {"apiId", "api-id"},
                {"domainName", "abcdefghij.lambda-url.us-east-1.on.aws"},
                {"http",
                 {{"method", method}, {"path", raw_path}, {"protocol", "HTTP/1.1"}, {"sourceIp", "192.0.2.1"},
                  {"userAgent", "agent"}}},
                {"requestId", "api-gateway-id"},
                {"routeKey", "$default"},
                {"stage", "$default"},
                {"timeEpoch", 1583348638390}}},
              {"isBase64Encoded", base64}};
    if (body) e["body"] = *body;
    return e;
}

// An API Gateway REST API event (payload format 1.0, both header forms).
json v1(std::string_view method, std::string_view path, json multi_query = nullptr,
        std::optional<std::string> body = std::nullopt) {
    json e = {{"version", "1.0"},
              {"resource", path},
              {"path", path},
              {"httpMethod", method},
              {"headers", {{"Host", "id.execute-api.us-east-1.amazonaws.com"}, {"header2", "value2"}}},
              {"multiValueHeaders",
               {{"Host", {"id.execute-api.us-east-1.amazonaws.com"}}, {"header2", {"value1", "value2"}}}},
              {"queryStringParameters", nullptr},
              {"multiValueQueryStringParameters", multi_query},
              {"requestContext",
               {{"accountId", "123456789012"},
                {"httpMethod", method},
                {"identity", {{"sourceIp", "192.0.2.1"}, {"userAgent", "user-agent"}}},
                {"path", path},
                {"requestId", "id="},
                {"stage", "$default"}}},
              {"pathParameters", nullptr},
              {"stageVariables", nullptr},
              {"body", body ? json(*body) : json(nullptr)},
              {"isBase64Encoded", false}};
    return e;
}

// An Application Load Balancer event (payload format 1.0, single-value headers).
json alb(std::string_view method, std::string_view path) {
    return {{"requestContext", {{"elb", {{"targetGroupArn", "arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/lambda/49e9d65c45c6791a"}}}}},
            {"httpMethod", method},
            {"path", path},
            {"queryStringParameters", json::object()},
            {"headers", {{"host", "lambda-alb-123578498.us-east-2.elb.amazonaws.com"}, {"x-forwarded-for", "72.12.164.125"}}},
            {"body", ""},
            {"isBase64Encoded", false}};
}

std::string base64(std::string_view bytes) {
    static constexpr char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    std::size_t i = 0;
    for (; i + 2 < bytes.size(); i += 3) {
        const unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) | (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                           static_cast<unsigned char>(bytes[i + 2]);
        out += {a[v >> 18], a[(v >> 12) & 63], a[(v >> 6) & 63], a[v & 63]};
    }
    if (i + 1 == bytes.size()) {
        const unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
        out += {a[v >> 18], a[(v >> 12) & 63], '=', '='};
    } else if (i + 2 == bytes.size()) {
        const unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) | (static_cast<unsigned char>(bytes[i + 1]) << 8);
        out += {a[v >> 18], a[(v >> 12) & 63], a[(v >> 6) & 63], '='};
    }
    return out;
}

// A `trellis lambda` process (or `bootstrap`) against its own fake Runtime API.
class LambdaRuntime {
public:
    LambdaRuntime() = default;

    // `trellis lambda -c <dir>/trellis.yaml` with every plugin folder.
    static std::unique_ptr<LambdaRuntime> command(std::string_view plugins, const HostOptions& options = {}) {
        auto r = std::make_unique<LambdaRuntime>();
        const fs::path config = r->dir.write("trellis.yaml", config_yaml(free_port(), plugins, with_database(r->dir, options)));
        std::vector<std::string> argv{trellis_binary().string(), "lambda", "-c", config.string()};
        for (const auto& a : default_plugin_args()) argv.push_back(a);
        argv.insert(argv.end(), {"--plugin-path", lambda_plugin_dir().string()});
        r->launch({}, argv);
        return r;
    }

    static HostOptions with_database(const TempDir& dir, HostOptions options) {
        options.top_level_extra += "database:\n  url: \"sqlite://" + (dir.path() / "lambda.db").string() + "\"\n";
        options.logging_extra += "  access: true\n";
        options.admin_port = 0;
        return options;
    }

    std::string err() const { return read_file(dir.path() / "stderr") + read_file(dir.path() / "stdout"); }
    bool wait_for_log(std::string_view text, std::chrono::milliseconds timeout = std::chrono::seconds(3)) const {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (err().find(text) == std::string::npos) {
            if (std::chrono::steady_clock::now() >= deadline) return false;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return true;
    }

    FakeRuntimeApi api;
    TempDir dir;
    std::unique_ptr<Process> process;

    // Starts `env AWS_LAMBDA_RUNTIME_API=... <env> <argv_tail>`.
    void launch(std::vector<std::string> env, std::vector<std::string> argv_tail) {
        std::vector<std::string> argv{"/usr/bin/env", "AWS_LAMBDA_RUNTIME_API=" + api.endpoint()};
        argv.insert(argv.end(), env.begin(), env.end());
        argv.insert(argv.end(), argv_tail.begin(), argv_tail.end());
        process = std::make_unique<Process>(argv, dir.path() / "stdout", dir.path() / "stderr");
    }
};

::testing::AssertionResult IsProblemAnswer(const FakeRuntimeApi::Outcome& o, int status, std::string_view instance) {
    if (o.kind != Kind::Response) return ::testing::AssertionFailure() << o.describe();
    const json a = o.json();
    if (a["statusCode"] != status) return ::testing::AssertionFailure() << "status, in " << o.body;
    if (a["headers"]["Content-Type"] != "application/problem+json")
        return ::testing::AssertionFailure() << "Content-Type, in " << o.body;
    const json p = json::parse(a["body"].get<std::string>());
    if (p["status"] != status || p["instance"] != instance || !p.contains("title"))
        return ::testing::AssertionFailure() << "problem fields, in " << o.body;
    return ::testing::AssertionSuccess();
}

class LambdaTest : public ::testing::Test {
protected:
    void SetUp() override { runtime_ = LambdaRuntime::command(kPlugins); }

    void TearDown() override {
        if (!runtime_) return;
        EXPECT_TRUE(runtime_->api.violations().empty())
            << "Runtime API protocol: " << json(runtime_->api.violations()).dump(2) << "\n" << runtime_->err();
        if (expect_running_) {
            EXPECT_TRUE(runtime_->process->running()) << "the runtime died:\n" << runtime_->err();
            runtime_->process->signal(SIGTERM);
        }
        (void)runtime_->process->wait_for(std::chrono::seconds(5));
    }

    FakeRuntimeApi::Outcome invoke(const json& event) { return runtime_->api.invoke(event); }
    // The answer of a response, or a failure when the invocation errored.
    json answer(const json& event) {
        const auto o = invoke(event);
        EXPECT_EQ(o.kind, Kind::Response) << o.describe() << "\n" << runtime_->err();
        return o.kind == Kind::Response ? o.json() : json();
    }

    std::unique_ptr<LambdaRuntime> runtime_;
    bool expect_running_ = true;
};

TEST_F(LambdaTest, HelloV2) {
    FakeRuntimeApi::Invocation inv{v2("GET", "/hello/world").dump(), "8476a536-e9f4-11e8-9739-2dfe598c3fcd"};
    const auto o = runtime_->api.invoke(inv);
    ASSERT_EQ(o.kind, Kind::Response) << o.describe() << "\n" << runtime_->err();
    const json a = o.json();
    EXPECT_EQ(a["statusCode"], 200);
    EXPECT_EQ(a["headers"]["Content-Type"], "application/json");
    EXPECT_EQ(a["headers"]["X-Request-Id"], "8476a536-e9f4-11e8-9739-2dfe598c3fcd");  // the invocation's id
    EXPECT_EQ(json::parse(a["body"].get<std::string>()), (json{{"message", "Hello, world!"}}));
    EXPECT_EQ(a["isBase64Encoded"], false);
    EXPECT_FALSE(a.contains("cookies"));
    // The runtime asks for the next event again, and names itself.
    EXPECT_TRUE(runtime_->api.wait_next_calls(2, std::chrono::seconds(5)));
    ASSERT_FALSE(runtime_->api.user_agents().empty());
    EXPECT_EQ(runtime_->api.user_agents().front().rfind("trellis/", 0), 0u) << runtime_->api.user_agents().front();
}

TEST_F(LambdaTest, HelloV1RestApi) {
    const json a = answer(v1("GET", "/hello/rest"));
    EXPECT_EQ(a["statusCode"], 200);
    EXPECT_EQ(a["multiValueHeaders"]["Content-Type"], (json{"application/json"}));
    EXPECT_FALSE(a.contains("headers"));
    EXPECT_EQ(json::parse(a["body"].get<std::string>())["message"], "Hello, rest!");
}

TEST_F(LambdaTest, HelloV1LoadBalancer) {
    const json a = answer(alb("GET", "/hello/alb"));
    EXPECT_EQ(a["statusCode"], 200);
    EXPECT_EQ(a["statusDescription"], "200 OK");
    EXPECT_EQ(a["headers"]["Content-Type"], "application/json");
    EXPECT_EQ(json::parse(a["body"].get<std::string>())["message"], "Hello, alb!");
}

TEST_F(LambdaTest, NotesCreateReadListOnSqlite) {
    const json created = answer(v2("POST", "/api/notes", "", {{"content-type", "application/json"}},
                                   json{{"title", "from lambda"}, {"tag", "aws"}}.dump()));
    ASSERT_EQ(created["statusCode"], 201) << created.dump();
    const json note = json::parse(created["body"].get<std::string>());
    ASSERT_TRUE(note["id"].is_number_integer()) << note.dump();
    const std::string id = std::to_string(note["id"].get<std::int64_t>());

    const json read = answer(v2("GET", "/api/notes/" + id));
    ASSERT_EQ(read["statusCode"], 200) << read.dump();
    EXPECT_EQ(json::parse(read["body"].get<std::string>())["title"], "from lambda");

    // The list, through payload 1.0 with its query parameters.
    const json list = answer(v1("GET", "/api/notes", {{"tag", {"aws"}}}));
    ASSERT_EQ(list["statusCode"], 200) << list.dump();
    const json items = json::parse(list["body"].get<std::string>())["items"];
    ASSERT_EQ(items.size(), 1u) << list.dump();
    EXPECT_EQ(items[0]["title"], "from lambda");
    EXPECT_TRUE(fs::exists(runtime_->dir.path() / "lambda.db"));
}

TEST_F(LambdaTest, Base64BodiesBothWays) {
    // A JSON body sent base64-encoded reaches the handler decoded.
    const json echoed = answer(v2("POST", "/echo", "", {{"content-type", "application/json"}},
                                  base64(R"({"a":[1,2]})"), true));
    ASSERT_EQ(echoed["statusCode"], 200) << echoed.dump();
    EXPECT_EQ(json::parse(echoed["body"].get<std::string>()), (json{{"a", {1, 2}}}));
    EXPECT_EQ(echoed["isBase64Encoded"], false);
    // Bytes that are not UTF-8 come back base64-encoded.
    const std::string bytes("\x00\xff\xfe\x80 binary", 11);
    const json binary = answer(v2("POST", "/probe/bytes", "", {{"content-type", "application/octet-stream"}},
                                  base64(bytes), true));
    ASSERT_EQ(binary["statusCode"], 200) << binary.dump();
    EXPECT_EQ(binary["isBase64Encoded"], true);
    EXPECT_EQ(binary["body"], base64(std::string(bytes.rbegin(), bytes.rend())));
    EXPECT_EQ(binary["headers"]["Content-Type"], "application/octet-stream");
}

TEST_F(LambdaTest, CookiesV2) {
    json event = v2("GET", "/probe/cookies");
    event["cookies"] = {"a=1", "b=2"};
    const json a = answer(event);
    ASSERT_EQ(a["statusCode"], 200) << a.dump();
    EXPECT_EQ(json::parse(a["body"].get<std::string>())["cookie"], "a=1; b=2");
    EXPECT_EQ(a["cookies"], (json{"session=abc123; Path=/; HttpOnly", "theme=dark; Expires=Wed, 21 Oct 2026 07:28:00 GMT"}));
    EXPECT_FALSE(a["headers"].contains("Set-Cookie")) << a.dump();
}

TEST_F(LambdaTest, CookiesV1) {
    json event = v1("GET", "/probe/cookies");
    event["multiValueHeaders"]["Cookie"] = {"a=1; b=2"};
    const json a = answer(event);
    ASSERT_EQ(a["statusCode"], 200) << a.dump();
    EXPECT_EQ(json::parse(a["body"].get<std::string>())["cookie"], "a=1; b=2");
    EXPECT_EQ(a["multiValueHeaders"]["Set-Cookie"],
              (json{"session=abc123; Path=/; HttpOnly", "theme=dark; Expires=Wed, 21 Oct 2026 07:28:00 GMT"}));
}

TEST_F(LambdaTest, NotFoundAndMethodNotAllowedAreProblems) {
    const auto missing = invoke(v2("GET", "/nowhere"));
    EXPECT_TRUE(IsProblemAnswer(missing, 404, "/nowhere"));
    const auto wrong = invoke(v2("DELETE", "/hello/world"));
    EXPECT_TRUE(IsProblemAnswer(wrong, 405, "/hello/world"));
    if (wrong.kind == Kind::Response) {
        EXPECT_EQ(wrong.json()["headers"]["Allow"], "GET, HEAD") << wrong.body;
    }
    const auto v1_missing = invoke(v1("GET", "/nowhere"));
    ASSERT_EQ(v1_missing.kind, Kind::Response) << v1_missing.describe();
    EXPECT_EQ(v1_missing.json()["statusCode"], 404);
    EXPECT_EQ(v1_missing.json()["multiValueHeaders"]["Content-Type"], (json{"application/problem+json"}));
}

TEST_F(LambdaTest, ThrowingHandlerIsAnHttp500NotAnInvocationError) {
    const auto o = invoke(v2("GET", "/f/faulty/throw"));
    EXPECT_TRUE(IsProblemAnswer(o, 500, "/f/faulty/throw"));
    EXPECT_EQ(o.body.find("SECRET"), std::string::npos) << o.body;
    EXPECT_TRUE(runtime_->wait_for_log("SECRET-internal-detail")) << runtime_->err();
    EXPECT_EQ(answer(v2("GET", "/hello/again"))["statusCode"], 200);
}

TEST_F(LambdaTest, UnknownEventShapeIsAnInvocationErrorAndTheLoopGoesOn) {
    const json s3 = {{"Records", {{{"eventSource", "aws:s3"}, {"eventName", "ObjectCreated:Put"}}}}};
    const auto o = invoke(s3);
    ASSERT_EQ(o.kind, Kind::Error) << o.describe();
    EXPECT_EQ(o.error_type, "Runtime.UnsupportedEvent");
    const json e = o.json();
    EXPECT_EQ(e["errorType"], "Runtime.UnsupportedEvent");
    const std::string message = e["errorMessage"];
    EXPECT_NE(message.find("expected an HTTP event"), std::string::npos) << message;
    EXPECT_NE(message.find("payload format 2.0"), std::string::npos) << message;
    EXPECT_NE(message.find("Records"), std::string::npos) << message;

    const auto not_json = runtime_->api.invoke(FakeRuntimeApi::Invocation{"not json at all"});
    EXPECT_EQ(not_json.kind, Kind::Error) << not_json.describe();

    EXPECT_EQ(answer(v2("GET", "/hello/after"))["statusCode"], 200);
}

TEST_F(LambdaTest, TraceIdIsSetPerInvocation) {
    FakeRuntimeApi::Invocation first{v2("GET", "/probe/env").dump()};
    first.trace_id = "Root=1-00000001-aaaaaaaaaaaaaaaaaaaaaaaa;Sampled=1";
    const auto a = runtime_->api.invoke(first);
    ASSERT_EQ(a.kind, Kind::Response) << a.describe();
    EXPECT_EQ(json::parse(a.json()["body"].get<std::string>())["trace"], first.trace_id);

    FakeRuntimeApi::Invocation second{v2("GET", "/probe/env").dump()};
    second.trace_id = "Root=1-00000002-bbbbbbbbbbbbbbbbbbbbbbbb;Sampled=0";
    const auto b = runtime_->api.invoke(second);
    ASSERT_EQ(b.kind, Kind::Response) << b.describe();
    EXPECT_EQ(json::parse(b.json()["body"].get<std::string>())["trace"], second.trace_id);

    FakeRuntimeApi::Invocation none{v2("GET", "/probe/env").dump()};
    none.trace_id.clear();
    const auto c = runtime_->api.invoke(none);
    ASSERT_EQ(c.kind, Kind::Response) << c.describe();
    EXPECT_TRUE(json::parse(c.json()["body"].get<std::string>())["trace"].is_null()) << c.body;
}

TEST_F(LambdaTest, ClientRequestIdWinsWhenSane) {
    const json a = answer(v2("GET", "/probe/env", "", {{"x-request-id", "client-id-7"}}));
    EXPECT_EQ(a["headers"]["X-Request-Id"], "client-id-7");
    EXPECT_EQ(json::parse(a["body"].get<std::string>())["request_id"], "client-id-7");
    FakeRuntimeApi::Invocation insane{v2("GET", "/probe/env", "", {{"x-request-id", "has spaces"}}).dump(), "inv-42"};
    const auto b = runtime_->api.invoke(insane);
    ASSERT_EQ(b.kind, Kind::Response) << b.describe();
    EXPECT_EQ(b.json()["headers"]["X-Request-Id"], "inv-42");
    EXPECT_TRUE(runtime_->wait_for_log("inv-42")) << "the access log names the request id:\n" << runtime_->err();
}

TEST_F(LambdaTest, AnswerAfterTheDeadlineIsPostedAndLogged) {
    FakeRuntimeApi::Invocation late{v2("GET", "/hello/late").dump()};
    late.deadline_ms = unix_ms() - 1000;
    const auto o = runtime_->api.invoke(late);
    ASSERT_EQ(o.kind, Kind::Response) << o.describe();
    EXPECT_TRUE(runtime_->wait_for_log("after its deadline")) << runtime_->err();
}

TEST_F(LambdaTest, PluginsSeeTheInvocationDeadline) {
    for (const std::int64_t due : {unix_ms() + 12345, unix_ms() + 900000}) {
        FakeRuntimeApi::Invocation inv{v2("GET", "/dl/deadline").dump()};
        inv.deadline_ms = due;
        const auto o = runtime_->api.invoke(inv);
        ASSERT_EQ(o.kind, Kind::Response) << o.describe() << "\n" << runtime_->err();
        const json a = o.json();
        ASSERT_EQ(a["statusCode"], 200) << o.body;
        const json seen = json::parse(a["body"].get<std::string>());
        EXPECT_EQ(seen["deadline_ms"], due) << "exactly Lambda-Runtime-Deadline-Ms: " << o.body;
        EXPECT_EQ(a["headers"]["X-Deadline-Hook"], std::to_string(due)) << "the hook sees it too: " << o.body;
    }
    // Past it: the plugin sees so (and gives up), and the late answer is logged.
    FakeRuntimeApi::Invocation late{v2("GET", "/dl/deadline/guarded", "need_ms=0").dump()};
    late.deadline_ms = unix_ms() - 1000;
    const auto o = runtime_->api.invoke(late);
    EXPECT_TRUE(IsProblemAnswer(o, 503, "/dl/deadline/guarded"));
    EXPECT_TRUE(runtime_->wait_for_log("after its deadline")) << runtime_->err();
}

TEST_F(LambdaTest, ExitsWhenTheRuntimeApiGoesAway) {
    ASSERT_EQ(answer(v2("GET", "/hello/world"))["statusCode"], 200);
    ASSERT_TRUE(runtime_->api.wait_next_calls(2, std::chrono::seconds(5)));
    runtime_->api.shut_down();
    const auto status = runtime_->process->wait_for(std::chrono::seconds(10));
    ASSERT_TRUE(status) << "still running after the Runtime API went away\n" << runtime_->err();
    EXPECT_TRUE(status->exited && status->code == 1) << status->describe() << "\n" << runtime_->err();
    expect_running_ = false;
}

TEST(LambdaLimits, BodyOverMaxRequestBytesIs413) {
    auto runtime = LambdaRuntime::command(kPlugins, {.server_extra = "  max_request_bytes: 1KiB\n"});
    const std::string small = json{{"text", std::string(900, 'a')}}.dump();
    const auto fits = runtime->api.invoke(v2("POST", "/echo", "", {{"content-type", "application/json"}}, small));
    ASSERT_EQ(fits.kind, Kind::Response) << fits.describe() << "\n" << runtime->err();
    EXPECT_EQ(fits.json()["statusCode"], 200);
    const std::string large = json{{"text", std::string(2000, 'a')}}.dump();
    const auto refused = runtime->api.invoke(v2("POST", "/echo", "", {{"content-type", "application/json"}}, large));
    EXPECT_TRUE(IsProblemAnswer(refused, 413, "/echo"));
    EXPECT_NE(refused.body.find("1024 bytes"), std::string::npos) << refused.body;
    EXPECT_TRUE(runtime->api.violations().empty()) << json(runtime->api.violations()).dump();
    runtime->process->signal(SIGTERM);
}

TEST_F(LambdaTest, AnswerLambdaRefusesAsTooLargeIsAnInvocationError) {
    runtime_->api.set_response_limit(4096);
    const std::string body = json{{"text", std::string(6000, 'x')}}.dump();
    const auto o = runtime_->api.invoke(v2("POST", "/echo", "", {{"content-type", "application/json"}}, body));
    ASSERT_EQ(o.kind, Kind::Error) << o.describe();
    EXPECT_EQ(o.error_type, "Runtime.ResponseTooLarge");
    EXPECT_EQ(answer(v2("GET", "/hello/small"))["statusCode"], 200);
}

// ---- init ---------------------------------------------------------------------

TEST(LambdaInit, BrokenConfigurationIsAnInitErrorAndExit1) {
    auto runtime = LambdaRuntime::command(kPlugins, {.server_extra = "  prot: 8080\n"});
    const auto error = runtime->api.wait_init_error(std::chrono::seconds(10));
    ASSERT_TRUE(error) << runtime->err();
    EXPECT_EQ(error->error_type, "Runtime.InitError");
    const json body = json::parse(error->body);
    EXPECT_EQ(body["errorType"], "Runtime.InitError");
    EXPECT_NE(body["errorMessage"].get<std::string>().find("server.prot: unknown key"), std::string::npos) << error->body;
    const auto status = runtime->process->wait_for(std::chrono::seconds(10));
    ASSERT_TRUE(status) << runtime->err();
    EXPECT_TRUE(status->exited && status->code == 1) << status->describe();
    EXPECT_EQ(runtime->api.next_calls(), 0);
    EXPECT_TRUE(runtime->api.violations().empty()) << json(runtime->api.violations()).dump();
    EXPECT_NE(runtime->err().find("server.prot"), std::string::npos) << "the problem is in the function's log too";
}

TEST(LambdaInit, RefusedPluginIsAnInitError) {
    auto runtime = LambdaRuntime::command("  nosuchplugin: {mount: /}\n");
    const auto error = runtime->api.wait_init_error(std::chrono::seconds(10));
    ASSERT_TRUE(error) << runtime->err();
    EXPECT_NE(json::parse(error->body)["errorMessage"].get<std::string>().find("nosuchplugin"), std::string::npos)
        << error->body;
    const auto status = runtime->process->wait_for(std::chrono::seconds(10));
    ASSERT_TRUE(status && status->exited && status->code == 1) << runtime->err();
}

TEST(LambdaInit, WithoutTheRuntimeApiItIsAUsageError) {
    const RunResult r = run_program({"/usr/bin/env", "-u", "AWS_LAMBDA_RUNTIME_API", trellis_binary().string(),
                                     "lambda", "-c", "/nonexistent.yaml"});
    EXPECT_TRUE(r.status.exited && r.status.code == 2) << r.describe();
    EXPECT_NE(r.err.find("AWS_LAMBDA_RUNTIME_API"), std::string::npos) << r.describe();
}

// ---- started as `bootstrap` ------------------------------------------------------

std::string plugin_path_block() {
    return "plugin_path:\n  - " + plugin_dir().string() + "\n  - " + test_plugin_dir().string() + "\n  - " +
           lambda_plugin_dir().string() + "\n";
}

TEST(LambdaBootstrap, ReadsTrellisYamlFromTheTaskRoot) {
    LambdaRuntime runtime;
    HostOptions options = LambdaRuntime::with_database(runtime.dir, {});
    options.top_level_extra += plugin_path_block();
    runtime.dir.write("task/trellis.yaml", config_yaml(free_port(), kPlugins, options));
    const fs::path bootstrap = runtime.dir.path() / "task" / "bootstrap";
    fs::create_symlink(trellis_binary(), bootstrap);
    runtime.launch({"LAMBDA_TASK_ROOT=" + (runtime.dir.path() / "task").string(), "TRELLIS_CONFIG="},
                   {bootstrap.string()});
    const auto o = runtime.api.invoke(v2("GET", "/hello/bootstrap"));
    ASSERT_EQ(o.kind, Kind::Response) << o.describe() << "\n" << runtime.err();
    EXPECT_EQ(json::parse(o.json()["body"].get<std::string>())["message"], "Hello, bootstrap!");
    EXPECT_TRUE(runtime.api.violations().empty()) << json(runtime.api.violations()).dump();
    runtime.process->signal(SIGTERM);
}

TEST(LambdaBootstrap, TrellisConfigNamesTheFile) {
    LambdaRuntime runtime;
    HostOptions options = LambdaRuntime::with_database(runtime.dir, {});
    options.top_level_extra += plugin_path_block();
    const fs::path config = runtime.dir.write("elsewhere/app.yaml", config_yaml(free_port(), kPlugins, options));
    const fs::path bootstrap = runtime.dir.path() / "bootstrap";
    fs::create_symlink(trellis_binary(), bootstrap);
    runtime.launch({"LAMBDA_TASK_ROOT=" + runtime.dir.path().string(), "TRELLIS_CONFIG=" + config.string()},
                   {bootstrap.string()});
    const auto o = runtime.api.invoke(v1("GET", "/hello/config"));
    ASSERT_EQ(o.kind, Kind::Response) << o.describe() << "\n" << runtime.err();
    EXPECT_EQ(json::parse(o.json()["body"].get<std::string>())["message"], "Hello, config!");
    runtime.process->signal(SIGTERM);
}

TEST(LambdaBootstrap, WithoutTheRuntimeApiItIsTheOrdinaryCommandLine) {
    TempDir dir;
    const fs::path bootstrap = dir.path() / "bootstrap";
    fs::create_symlink(trellis_binary(), bootstrap);
    const RunResult r = run_program({"/usr/bin/env", "-u", "AWS_LAMBDA_RUNTIME_API", bootstrap.string(), "--version"});
    EXPECT_TRUE(r.status.exited && r.status.code == 0) << r.describe();
    EXPECT_EQ(r.out.rfind("trellis ", 0), 0u) << r.describe();
}

}  // namespace
}  // namespace e2e
