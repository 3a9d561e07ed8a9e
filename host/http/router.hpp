// Trellis' own router: path templates with typed parameters, matched against
// an immutable table built once per configuration snapshot.
//
// Template syntax: static segments and parameters, one per segment:
//   /notes/{id:int}   {name} (one non-empty segment)   {rest:path} (the rest, last only)
// Precedence per segment: static > int > string > path.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace trellis::http {

class RouteError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct RouteMatch {
    enum class Kind { Found, NotFound, MethodNotAllowed };
    Kind kind = Kind::NotFound;
    std::uint32_t target = 0;  // the value given to add(), when Found
    std::string_view pattern;  // the matched template, when Found (for logs)
    std::vector<std::pair<std::string, std::string>> params; // decoded, when Found
    std::string allow;         // "GET, HEAD, POST" when MethodNotAllowed
};

class Router {
public:
    // Adds a route. Throws RouteError for a malformed template, an unknown
    // parameter type, or a method+template that is already taken (the message
    // names the existing route's target). `method` is upper case.
    void add(std::string method, std::string path_template, std::uint32_t target);

    // Matches a raw (percent-encoded) request path. HEAD falls back to GET.
    RouteMatch match(std::string_view method, std::string_view raw_path) const;

private:
    struct Node;
    // implementation detail chosen by router.cpp
    struct Impl;
    std::vector<struct RouteEntry*> unused_;
};

// Joins an operator mount prefix and a manifest route template:
// ("/", "/hello") -> "/hello"; ("/api/notes", "/") -> "/api/notes";
// ("/api/notes", "/{id:int}") -> "/api/notes/{id:int}".
std::string join_mount(std::string_view mount, std::string_view path_template);

// Percent-decodes one path segment or query component; false if malformed.
bool percent_decode(std::string_view in, std::string& out, bool plus_as_space = false);

}  // namespace trellis::http
