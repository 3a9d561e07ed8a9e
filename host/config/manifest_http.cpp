// A plugin's manifest, the HTTP surface: routes, errors (and walk_error_map,
// which the operator's `errors` share), hooks and static files.
#include "config/manifest.hpp"

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/manifest_parser.hpp"

namespace trellis::config {

namespace {

constexpr std::string_view kSymbolRule = "must be the name of an exported C function ([A-Za-z_][A-Za-z0-9_]*)";

// Error kinds a plugin or operator may name instead of a status.
struct ErrorKind {
    std::string_view name;
    int status;
};
constexpr ErrorKind kErrorKinds[] = {
    {"validation", 422}, {"not_found", 404}, {"method_not_allowed", 405}, {"internal", 500}};

}  // namespace

namespace detail {

void ManifestParser::parse_routes(const MapEntry& section) {
    if (section.value.IsNull()) return;
    if (!section.value.IsSequence()) {
        sink_.error(section.where(), section.path, "must be a list of {method, path, handler}");
        return;
    }
    static const std::vector<std::string_view> methods = {"GET", "HEAD", "POST", "PUT",
                                                          "PATCH", "DELETE", "OPTIONS"};
    for (std::size_t i = 0; i < section.value.size(); ++i) {
        const YAML::Node item = section.value[i];
        const std::string path = section.path + "[" + std::to_string(i) + "]";
        if (!item.IsMap()) {
            sink_.error(item, path, "must be a map {method, path, handler}");
            continue;
        }
        RouteSpec route;
        route.line = item.Mark().line + 1;
        route.column = item.Mark().column + 1;
        bool ok = true;
        const auto fail = [&](const MapEntry& e, const std::string& message) {
            sink_.error(e.where(), e.path, message);
            ok = false;
        };
        const auto text_of = [](const MapEntry& e) { return e.value.IsScalar() ? e.value.Scalar() : ""; };
        walk_map(item, path,
                 {
                     {"method",
                      [&](const MapEntry& e) {
                          std::string method = text_of(e);
                          std::transform(method.begin(), method.end(), method.begin(),
                                         [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
                          if (std::find(methods.begin(), methods.end(), method) == methods.end())
                              fail(e, "must be one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS");
                          else
                              route.method = method;
                      },
                      true},
                     {"path",
                      [&](const MapEntry& e) {
                          const std::string text = text_of(e);
                          if (text.empty() || text.front() != '/')
                              fail(e, "must start with '/'");
                          else
                              route.path = text;
                      },
                      true},
                     {"handler",
                      [&](const MapEntry& e) {
                          const std::string text = text_of(e);
                          if (!is_c_identifier(text))
                              fail(e, std::string(kSymbolRule));
                          else
                              route.handler = text;
                      },
                      true},
                     {"summary", [&](const MapEntry& e) { route_text(e, route.summary, true); }},
                     {"description", [&](const MapEntry& e) { route_text(e, route.description, false); }},
                     {"request_schema", [&](const MapEntry& e) { route_schema(e, route.request_schema); }},
                     {"response_schema", [&](const MapEntry& e) { route_schema(e, route.response_schema); }},
                 },
                 sink_);
        if (ok && !route.method.empty() && !route.path.empty() && !route.handler.empty())
            manifest_.routes.push_back(std::move(route));
    }
}

// A route's `summary` (one line) or `description` (any text).
void ManifestParser::route_text(const MapEntry& e, std::string& out, bool one_line) {
    const std::string text = e.value.IsScalar() ? e.value.Scalar() : "";
    if (text.empty() || (one_line && text.find('\n') != std::string::npos))
        sink_.error(e.where(), e.path, one_line ? "must be one line of text" : "must be a non-empty text");
    else
        out = text;
}

// A route's `request_schema` / `response_schema`: a JSON Schema written as
// YAML, kept as JSON text for the OpenAPI document.
void ManifestParser::route_schema(const MapEntry& e, std::string& out) {
    if (!e.value.IsMap())
        sink_.error(e.where(), e.path, "must be a JSON Schema written as a YAML map, e.g. {type: object, properties: {...}}");
    else
        out = json_text(e.value);
}

void ManifestParser::parse_errors(const MapEntry& section) {
    walk_error_map(section, sink_, "a handler symbol", [&](const StatusMatch& match, const MapEntry& e) {
        if (!e.value.IsScalar() || !is_c_identifier(e.value.Scalar())) {
            sink_.error(e.where(), e.path, std::string(kSymbolRule));
            return;
        }
        ErrorHandlerSpec spec;
        spec.match = match;
        spec.handler = e.value.Scalar();
        spec.line = e.key.Mark().line + 1;
        spec.column = e.key.Mark().column + 1;
        manifest_.errors.push_back(std::move(spec));
    });
}

void ManifestParser::parse_hooks(const MapEntry& section) {
    const auto kind = [&](HookSpec::Kind k) { return [this, k](const MapEntry& e) { parse_hook_list(k, e); }; };
    // walk_map visits keys as written, so hooks keep their declaration order.
    walk_map(section.value, section.path,
             {
                 {"before_request", kind(HookSpec::Kind::BeforeRequest)},
                 {"after_request", kind(HookSpec::Kind::AfterRequest)},
                 {"teardown", kind(HookSpec::Kind::Teardown)},
             },
             sink_);
}

// One {handler, scope} or a list of them.
void ManifestParser::parse_hook_list(HookSpec::Kind kind, const MapEntry& e) {
    if (e.value.IsMap()) {
        parse_hook(kind, e.value, e.path);
    } else if (e.value.IsSequence()) {
        for (std::size_t i = 0; i < e.value.size(); ++i)
            parse_hook(kind, e.value[i], e.path + "[" + std::to_string(i) + "]");
    } else {
        sink_.error(e.where(), e.path, "must be {handler, scope} or a list of them");
    }
}

void ManifestParser::parse_hook(HookSpec::Kind kind, const YAML::Node& item, const std::string& path) {
    if (!item.IsMap()) {
        sink_.error(item, path, "must be a map {handler, scope}");
        return;
    }
    HookSpec hook;
    hook.kind = kind;
    hook.line = item.Mark().line + 1;
    hook.column = item.Mark().column + 1;
    bool ok = true;
    walk_map(item, path,
             {
                 {"handler",
                  [&](const MapEntry& e) {
                      if (e.value.IsScalar() && is_c_identifier(e.value.Scalar())) {
                          hook.handler = e.value.Scalar();
                          return;
                      }
                      sink_.error(e.where(), e.path, std::string(kSymbolRule));
                      ok = false;
                  },
                  true},
                 {"scope",
                  [&](const MapEntry& e) {
                      const std::string text = e.value.IsScalar() ? e.value.Scalar() : "";
                      if (text == "plugin") {
                          hook.scope = HookSpec::Scope::Plugin;
                      } else if (text == "app") {
                          hook.scope = HookSpec::Scope::App;
                      } else {
                          std::string message = "must be plugin (its own routes) or app (every route)";
                          if (const auto hint = did_you_mean(text, {"plugin", "app"}); !hint.empty())
                              message += "; " + hint;
                          sink_.error(e.where(), e.path, message);
                          ok = false;
                      }
                  }},
             },
             sink_);
    if (ok && !hook.handler.empty()) manifest_.hooks.push_back(std::move(hook));
}

void ManifestParser::parse_static(const MapEntry& section) {
    if (!section.value.IsMap()) {
        sink_.error(section.where(), section.path, "must be a map such as {dir: public, path: /, spa: false}");
        return;
    }
    StaticSpec spec;
    spec.line = section.key.Mark().line + 1;
    spec.column = section.key.Mark().column + 1;
    bool ok = true;
    const auto fail = [&](const MapEntry& e, const std::string& message) {
        sink_.error(e.where(), e.path, message);
        ok = false;
    };
    walk_map(section.value, section.path,
             {
                 {"dir",
                  [&](const MapEntry& e) {
                      if (!e.value.IsScalar() || e.value.Scalar().empty())
                          fail(e, "must be a non-empty directory path");
                      else
                          spec.dir = e.value.Scalar();
                  },
                  true},
                 {"path",
                  [&](const MapEntry& e) {
                      const std::string text = e.value.IsScalar() ? e.value.Scalar() : "";
                      if (text.empty() || text.front() != '/')
                          fail(e, "must start with '/'");
                      else if (text.size() > 1 && text.back() == '/')
                          fail(e, "must not end with '/' (use \"/\" for the root)");
                      else if (text.find_first_of("{}") != std::string::npos)
                          fail(e, "must not contain '{' or '}' (static files take no parameters)");
                      else
                          spec.path = text;
                  }},
                 {"spa",
                  [&](const MapEntry& e) {
                      if (const auto spa = bool_of(e.value))
                          spec.spa = *spa;
                      else
                          fail(e, "must be true or false");
                  }},
                 {"immutable",
                  [&](const MapEntry& e) {
                      // One folder or a list: "/assets/" (a bundler's output folder).
                      std::vector<YAML::Node> items;
                      if (e.value.IsSequence())
                          for (const auto& item : e.value) items.push_back(item);
                      else
                          items.push_back(e.value);
                      for (const auto& item : items) {
                          const std::string text = item.IsScalar() ? item.Scalar() : "";
                          if (text.size() < 3 || text.front() != '/' || text.back() != '/' ||
                              text.find("/../") != std::string::npos || text.find("/./") != std::string::npos ||
                              text.find("//") != std::string::npos) {
                              sink_.error(item, e.path, "must be a folder of the site written /name/ (e.g. /assets/), or a list of them");
                              ok = false;
                          } else {
                              spec.immutable.push_back(text);
                          }
                      }
                  }},
             },
             sink_);
    if (ok && !spec.dir.empty()) manifest_.static_files = std::move(spec);
}

}  // namespace detail

void walk_error_map(const MapEntry& section, DiagnosticSink& sink, std::string_view expected_value,
                    const std::function<void(const StatusMatch&, const MapEntry&)>& parse) {
    if (section.value.IsNull()) return;
    if (!section.value.IsMap()) {
        sink.error(section.where(), section.path,
                   "must be a map from status (404, 4xx) or error kind (not_found) to " + std::string(expected_value));
        return;
    }
    struct Seen {
        StatusMatch match;
        std::string key;
        YAML::Mark mark;
    };
    std::vector<Seen> seen;
    for (const auto& kv : section.value) {
        const YAML::Node& key = kv.first;
        if (!key.IsScalar()) {
            sink.error(key, section.path, "keys must be plain names");
            continue;
        }
        const std::string& name = key.Scalar();
        const std::string path = join_key(section.path, name);

        // A quoted "404" is accepted too: a key is a name, it cannot mean anything else.
        std::optional<StatusMatch> match;
        if (const auto status = parse_integer(name)) {
            if (*status < 400 || *status > 599) {
                sink.error(key, path, "must be a status from 400 to 599");
                continue;
            }
            match = StatusMatch{static_cast<int>(*status), 0};
        } else if (name == "4xx" || name == "5xx") {
            match = StatusMatch{0, name[0] - '0'};
        } else {
            for (const auto& kind : kErrorKinds)
                if (kind.name == name) match = StatusMatch{kind.status, 0};
        }
        if (!match) {
            std::string message =
                "must be a status from 400 to 599, 4xx, 5xx or one of validation, not_found, "
                "method_not_allowed, internal";
            std::vector<std::string_view> kinds;
            for (const auto& kind : kErrorKinds) kinds.push_back(kind.name);
            if (const auto hint = did_you_mean(name, kinds); !hint.empty()) message += "; " + hint;
            sink.error(key, path, message);
            continue;
        }

        const auto first = std::find_if(seen.begin(), seen.end(), [&](const Seen& s) {
            return s.match.status == match->status && s.match.status_class == match->status_class;
        });
        if (first != seen.end()) {
            const std::string where =
                "line " + std::to_string(first->mark.line + 1) + ", column " + std::to_string(first->mark.column + 1);
            sink.error(key, path,
                       first->key == name ? "duplicate key; first set at " + where
                                          : "means the same status as '" + first->key + "', first set at " + where);
            continue;
        }
        seen.push_back(Seen{*match, name, key.Mark()});
        parse(*match, MapEntry{key, kv.second, path});
    }
}

}  // namespace trellis::config
