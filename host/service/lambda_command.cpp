#include "service/lambda_command.hpp"

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "app/snapshot.hpp"
#include "front/lambda_runtime.hpp"
#include "front/lambda_runtime_api.hpp"

namespace trellis::service {

namespace {

std::string env(const char* name) {
    const char* value = std::getenv(name);
    return value ? value : "";
}

}  // namespace

int lambda(const CommandOptions& options) {
    const std::string endpoint = env("AWS_LAMBDA_RUNTIME_API");
    if (endpoint.empty()) {
        std::cerr << "trellis lambda: AWS_LAMBDA_RUNTIME_API is not set; this command runs inside AWS Lambda (or an "
                     "emulator of its Runtime API) and takes its requests from there\n";
        return 2;
    }
    try {
        front::LambdaRuntimeApi api(endpoint);
        std::vector<std::string> problems;
        auto snapshot = load_for_serving(options, {}, &problems);
        if (!snapshot) {
            std::string message;
            for (const auto& problem : problems) message += (message.empty() ? "" : "\n") + problem;
            if (message.empty()) message = "the configuration or its plugins could not be loaded";
            api.init_error("Runtime.InitError", message);
            return 1;
        }
        return front::run_lambda(std::move(snapshot), api);
    } catch (const front::RuntimeApiError& e) {
        // init_error itself failed: there is no one left to tell but the log.
        spdlog::error("{}", e.what());
        return 1;
    }
}

std::optional<CommandOptions> lambda_bootstrap_options(std::string_view argv0) {
    if (std::filesystem::path(argv0).filename() != "bootstrap" || env("AWS_LAMBDA_RUNTIME_API").empty())
        return std::nullopt;
    CommandOptions options;
    if (const std::string config = env("TRELLIS_CONFIG"); !config.empty()) {
        options.config = config;
    } else {
        const std::string root = env("LAMBDA_TASK_ROOT");
        options.config = (std::filesystem::path(root.empty() ? "." : root) / "trellis.yaml").string();
    }
    return options;
}

}  // namespace trellis::service
