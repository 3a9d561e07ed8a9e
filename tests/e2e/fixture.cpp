#include "fixture.hpp"

namespace e2e {

::testing::AssertionResult IsProblem(const Response& r, int status, std::string_view instance,
                                     std::string_view title) {
    auto fail = [&](const std::string& why) {
        return ::testing::AssertionFailure() << why << "\n--- response ---\n" << r.dump();
    };
    if (r.status != status) return fail("expected status " + std::to_string(status));
    auto ct = r.header("Content-Type");
    if (!ct || ct->rfind("application/problem+json", 0) != 0)
        return fail("expected Content-Type application/problem+json");
    auto j = nlohmann::json::parse(r.body, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return fail("body is not a JSON object");
    if (j.value("type", std::string("<missing>")) != "about:blank") return fail("expected \"type\":\"about:blank\"");
    if (!j.contains("status") || j["status"] != status) return fail("expected \"status\":" + std::to_string(status));
    if (!j.contains("title") || !j["title"].is_string() || j["title"].get<std::string>().empty())
        return fail("expected a non-empty \"title\"");
    if (!title.empty() && j["title"] != std::string(title)) return fail("expected \"title\":\"" + std::string(title) + "\"");
    if (!j.contains("detail") || !j["detail"].is_string()) return fail("expected a string \"detail\"");
    if (!j.contains("instance") || j["instance"] != std::string(instance))
        return fail("expected \"instance\":\"" + std::string(instance) + "\"");
    return ::testing::AssertionSuccess();
}

::testing::AssertionResult Contains(const std::string& text, std::string_view needle) {
    if (text.find(needle) != std::string::npos) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "expected to find \"" << needle << "\" in:\n" << text;
}

::testing::AssertionResult NotContains(const std::string& text, std::string_view needle) {
    if (text.find(needle) == std::string::npos) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "did not expect \"" << needle << "\" in:\n" << text;
}

}  // namespace e2e
