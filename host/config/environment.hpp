// Environment references in the values of an operator configuration, read
// once when the file is loaded:
//   ${VAR}             the variable's value; an error when it is not set
//   ${VAR:-default}    the default when VAR is unset or empty
//   ${file:PATH}       the contents of PATH, trailing newlines removed (secrets:
//                      systemd's LoadCredential= puts them in $CREDENTIALS_DIRECTORY,
//                      `api_token: ${file:${CREDENTIALS_DIRECTORY}/api_token}`)
//   $$                 a literal '$'
// A '$' followed by anything else stays as written. Defaults and paths may
// hold references themselves. Keys are never substituted. A value keeps its
// position and its YAML type rules: `port: ${PORT}` is read as an integer
// (plain scalar), `port: "${PORT}"` as a string.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <yaml-cpp/yaml.h>

#include "config/diagnostics.hpp"

namespace trellis::config {

// Replaces the references in every scalar value under `root`, in place;
// problems (an unset variable, a malformed reference, an unreadable file)
// go to `sink` at the scalar's position, with its key path.
void substitute_environment(YAML::Node& root, DiagnosticSink& sink);

// One value; `lookup` answers a variable (nullopt: unset). Returns the text,
// or nullopt with `problem` set. For the tests and substitute_environment().
std::optional<std::string> substitute_text(std::string_view text,
                                           const std::function<std::optional<std::string>(const std::string&)>& lookup,
                                           std::string& problem);

}  // namespace trellis::config
