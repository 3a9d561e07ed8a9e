// The in-process test client (<trellis/testing.hpp>): the same snapshot,
// migrations and pipeline as `trellis serve`, fed by function calls instead
// of a socket. It adds nothing of its own but what the front adds on the
// wire (Content-Type's default, X-Request-Id, no body for HEAD, 204, 304).
#include <trellis/testing.hpp>

#include <chrono>
#include <filesystem>
#include <optional>

#include <spdlog/spdlog.h>

#include "app/pipeline.hpp"
#include "app/request.hpp"
#include "app/request_id.hpp"
#include "app/snapshot.hpp"
#include "base/text.hpp"
#include "config/diagnostics.hpp"
#include "config/operator_config.hpp"
#include "db/migrations.hpp"
#include "ops/logging.hpp"

namespace fs = std::filesystem;

namespace trellis::testing {

struct Host::State {
    std::shared_ptr<const app::Snapshot> snapshot;
    std::optional<std::chrono::milliseconds> deadline;  // Options::deadline
};

namespace {

std::vector<fs::path> search_path(const Options& options) {
    return {options.plugin_path.begin(), options.plugin_path.end()};
}

std::string joined(const std::vector<std::string>& problems) {
    std::string out;
    for (const auto& problem : problems) {
        if (!out.empty()) out += '\n';
        out += problem;
    }
    return out;
}

}  // namespace

std::optional<std::string> Response::header(std::string_view name) const {
    for (const auto& [key, value] : headers)
        if (iequals(key, name)) return value;
    return std::nullopt;
}

Host::Host(std::string_view config_yaml, Options options) : state_(std::make_unique<State>()) {
    state_->deadline = options.deadline;
    const fs::path base = options.base_dir.empty() ? fs::current_path() : fs::path(options.base_dir);
    config::OperatorConfig config;
    try {
        config = config::parse_operator_config(config_yaml, base / "test-config.yaml");
    } catch (const config::ConfigError& e) {
        throw LoadError(e.what());
    }
    ops::init_logging(config.logging.level, "test");
    // A test's database is its own unless the test names one.
    if (config.database.line == 0) config.database.url = "sqlite::memory:";
    try {
        state_->snapshot = app::build_snapshot(config, search_path(options));
    } catch (const app::LoadError& e) {
        throw LoadError(joined(e.problems()));
    }
    const auto& snapshot = *state_->snapshot;
    if (!snapshot.schemas.empty()) {
        try {
            db::migrate(*snapshot.database, snapshot.schemas);
        } catch (const std::exception& e) {
            throw LoadError(std::string("migrations failed: ") + e.what());
        }
    }
}

Host::~Host() = default;
Host::Host(Host&&) noexcept = default;
Host& Host::operator=(Host&&) noexcept = default;

Response Host::request(std::string_view method, std::string_view target, const Headers& headers,
                       std::string_view body) {
    // The request value as the codec would fill it; the views point into
    // the caller's arguments, alive for this call.
    app::Request request;
    request.method = method;
    request.target = target;
    const auto question = target.find('?');
    request.path = target.substr(0, question);
    if (question != std::string_view::npos) request.query = target.substr(question + 1);
    request.headers.reserve(headers.size());
    for (const auto& [name, value] : headers) request.headers.emplace_back(name, value);
    request.body = body;
    request.remote = "test";

    const std::string request_id = app::request_id_for(request);
    app::Pipeline pipeline(*state_->snapshot, request, request_id);
    if (state_->deadline) pipeline.set_deadline_ms(app::unix_ms_now() + state_->deadline->count());
    const app::Response& answer = pipeline.respond();

    Response out;
    out.status = answer.status;
    if (const auto type = answer.effective_content_type(); !type.empty()) out.headers.emplace_back("Content-Type", type);
    for (const auto& header : answer.headers) out.headers.push_back(header);
    out.headers.emplace_back("X-Request-Id", request_id);
    if (method != "HEAD" && answer.status != 204 && answer.status != 304) out.body = answer.body;
    pipeline.teardown();
    return out;
}

}  // namespace trellis::testing
