// Trellis' own router: path templates with typed parameters, matched against
// an immutable table built once per configuration snapshot.
//
// Template syntax: static segments and parameters, one per segment:
//   /notes/{id:int}   {name} (one non-empty segment)   {rest:path} (the rest, last only)
// Types: str (default; one non-empty segment), int (optional '-' then 1..19
// digits that fit int64), path (one or more remaining non-empty segments,
// '/' kept between them; last segment of a template only).
// Static text in a template may be percent-encoded; it is compared decoded.
//
// Matching (see router.cpp for the details):
// - The request path is split on '/', each segment is percent-decoded once;
//   a malformed escape anywhere is NotFound. Empty segments ("//", a trailing
//   '/') match nothing, so "/hello/" does not match "/hello". "/" matches "/".
// - Precedence per segment, left to right, with backtracking:
//   static > int > str > path. Templates matching the path are therefore
//   considered from the most to the least specific.
// - Method: the most specific template matching the path that accepts the
//   method wins (exact, upper-case comparison). A template accepts HEAD if it
//   has a HEAD route or, failing that, a GET route (HEAD falls back to GET).
// - MethodNotAllowed when templates match the path but none accepts the
//   method; `allow` is the union of the methods of *all* templates matching
//   the path, HEAD added whenever GET is present, sorted, ", "-separated.
//   NotFound when no template matches the path.
//
// A built Router is immutable: match() is const, does not touch shared
// mutable state and is safe to call from any number of threads at once.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace trellis::app {

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
    // parameter type, a malformed method, or a method+template that is
    // already taken by an equivalent template (same static segments and
    // parameter types at the same positions; names may differ). The message
    // quotes both templates and the existing route's target. `method` is
    // upper case.
    void add(std::string method, std::string path_template, std::uint32_t target);

    // Matches a raw (percent-encoded) request path, without its query
    // string. HEAD falls back to GET. Thread-safe.
    RouteMatch match(std::string_view method, std::string_view raw_path) const;

    // Number of routes added.
    std::size_t size() const noexcept { return routes_.size(); }

    // Every target in the order matching considers the templates: per
    // segment static (by text) before int, str and path; a shorter template
    // before the longer ones it prefixes; same template in the order added.
    // For `trellis routes`.
    std::vector<std::uint32_t> targets_in_match_order() const;

private:
    static constexpr std::uint32_t kNone = 0xffffffffu;

    struct Param {
        std::string name;
        std::uint32_t segment = 0;  // index of the request segment it captures
        bool rest = false;          // path type: captures from `segment` to the end
    };
    struct Route {
        std::string method;
        std::string pattern;  // as given to add(); RouteMatch::pattern views it
        std::uint32_t target = 0;
        std::vector<Param> params;
    };
    // One node per template prefix shape. Children are indices into nodes_.
    struct Node {
        std::vector<std::pair<std::string, std::uint32_t>> statics;  // decoded text, sorted
        std::uint32_t int_child = kNone;
        std::uint32_t str_child = kNone;
        std::uint32_t path_child = kNone;  // terminal only: path consumes the rest
        std::vector<std::uint32_t> routes; // indices into routes_ ending here
    };
    struct Segment;
    struct Search;

    template <class Visit>
    bool walk(std::uint32_t node, std::size_t depth, const Search& s, Visit& visit) const;

    std::vector<Node> nodes_ = std::vector<Node>(1);  // nodes_[0] is the root "/"
    std::deque<Route> routes_;  // deque: element addresses survive growth and moves
};

// Joins an operator mount prefix and a manifest route template:
// ("/", "/hello") -> "/hello"; ("/api/notes", "/") -> "/api/notes";
// ("/api/notes", "/{id:int}") -> "/api/notes/{id:int}"; ("/", "/") -> "/".
// An empty mount is "/"; trailing '/' on the mount are ignored, and a mount
// without a leading '/' gets one. Never throws RouteError: a template that is
// empty or does not start with '/' is returned unchanged, so that
// Router::add() refuses it with a message quoting it.
std::string join_mount(std::string_view mount, std::string_view path_template);

// A template's text with each parameter "{name}" / "{name:type}" replaced
// by what `rewrite(name, type)` returns (type "str" when none is written):
// the router's notion of a template's shape and the OpenAPI path are two
// uses. A template with an unclosed '{' comes back unchanged.
std::string rewrite_template_params(
    std::string_view pattern, const std::function<std::string(std::string_view name, std::string_view type)>& rewrite);

// Percent-decodes one path segment or query component into `out` (replacing
// its contents); false if malformed ('%' not followed by two hex digits).
// '+' becomes ' ' only when plus_as_space (query strings).
bool percent_decode(std::string_view in, std::string& out, bool plus_as_space = false);

// The inverse for one path segment: every byte but RFC 3986's unreserved
// characters and sub-delims, ':' and '@' is percent-encoded ("a b/c" ->
// "a%20b%2Fc"), so the text comes back from percent_decode as it was.
std::string percent_encode_segment(std::string_view text);

}  // namespace trellis::app
