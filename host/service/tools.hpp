// The read-only commands for operators and plugin authors: `routes`,
// `plugins`, `inspect` and `openapi`. Each prints text or JSON (`--format json`) on
// stdout, problems on stderr, and returns the exit code: 0, or 1 when the
// configuration or a plugin would be refused.
#pragma once

#include <string>

#include "service/commands.hpp"

namespace trellis::service {

struct InspectOptions {
    std::string file;             // the plugin library
    std::string format = "text";  // text | json
    bool lint = false;            // only the verdict: "FILE: OK" or the refusal
};

int routes(const CommandOptions& options);
int plugins(const CommandOptions& options);
int inspect(const InspectOptions& options);
// The OpenAPI 3.1 document of the configuration, on stdout or into `output`.
int openapi(const CommandOptions& options, const std::string& output);

}  // namespace trellis::service
