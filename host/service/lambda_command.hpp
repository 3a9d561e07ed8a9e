// `trellis lambda`: the host as an AWS Lambda custom runtime, and the same
// when the binary is started as a function's `bootstrap`.
#pragma once

#include <optional>
#include <string_view>

#include "service/commands.hpp"

namespace trellis::service {

// Loads configuration and plugins and applies migrations once (as serve with
// workers: 0), reporting a failure to Lambda as an init error; then serves
// invocations until the Runtime API fails. Exit codes: 1 init failed or the
// Runtime API failed, 2 AWS_LAMBDA_RUNTIME_API is not set.
int lambda(const CommandOptions& options);

// When this process was started as a Lambda function's `bootstrap` (the
// basename of argv[0]) with AWS_LAMBDA_RUNTIME_API set: the options to run
// `lambda` with (the configuration from TRELLIS_CONFIG, else
// ${LAMBDA_TASK_ROOT}/trellis.yaml). Otherwise nothing: an ordinary command line.
std::optional<CommandOptions> lambda_bootstrap_options(std::string_view argv0);

}  // namespace trellis::service
