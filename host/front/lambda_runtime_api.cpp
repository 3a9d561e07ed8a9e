#include "front/lambda_runtime_api.hpp"

#include <charconv>
#include <mutex>
#include <utility>
#include <vector>

#include <curl/curl.h>
#include <nlohmann/json.hpp>

#include "base/text.hpp"

namespace trellis::front {

namespace {

constexpr std::string_view kUserAgent = "trellis/" TRELLIS_VERSION;

std::size_t append_body(char* data, std::size_t size, std::size_t count, void* out) {
    static_cast<std::string*>(out)->append(data, size * count);
    return size * count;
}

// Each header line of the answer ("Name: value\r\n"); the status line and
// the blank line have no colon and are skipped.
std::size_t append_header(char* data, std::size_t size, std::size_t count, void* out) {
    const std::string_view line(data, size * count);
    if (const auto colon = line.find(':'); colon != std::string_view::npos) {
        std::string_view value = line.substr(colon + 1);
        while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) value.remove_suffix(1);
        static_cast<std::vector<std::pair<std::string, std::string>>*>(out)->emplace_back(
            std::string(line.substr(0, colon)), std::string(trim_ows(value)));
    }
    return size * count;
}

}  // namespace

struct LambdaRuntimeApi::Curl {
    CURL* handle = nullptr;
    curl_slist* json_headers = nullptr;
    std::vector<std::pair<std::string, std::string>> answer_headers;

    Curl() {
        static std::once_flag once;
        std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
        handle = curl_easy_init();
        if (!handle) throw RuntimeApiError("libcurl: cannot create a handle");
    }
    ~Curl() {
        curl_slist_free_all(json_headers);
        curl_easy_cleanup(handle);
    }

    // Options every call shares; curl_easy_reset keeps the open connection,
    // so calls after the first reuse it.
    void prepare(const std::string& url, std::string& body) {
        curl_easy_reset(handle);
        answer_headers.clear();
        curl_easy_setopt(handle, CURLOPT_URL, url.c_str());
        curl_easy_setopt(handle, CURLOPT_USERAGENT, kUserAgent.data());
        // The Runtime API is local: an http_proxy in the function's
        // environment must not capture it.
        curl_easy_setopt(handle, CURLOPT_NOPROXY, "*");
        curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
        curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, 0L);
        curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, append_body);
        curl_easy_setopt(handle, CURLOPT_WRITEDATA, &body);
        curl_easy_setopt(handle, CURLOPT_HEADERFUNCTION, append_header);
        curl_easy_setopt(handle, CURLOPT_HEADERDATA, &answer_headers);
    }

    long perform(const std::string& url) {
        const CURLcode code = curl_easy_perform(handle);
        if (code != CURLE_OK)
            throw RuntimeApiError("Lambda Runtime API " + url + ": " + curl_easy_strerror(code));
        long status = 0;
        curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &status);
        return status;
    }

    std::string header(std::string_view name) const {
        for (const auto& [key, value] : answer_headers)
            if (iequals(key, name)) return value;
        return {};
    }
};

LambdaRuntimeApi::LambdaRuntimeApi(std::string endpoint)
    : curl_(std::make_unique<Curl>()), base_("http://" + std::move(endpoint) + "/2018-06-01") {}

LambdaRuntimeApi::~LambdaRuntimeApi() = default;

LambdaInvocation LambdaRuntimeApi::next() {
    const std::string url = base_ + "/runtime/invocation/next";
    LambdaInvocation invocation;
    curl_->prepare(url, invocation.event);
    curl_easy_setopt(curl_->handle, CURLOPT_HTTPGET, 1L);
    const long status = curl_->perform(url);
    if (status != 200)
        throw RuntimeApiError("Lambda Runtime API " + url + " answered " + std::to_string(status) + ": " +
                              invocation.event, status);
    invocation.id = curl_->header("Lambda-Runtime-Aws-Request-Id");
    if (invocation.id.empty())
        throw RuntimeApiError("Lambda Runtime API " + url + " sent an event without Lambda-Runtime-Aws-Request-Id");
    invocation.trace_id = curl_->header("Lambda-Runtime-Trace-Id");
    invocation.function_arn = curl_->header("Lambda-Runtime-Invoked-Function-Arn");
    const std::string deadline = curl_->header("Lambda-Runtime-Deadline-Ms");
    std::int64_t ms = 0;
    if (const auto [end, ec] = std::from_chars(deadline.data(), deadline.data() + deadline.size(), ms);
        ec == std::errc() && end == deadline.data() + deadline.size())
        invocation.deadline_ms = ms;
    return invocation;
}

LambdaRuntimeApi::Answer LambdaRuntimeApi::post(const std::string& path, std::string_view body,
                                                std::string_view error_type) {
    const std::string url = base_ + path;
    Answer answer;
    curl_->prepare(url, answer.body);
    curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
    // No "Expect: 100-continue" round trip for large answers.
    headers = curl_slist_append(headers, "Expect:");
    if (!error_type.empty())
        headers = curl_slist_append(headers, ("Lambda-Runtime-Function-Error-Type: " + std::string(error_type)).c_str());
    curl_slist_free_all(curl_->json_headers);
    curl_->json_headers = headers;
    curl_easy_setopt(curl_->handle, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl_->handle, CURLOPT_POST, 1L);
    curl_easy_setopt(curl_->handle, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl_->handle, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    answer.status = curl_->perform(url);
    return answer;
}

void LambdaRuntimeApi::expect_accepted(const std::string& path, const Answer& answer) const {
    if (answer.status >= 200 && answer.status < 300) return;
    throw RuntimeApiError("Lambda Runtime API " + base_ + path + " answered " + std::to_string(answer.status) +
                          ": " + answer.body, answer.status);
}

namespace {

std::string escaped(CURL* handle, std::string_view id) {
    char* text = curl_easy_escape(handle, id.data(), static_cast<int>(id.size()));
    std::string out = text ? text : "";
    curl_free(text);
    return out;
}

std::string error_json(std::string_view type, std::string_view message) {
    // Invalid UTF-8 (a plugin's log text, say) is replaced, never thrown on.
    return nlohmann::json{{"errorMessage", message}, {"errorType", type}}.dump(
        -1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

void LambdaRuntimeApi::respond(std::string_view id, std::string_view body) {
    const std::string path = "/runtime/invocation/" + escaped(curl_->handle, id) + "/response";
    expect_accepted(path, post(path, body, {}));
}

void LambdaRuntimeApi::invocation_error(std::string_view id, std::string_view type, std::string_view message) {
    const std::string path = "/runtime/invocation/" + escaped(curl_->handle, id) + "/error";
    expect_accepted(path, post(path, error_json(type, message), type));
}

void LambdaRuntimeApi::init_error(std::string_view type, std::string_view message) {
    const std::string path = "/runtime/init/error";
    expect_accepted(path, post(path, error_json(type, message), type));
}

}  // namespace trellis::front
