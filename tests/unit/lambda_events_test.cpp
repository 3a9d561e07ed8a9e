// The Lambda front's event conversion (front/lambda_events.*) and its
// base64/UTF-8 helpers, without sockets. The fixtures follow the example
// events of the AWS documentation (API Gateway, "payload format version"
// 2.0 and 1.0; Elastic Load Balancing, "Lambda functions as targets"):
// the same shape and field names, written out here.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "base/base64.hpp"
#include "base/utf8.hpp"
#include "front/lambda_events.hpp"

namespace trellis::front {
namespace {

using nlohmann::json;

// API Gateway HTTP API, payload format 2.0 (the documentation's example).
constexpr std::string_view kHttpApiV2 = R"json({
  "version": "2.0",
  "routeKey": "$default",
  "rawPath": "/my/path",
  "rawQueryString": "parameter1=value1&parameter1=value2&parameter2=value",
  "cookies": ["cookie1", "cookie2"],
  "headers": {"header1": "value1", "header2": "value1,value2"},
  "queryStringParameters": {"parameter1": "value1,value2", "parameter2": "value"},
  "requestContext": {
    "accountId": "123456789012",
    "apiId": "api-id",
    "authentication": {
      "clientCert": {
        "clientCertPem": "CERT_CONTENT",
        "subjectDN": "www.example.com",
        "issuerDN": "Example issuer",
        "serialNumber": "a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1",
        "validity": {"notBefore": "May 28 12:30:02 2019 GMT", "notAfter": "Aug  5 09:36:04 2021 GMT"}
      }
    },
    "authorizer": {"jwt": {"claims": {"claim1": "value1", "claim2": "value2"}, "scopes": ["scope1", "scope2"]}},
    "domainName": "id.execute-api.us-east-1.amazonaws.com",
    "domainPrefix": "id",
    "http": {"method": "POST", "path": "/my/path", "protocol": "HTTP/1.1", "sourceIp": "192.0.2.1", "userAgent": "agent"},
    "requestId": "id",
    "routeKey": "$default",
    "stage": "$default",
    "time": "12/Mar/2020:19:03:58 +0000",
    "timeEpoch": 1583348638390
  },
  "body": "Hello from Lambda",
  "pathParameters": {"parameter1": "value1"},
  "isBase64Encoded": false,
  "stageVariables": {"stageVariable1": "value1", "stageVariable2": "value2"}
})json";

// API Gateway REST API, payload format 1.0 (the documentation's example).
constexpr std::string_view kRestApiV1 = R"json({
  "version": "1.0",
  "resource": "/my/path",
  "path": "/my/path",
  "httpMethod": "GET",
  "headers": {"header1": "value1", "header2": "value2"},
  "multiValueHeaders": {"header1": ["value1"], "header2": ["value1", "value2"]},
  "queryStringParameters": {"parameter1": "value1", "parameter2": "value"},
  "multiValueQueryStringParameters": {"parameter1": ["value1", "value2"], "parameter2": ["value"]},
  "requestContext": {
    "accountId": "123456789012",
    "apiId": "id",
    "authorizer": {"claims": null, "scopes": null},
    "domainName": "id.execute-api.us-east-1.amazonaws.com",
    "domainPrefix": "id",
    "extendedRequestId": "request-id",
    "httpMethod": "GET",
    "identity": {
      "accessKey": null, "accountId": null, "caller": null, "cognitoAuthenticationProvider": null,
      "cognitoAuthenticationType": null, "cognitoIdentityId": null, "cognitoIdentityPoolId": null,
      "principalOrgId": null, "sourceIp": "192.0.2.1", "user": null, "userAgent": "user-agent", "userArn": null
    },
    "path": "/my/path",
    "protocol": "HTTP/1.1",
    "requestId": "id=",
    "requestTime": "04/Mar/2020:19:15:17 +0000",
    "requestTimeEpoch": 1583349317135,
    "resourceId": null,
    "resourcePath": "/my/path",
    "stage": "$default"
  },
  "pathParameters": null,
  "stageVariables": null,
  "body": "Hello from Lambda!",
  "isBase64Encoded": false
})json";

// Application Load Balancer, multi-value headers off (the ELB guide's example).
constexpr std::string_view kAlb = R"json({
  "requestContext": {
    "elb": {"targetGroupArn": "arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/lambda-279XGJDqGZ5rsrHC2Fjr/49e9d65c45c6791a"}
  },
  "httpMethod": "GET",
  "path": "/lambda",
  "queryStringParameters": {"query": "1234ABCD"},
  "headers": {
    "accept": "text/html,application/xhtml+xml,application/xml;q=0.9,image/webp,image/apng,*/*;q=0.8",
    "accept-encoding": "gzip",
    "accept-language": "en-US,en;q=0.9",
    "connection": "keep-alive",
    "host": "lambda-alb-123578498.us-east-2.elb.amazonaws.com",
    "upgrade-insecure-requests": "1",
    "user-agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
    "x-amzn-trace-id": "Root=1-5c536348-3d683b8b04734faae651f476",
    "x-forwarded-for": "72.12.164.125",
    "x-forwarded-port": "80",
    "x-forwarded-proto": "http",
    "x-imforwards": "20"
  },
  "body": "",
  "isBase64Encoded": false
})json";

std::string replaced(std::string_view text, std::string_view from, std::string_view to) {
    std::string out(text);
    const auto at = out.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) out.replace(at, from.size(), to);
    return out;
}

std::size_t header_count(const app::Request& r, std::string_view name) {
    std::size_t n = 0;
    for (const auto& [key, value] : r.headers) n += key == name;
    return n;
}

TEST(LambdaEvents, HttpApiV2) {
    LambdaHttpEvent e;
    ASSERT_EQ(parse_lambda_event(kHttpApiV2, e), "");
    const auto& r = e.request;
    EXPECT_EQ(e.payload, LambdaPayload::V2);
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.path, "/my/path");
    EXPECT_EQ(r.query, "parameter1=value1&parameter1=value2&parameter2=value");
    EXPECT_EQ(r.target, "/my/path?parameter1=value1&parameter1=value2&parameter2=value");
    EXPECT_EQ(r.header("Header1"), "value1");
    EXPECT_EQ(r.header("header2"), "value1,value2");  // duplicates arrive comma-joined: kept as one
    EXPECT_EQ(r.header("Cookie"), "cookie1; cookie2");
    EXPECT_EQ(header_count(r, "cookie"), 1u);
    EXPECT_EQ(r.body, "Hello from Lambda");
    EXPECT_EQ(r.remote, "192.0.2.1");
    EXPECT_EQ(e.context_request_id, "id");
    ASSERT_EQ(r.query_pairs().size(), 3u);
    EXPECT_EQ(r.query_pairs()[1].second, "value2");
}

TEST(LambdaEvents, FunctionUrlV2WithoutQueryCookiesOrBody) {
    // A function URL's GET: the same format, with the optional fields absent.
    LambdaHttpEvent e;
    ASSERT_EQ(parse_lambda_event(R"({"version":"2.0","routeKey":"$default","rawPath":"/hello/world",
        "rawQueryString":"","headers":{"host":"abc.lambda-url.us-east-1.on.aws"},
        "requestContext":{"http":{"method":"GET","path":"/hello/world","sourceIp":"198.51.100.7"},"requestId":"r1"},
        "isBase64Encoded":false})",
                                 e),
              "");
    EXPECT_EQ(e.request.target, "/hello/world");
    EXPECT_EQ(e.request.query, "");
    EXPECT_EQ(e.request.body, "");
    EXPECT_FALSE(e.request.header("cookie"));
    EXPECT_EQ(e.request.header("Host"), "abc.lambda-url.us-east-1.on.aws");
}

TEST(LambdaEvents, Base64Body) {
    LambdaHttpEvent e;
    const std::string event = replaced(replaced(kHttpApiV2, R"("body": "Hello from Lambda")", R"("body": "AP8Qe30=")"),
                                       R"("isBase64Encoded": false)", R"("isBase64Encoded": true)");
    ASSERT_EQ(parse_lambda_event(event, e), "");
    EXPECT_EQ(e.request.body, std::string("\x00\xff\x10{}", 5));
}

TEST(LambdaEvents, BadBase64BodyIsRefused) {
    LambdaHttpEvent e;
    const std::string event = replaced(replaced(kHttpApiV2, R"("body": "Hello from Lambda")", R"("body": "not base64!")"),
                                       R"("isBase64Encoded": false)", R"("isBase64Encoded": true)");
    const std::string why = parse_lambda_event(event, e);
    EXPECT_NE(why.find("payload format 2.0"), std::string::npos) << why;
    EXPECT_NE(why.find("base64"), std::string::npos) << why;
}

TEST(LambdaEvents, RestApiV1) {
    LambdaHttpEvent e;
    ASSERT_EQ(parse_lambda_event(kRestApiV1, e), "");
    const auto& r = e.request;
    EXPECT_EQ(e.payload, LambdaPayload::V1);
    EXPECT_TRUE(e.multi_value_headers);
    EXPECT_FALSE(e.load_balancer);
    EXPECT_EQ(r.method, "GET");
    EXPECT_EQ(r.path, "/my/path");
    EXPECT_EQ(r.query, "parameter1=value1&parameter1=value2&parameter2=value");
    EXPECT_EQ(r.target, "/my/path?parameter1=value1&parameter1=value2&parameter2=value");
    EXPECT_EQ(header_count(r, "header2"), 2u);  // multiValueHeaders win over headers
    EXPECT_EQ(r.header("header2"), "value1");
    EXPECT_EQ(r.body, "Hello from Lambda!");
    EXPECT_EQ(r.remote, "192.0.2.1");
    EXPECT_EQ(e.context_request_id, "id=");
}

TEST(LambdaEvents, RestApiV1QueryValuesAreEncodedAgain) {
    // API Gateway hands over decoded values; the request's query is as sent.
    LambdaHttpEvent e;
    ASSERT_EQ(parse_lambda_event(R"({"httpMethod":"GET","path":"/search",
        "multiValueQueryStringParameters":{"q":["a b&c=d/é"],"tag":["x"]},"requestContext":{"requestId":"x"}})", e),
              "");
    EXPECT_EQ(e.request.query, "q=a%20b%26c%3Dd%2F%C3%A9&tag=x");
    EXPECT_FALSE(e.multi_value_headers);
}

TEST(LambdaEvents, RestApiV1SingleValueFields) {
    LambdaHttpEvent e;
    ASSERT_EQ(parse_lambda_event(R"({"httpMethod":"DELETE","path":"/x","headers":{"X-A":"1"},
        "queryStringParameters":{"k":"v"},"multiValueQueryStringParameters":null,"body":null})", e),
              "");
    EXPECT_EQ(e.request.query, "k=v");
    EXPECT_EQ(e.request.header("x-a"), "1");
    EXPECT_EQ(e.request.body, "");
}

TEST(LambdaEvents, LoadBalancer) {
    LambdaHttpEvent e;
    ASSERT_EQ(parse_lambda_event(kAlb, e), "");
    EXPECT_TRUE(e.load_balancer);
    EXPECT_FALSE(e.multi_value_headers);
    EXPECT_EQ(e.request.target, "/lambda?query=1234ABCD");
    EXPECT_EQ(e.request.header("Host"), "lambda-alb-123578498.us-east-2.elb.amazonaws.com");
    EXPECT_EQ(e.request.remote, "72.12.164.125");  // from X-Forwarded-For: an ALB event names no source IP
}

TEST(LambdaEvents, LoadBalancerQueryIsPassedAsSent) {
    LambdaHttpEvent e;
    ASSERT_EQ(parse_lambda_event(replaced(kAlb, R"({"query": "1234ABCD"})", R"({"q": "a%20b"})"), e), "");
    EXPECT_EQ(e.request.query, "q=a%20b");
}

TEST(LambdaEvents, OtherShapesNameWhatWasExpected) {
    for (const std::string_view event :
         {std::string_view(R"({"Records":[{"eventSource":"aws:s3","s3":{}}]})"),
          std::string_view(R"({"version":"2.0","rawPath":"/"})"), std::string_view(R"([1,2])"),
          std::string_view("not json"), std::string_view("{}")}) {
        LambdaHttpEvent e;
        const std::string why = parse_lambda_event(event, e);
        EXPECT_NE(why.find("expected an HTTP event"), std::string::npos) << event << ": " << why;
        EXPECT_NE(why.find("payload format 2.0"), std::string::npos) << why;
        EXPECT_NE(why.find("payload format 1.0"), std::string::npos) << why;
    }
    LambdaHttpEvent e;
    EXPECT_NE(parse_lambda_event(R"({"Records":[]})", e).find("its keys: Records"), std::string::npos);
}

TEST(LambdaEvents, MistypedFieldsAreRefused) {
    LambdaHttpEvent a, b, c;
    EXPECT_NE(parse_lambda_event(replaced(kHttpApiV2, R"("rawPath": "/my/path")", R"("rawPath": 7)"), a)
                  .find("rawPath is not a string"),
              std::string::npos);
    EXPECT_NE(parse_lambda_event(R"({"httpMethod":"GET"})", b).find("path is missing"), std::string::npos);
    EXPECT_NE(parse_lambda_event(R"({"httpMethod":"GET","path":"/","multiValueHeaders":{"a":"b"}})", c)
                  .find("multiValueHeaders.a is not a list"),
              std::string::npos);
}

// Found by fuzz/fuzz_lambda_events: what a socket client cannot send (an
// empty or non-token header name, CR/LF/NUL in a value, a method that is not
// a token) is not handed to plugins from an event either.
TEST(LambdaEvents, HeadersAndMethodsAClientCouldNotSendAreRefused) {
    const auto why = [](const std::string& event) {
        LambdaHttpEvent out;
        return parse_lambda_event(event, out);
    };
    EXPECT_EQ(why(R"({"httpMethod":"GET","path":"/","headers":{"":"x"}})"),
              "payload format 1.0: header name '' is not an HTTP token");
    EXPECT_EQ(why(R"({"httpMethod":"GET","path":"/","headers":{"a b":"x"}})"),
              "payload format 1.0: header name 'a b' is not an HTTP token");
    EXPECT_EQ(why(R"({"httpMethod":"GET","path":"/","multiValueHeaders":{"x-a":["ok","bad\r\nSet-Cookie: y"]}})"),
              "payload format 1.0: header 'x-a' holds CR, LF or NUL");
    EXPECT_EQ(why(R"({"version":"2.0","rawPath":"/","headers":{"x":"a\u0000b"},"requestContext":{"http":{"method":"GET"}}})"),
              "payload format 2.0: header 'x' holds CR, LF or NUL");
    EXPECT_EQ(why(R"({"httpMethod":"GE T","path":"/"})"), "payload format 1.0: the method 'GE T' is not an HTTP token");
    EXPECT_EQ(why(R"({"httpMethod":"GET","path":"/","headers":{"x-ok":"fine"}})"), "");
    const std::string path_rule = "payload format 1.0: the path must start with '/' and hold no spaces or control characters";
    EXPECT_EQ(why(R"({"httpMethod":"GET","path":"hello"})"), path_rule);
    EXPECT_EQ(why(R"({"httpMethod":"GET","path":"/a b"})"), path_rule);
    EXPECT_EQ(why(R"({"httpMethod":"GET","path":"/a\r\nX-Injected: 1"})"), path_rule);
    EXPECT_EQ(why(R"({"version":"2.0","rawPath":"/x","rawQueryString":"a=1\u0000","requestContext":{"http":{"method":"GET"}}})"),
              "payload format 2.0: the query string holds spaces or control characters");
    EXPECT_EQ(why(R"({"version":"2.0","rawPath":"/x","rawQueryString":"a=1&b=%20","requestContext":{"http":{"method":"GET"}}})"), "");
}

TEST(LambdaEvents, RequestId) {
    LambdaHttpEvent e;
    ASSERT_EQ(parse_lambda_event(kHttpApiV2, e), "");
    EXPECT_EQ(lambda_request_id(e.request, "8476a536-e9f4-11e8-9739-2dfe598c3fcd"),
              "8476a536-e9f4-11e8-9739-2dfe598c3fcd");
    LambdaHttpEvent sane;
    ASSERT_EQ(parse_lambda_event(replaced(kHttpApiV2, R"("header1": "value1")", R"("x-request-id": "client-42")"), sane),
              "");
    EXPECT_EQ(lambda_request_id(sane.request, "8476a536"), "client-42");
    LambdaHttpEvent insane;
    ASSERT_EQ(parse_lambda_event(replaced(kHttpApiV2, R"("header1": "value1")", R"("x-request-id": "no spaces")"),
                                 insane),
              "");
    EXPECT_EQ(lambda_request_id(insane.request, "8476a536"), "8476a536");
    EXPECT_EQ(lambda_request_id(insane.request, "").size(), 16u);  // generated
}

app::Response sample_response() {
    app::Response r;
    r.status = 201;
    r.content_type = "application/json";
    r.headers = {{"Set-Cookie", "a=1; Path=/; Expires=Wed, 21 Oct 2026 07:28:00 GMT"},
                 {"X-Multi", "one"},
                 {"Set-Cookie", "b=2"},
                 {"x-multi", "two"}};
    r.body = R"({"ok":true})";
    return r;
}

TEST(LambdaEvents, AnswerV2) {
    LambdaHttpEvent e;
    ASSERT_EQ(parse_lambda_event(kHttpApiV2, e), "");
    const json a = json::parse(lambda_answer_json(sample_response(), e, "rid-1"));
    EXPECT_EQ(a["statusCode"], 201);
    EXPECT_EQ(a["headers"], (json{{"Content-Type", "application/json"}, {"X-Multi", "one, two"}, {"X-Request-Id", "rid-1"}}));
    EXPECT_EQ(a["cookies"], (json{"a=1; Path=/; Expires=Wed, 21 Oct 2026 07:28:00 GMT", "b=2"}));
    EXPECT_EQ(a["body"], R"({"ok":true})");
    EXPECT_EQ(a["isBase64Encoded"], false);
    EXPECT_FALSE(a.contains("multiValueHeaders"));
    EXPECT_FALSE(a.contains("statusDescription"));
}

TEST(LambdaEvents, AnswerV1MultiValue) {
    LambdaHttpEvent e;
    ASSERT_EQ(parse_lambda_event(kRestApiV1, e), "");
    const json a = json::parse(lambda_answer_json(sample_response(), e, "rid-1"));
    EXPECT_EQ(a["statusCode"], 201);
    EXPECT_EQ(a["multiValueHeaders"]["Set-Cookie"], (json{"a=1; Path=/; Expires=Wed, 21 Oct 2026 07:28:00 GMT", "b=2"}));
    EXPECT_EQ(a["multiValueHeaders"]["X-Multi"], (json{"one", "two"}));
    EXPECT_EQ(a["multiValueHeaders"]["X-Request-Id"], (json{"rid-1"}));
    EXPECT_FALSE(a.contains("cookies"));
    EXPECT_FALSE(a.contains("headers"));
}

TEST(LambdaEvents, AnswerLoadBalancer) {
    LambdaHttpEvent e;
    ASSERT_EQ(parse_lambda_event(kAlb, e), "");
    app::Response r;
    r.status = 404;
    r.content_type = "application/problem+json";
    r.body = "{}";
    const json a = json::parse(lambda_answer_json(r, e, "rid"));
    EXPECT_EQ(a["statusDescription"], "404 Not Found");
    EXPECT_EQ(a["headers"]["Content-Type"], "application/problem+json");
    EXPECT_EQ(a["isBase64Encoded"], false);
}

TEST(LambdaEvents, BinaryAnswerIsBase64) {
    LambdaHttpEvent e;
    ASSERT_EQ(parse_lambda_event(kHttpApiV2, e), "");
    app::Response r;
    r.content_type = "image/png";
    r.body = std::string("\x89PNG\r\n\x1a\n\0\xff", 10);
    const json a = json::parse(lambda_answer_json(r, e, "rid"));
    EXPECT_EQ(a["isBase64Encoded"], true);
    EXPECT_EQ(base64_decode(a["body"].get<std::string>()), r.body);
    EXPECT_EQ(a["headers"]["Content-Type"], "image/png");
}

TEST(LambdaEvents, TextAnswerGetsTheDefaultContentType) {
    LambdaHttpEvent e;
    ASSERT_EQ(parse_lambda_event(kHttpApiV2, e), "");
    app::Response r;
    r.body = "grüß dich";
    const json a = json::parse(lambda_answer_json(r, e, "rid"));
    EXPECT_EQ(a["headers"]["Content-Type"], "text/plain; charset=utf-8");
    EXPECT_EQ(a["body"], "grüß dich");
    EXPECT_EQ(a["isBase64Encoded"], false);
}

TEST(LambdaEvents, NoBodyForHeadAnd204) {
    LambdaHttpEvent head;
    ASSERT_EQ(parse_lambda_event(replaced(kHttpApiV2, R"("method": "POST")", R"("method": "HEAD")"), head), "");
    app::Response r;
    r.body = "the GET body";
    EXPECT_EQ(json::parse(lambda_answer_json(r, head, "rid"))["body"], "");
    LambdaHttpEvent post;
    ASSERT_EQ(parse_lambda_event(kHttpApiV2, post), "");
    r.status = 204;
    EXPECT_EQ(json::parse(lambda_answer_json(r, post, "rid"))["body"], "");
}

TEST(LambdaEvents, HeaderValuesThatAreNotUtf8DoNotThrow) {
    LambdaHttpEvent e;
    ASSERT_EQ(parse_lambda_event(kHttpApiV2, e), "");
    app::Response r;
    r.headers = {{"X-Bytes", "\xff\xfe"}};
    EXPECT_NO_THROW(json::parse(lambda_answer_json(r, e, "rid")));
}

TEST(Base64, Rfc4648Vectors) {
    const std::pair<std::string_view, std::string_view> vectors[] = {
        {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"}, {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="},
        {"foobar", "Zm9vYmFy"}};
    for (const auto& [plain, encoded] : vectors) {
        EXPECT_EQ(base64_encode(plain), encoded);
        EXPECT_EQ(base64_decode(encoded), std::string(plain));
    }
    EXPECT_EQ(base64_decode("Zm8"), "fo");  // unpadded
    EXPECT_EQ(base64_encode(std::string("\xfb\xff", 2)), "+/8=");
}

TEST(Base64, RefusesWhatIsNotBase64) {
    for (const std::string_view bad : {"Zm9v!", "Z", "Zm9vY", "Zg=", "Zg===", "Z=g=", "Zm 9v", "Zh==", "Zm9=v"})
        EXPECT_FALSE(base64_decode(bad)) << bad;
}

TEST(Base64, RoundTripsEveryByte) {
    std::string all;
    for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
    for (std::size_t n = 0; n <= all.size(); n += 37) EXPECT_EQ(base64_decode(base64_encode(all.substr(0, n))), all.substr(0, n));
}

TEST(Utf8, WellFormedOnly) {
    EXPECT_TRUE(is_valid_utf8(""));
    EXPECT_TRUE(is_valid_utf8("plain ascii"));
    EXPECT_TRUE(is_valid_utf8("\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));  // é € 😀
    EXPECT_FALSE(is_valid_utf8("\xff"));
    EXPECT_FALSE(is_valid_utf8("\xc3"));              // truncated
    EXPECT_FALSE(is_valid_utf8("\xc0\xaf"));          // overlong '/'
    EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));      // a surrogate
    EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // above U+10FFFF
    EXPECT_FALSE(is_valid_utf8("\x80"));              // a lone continuation byte
}

}  // namespace
}  // namespace trellis::front
