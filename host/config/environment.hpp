// Environment references in the values of an operator configuration, read
// once when the file is loaded:
//   ${VAR}             the variable's value; an error when it is not set
//   ${VAR:-default}    the default when VAR is unset or empty
//   ${file:PATH}       the contents of the regular file PATH, trailing newlines
//                      removed (secrets: systemd's LoadCredential= puts them in
//                      $CREDENTIALS_DIRECTORY,
//                      `api_token: ${file:${CREDENTIALS_DIRECTORY}/api_token}`);
//                      a relative PATH starts at the configuration's folder
//   $$                 a literal '$'
// A '$' followed by anything else stays as written ($HOME too). Defaults and
// paths may hold references themselves; what a variable or file gives is
// used as it is, never substituted again. Keys are never substituted. A
// value keeps its position and its YAML type rules: `port: ${PORT}` is read
// as an integer (plain scalar), `port: "${PORT}"` as a string.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <yaml-cpp/yaml.h>

#include "config/diagnostics.hpp"

namespace trellis::config {

// Answers a variable's value; nullopt: unset.
using Lookup = std::function<std::optional<std::string>(const std::string&)>;

// Replaces the references in every scalar value under `root`, in place, from
// the process environment; relative ${file:} paths start at `base_dir`.
// Problems (an unset variable, a malformed reference, an unreadable file) go
// to `sink` at the scalar's position, with its key path, each scalar once.
void substitute_environment(YAML::Node& root, DiagnosticSink& sink, const std::filesystem::path& base_dir);

// One value. Returns the text, or nullopt with `problem` set (the first
// problem in the text). For the tests and substitute_environment().
std::optional<std::string> substitute_text(std::string_view text, const Lookup& lookup,
                                           const std::filesystem::path& base_dir, std::string& problem);

}  // namespace trellis::config
