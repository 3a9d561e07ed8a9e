// The Lambda front: a transport like front/server.cpp, with AWS Lambda's
// Runtime API in place of a socket. One invocation at a time: the next
// event (front/lambda_runtime_api.*), its request value
// (front/lambda_events.*), the core's pipeline, the answer posted back.
#pragma once

#include <memory>

#include "app/snapshot.hpp"
#include "front/lambda_runtime_api.hpp"

namespace trellis::front {

// Serves invocations until the Runtime API fails (AWS's rule: the runtime
// then exits and Lambda starts another); returns the exit code, 1.
int run_lambda(std::shared_ptr<const app::Snapshot> snapshot, LambdaRuntimeApi& api);

}  // namespace trellis::front
