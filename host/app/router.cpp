// Trellis router: a segment trie.
//
// Each node is the shape of a template prefix. A node has sorted static
// children (keyed by the decoded segment text), at most one int child, one str
// child and one path child (a path parameter consumes the rest of the request,
// so its node is always terminal). Routes sharing a shape end at the same
// node, which is how equivalent templates are detected as conflicts; parameter
// names live in the routes, not in the nodes, since they may differ between
// templates of one shape.
//
// match() splits and decodes the request path once, then walks the trie depth
// first in precedence order (static, int, str, path). The first terminal in
// that order is the most specific template matching the path; every node is
// reached by a single trie path, so a walk visits each node at most once.
// The walk stops at the first terminal that accepts the method. Only when none
// does, a second walk gathers the methods of every matching terminal for the
// Allow header. Nothing is allocated on the walk itself: segment views live in
// a stack buffer (a vector only for very deep paths), decoded segments share
// one buffer that exists only if the path contains '%'.
#include "app/router.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstddef>
#include <unordered_set>

namespace trellis::app {

namespace {

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Appends the decoded form of `in` to `out`; false if malformed (in which case
// `out` holds a partial result).
bool decode_append(std::string_view in, std::string& out, bool plus_as_space) {
    for (std::size_t i = 0; i < in.size(); ++i) {
        char c = in[i];
        if (c == '%') {
            if (in.size() - i < 3) return false;
            int hi = hex_value(in[i + 1]);
            int lo = hex_value(in[i + 2]);
            if (hi < 0 || lo < 0) return false;
            out.push_back(static_cast<char>((hi << 4) | lo));
            i += 2;
        } else if (c == '+' && plus_as_space) {
            out.push_back(' ');
        } else {
            out.push_back(c);
        }
    }
    return true;
}

// Optional '-' then 1..19 decimal digits, and the value fits int64.
bool is_int(std::string_view s) {
    std::size_t digits_at = (!s.empty() && s[0] == '-') ? 1 : 0;
    std::size_t digits = s.size() - digits_at;
    if (digits == 0 || digits > 19) return false;
    for (std::size_t i = digits_at; i < s.size(); ++i)
        if (s[i] < '0' || s[i] > '9') return false;
    std::int64_t value = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    return ec == std::errc{} && ptr == s.data() + s.size();
}

bool is_identifier(std::string_view s) {
    if (s.empty()) return false;
    auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
    if (!alpha(s[0])) return false;
    for (char c : s)
        if (!alpha(c) && !(c >= '0' && c <= '9')) return false;
    return true;
}

// RFC 9110 token characters, lower-case letters excluded.
bool is_method_char(char c) {
    if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

enum class SegKind { Static, Int, Str, Path };

struct TemplateSegment {
    SegKind kind = SegKind::Static;
    std::string text;  // decoded static text, or the parameter name
};

[[noreturn]] void template_error(std::string_view tmpl, std::string_view why) {
    std::string msg = "route template '";
    msg.append(tmpl).append("': ").append(why);
    throw RouteError(msg);
}

std::vector<TemplateSegment> parse_template(std::string_view tmpl) {
    if (tmpl.empty()) template_error(tmpl, "is empty; a template must start with '/'");
    if (tmpl[0] != '/') template_error(tmpl, "must start with '/'");
    if (tmpl.find_first_of("?#") != std::string_view::npos)
        template_error(tmpl, "contains '?' or '#', which never reach the router");
    std::vector<TemplateSegment> out;
    if (tmpl == "/") return out;
    if (tmpl.back() == '/') template_error(tmpl, "has a trailing '/' (only the root template \"/\" ends with '/')");

    std::unordered_set<std::string_view> names;
    std::string_view rest = tmpl.substr(1);
    while (true) {
        std::size_t slash = rest.find('/');
        std::string_view seg = rest.substr(0, slash);
        bool last = slash == std::string_view::npos;
        if (seg.empty()) template_error(tmpl, "has an empty segment (\"//\")");

        TemplateSegment ts;
        if (seg.front() == '{') {
            if (seg.back() != '}' || seg.size() < 2)
                template_error(tmpl, "parameter segment '" + std::string(seg) +
                                         "' must be exactly '{name}' or '{name:type}'");
            std::string_view inner = seg.substr(1, seg.size() - 2);
            if (inner.find_first_of("{}") != std::string_view::npos)
                template_error(tmpl, "parameter segment '" + std::string(seg) + "' has nested braces");
            std::size_t colon = inner.find(':');
            std::string_view name = inner.substr(0, colon);
            std::string_view type = colon == std::string_view::npos ? std::string_view("str")
                                                                    : inner.substr(colon + 1);
            if (!is_identifier(name))
                template_error(tmpl, "parameter name '" + std::string(name) +
                                         "' is not an identifier ([A-Za-z_][A-Za-z0-9_]*)");
            if (type == "str") ts.kind = SegKind::Str;
            else if (type == "int") ts.kind = SegKind::Int;
            else if (type == "path") ts.kind = SegKind::Path;
            else
                template_error(tmpl, "parameter '" + std::string(name) + "' has unknown type '" +
                                         std::string(type) + "' (expected str, int or path)");
            if (ts.kind == SegKind::Path && !last)
                template_error(tmpl, "path parameter '" + std::string(name) +
                                         "' must be the last segment");
            if (!names.insert(name).second)
                template_error(tmpl, "parameter name '" + std::string(name) + "' is used twice");
            ts.text = std::string(name);
        } else {
            if (seg.find_first_of("{}") != std::string_view::npos)
                template_error(tmpl, "segment '" + std::string(seg) +
                                         "' mixes braces with static text; a parameter is a whole segment");
            if (!decode_append(seg, ts.text, false))
                template_error(tmpl, "segment '" + std::string(seg) + "' has a malformed percent escape");
        }
        out.push_back(std::move(ts));
        if (last) break;
        rest = rest.substr(slash + 1);
    }
    return out;
}

constexpr std::size_t kInlineSegments = 32;

}  // namespace

struct Router::Segment {
    std::string_view raw;
    std::string_view decoded;
};

struct Router::Search {
    std::string_view raw_path;
    const Segment* segs = nullptr;
    std::size_t count = 0;
    std::size_t last_empty = std::string_view::npos;  // index of the last empty segment
};

void Router::add(std::string method, std::string path_template, std::uint32_t target) {
    if (method.empty()) template_error(path_template, "route has an empty method");
    for (char c : method) {
        if (c >= 'a' && c <= 'z')
            template_error(path_template, "method '" + method + "' must be upper case");
        if (!is_method_char(c))
            template_error(path_template, "method '" + method + "' is not a valid HTTP method token");
    }
    std::vector<TemplateSegment> segs = parse_template(path_template);

    Route route;
    route.method = std::move(method);
    route.target = target;

    std::uint32_t node = 0;
    auto child = [this](std::uint32_t parent, std::uint32_t Node::*member) {
        std::uint32_t c = nodes_[parent].*member;
        if (c == kNone) {
            c = static_cast<std::uint32_t>(nodes_.size());
            nodes_.emplace_back();
            nodes_[parent].*member = c;
        }
        return c;
    };
    for (std::size_t i = 0; i < segs.size(); ++i) {
        TemplateSegment& ts = segs[i];
        switch (ts.kind) {
            case SegKind::Static: {
                auto& st = nodes_[node].statics;
                auto it = std::lower_bound(st.begin(), st.end(), ts.text,
                                           [](const auto& e, const std::string& k) { return e.first < k; });
                if (it != st.end() && it->first == ts.text) {
                    node = it->second;
                } else {
                    auto c = static_cast<std::uint32_t>(nodes_.size());
                    st.emplace(it, ts.text, c);  // before emplace_back: `st` refers into nodes_
                    nodes_.emplace_back();
                    node = c;
                }
                continue;
            }
            case SegKind::Int: node = child(node, &Node::int_child); break;
            case SegKind::Str: node = child(node, &Node::str_child); break;
            case SegKind::Path: node = child(node, &Node::path_child); break;
        }
        route.params.push_back(Param{std::move(ts.text), static_cast<std::uint32_t>(i),
                                     ts.kind == SegKind::Path});
    }

    for (std::uint32_t idx : nodes_[node].routes) {
        const Route& other = routes_[idx];
        if (other.method == route.method) {
            std::string msg = "route " + route.method + " '" + path_template + "' conflicts with " +
                              other.method + " '" + other.pattern + "' (target " +
                              std::to_string(other.target) +
                              "): the templates have the same shape (static segments and parameter types)";
            throw RouteError(msg);
        }
    }
    route.pattern = std::move(path_template);
    routes_.push_back(std::move(route));
    try {
        nodes_[node].routes.push_back(static_cast<std::uint32_t>(routes_.size() - 1));
    } catch (...) {
        routes_.pop_back();
        throw;
    }
}

template <class Visit>
bool Router::walk(std::uint32_t node, std::size_t depth, const Search& s, Visit& visit) const {
    const Node& n = nodes_[node];
    if (depth == s.count) return !n.routes.empty() && visit(n);

    const Segment& seg = s.segs[depth];
    if (seg.decoded.empty()) return false;  // empty segments match nothing

    if (!n.statics.empty()) {
        auto it = std::lower_bound(n.statics.begin(), n.statics.end(), seg.decoded,
                                   [](const auto& e, std::string_view k) { return std::string_view(e.first) < k; });
        if (it != n.statics.end() && it->first == seg.decoded && walk(it->second, depth + 1, s, visit))
            return true;
    }
    if (n.int_child != kNone && is_int(seg.decoded) && walk(n.int_child, depth + 1, s, visit)) return true;
    if (n.str_child != kNone && walk(n.str_child, depth + 1, s, visit)) return true;
    if (n.path_child != kNone && (s.last_empty == std::string_view::npos || s.last_empty < depth)) {
        const Node& p = nodes_[n.path_child];
        if (!p.routes.empty() && visit(p)) return true;
    }
    return false;
}

std::vector<std::uint32_t> Router::targets_in_match_order() const {
    std::vector<std::uint32_t> out;
    out.reserve(routes_.size());
    const auto visit = [&](const auto& self, std::uint32_t node) -> void {
        const Node& n = nodes_[node];
        for (std::uint32_t idx : n.routes) out.push_back(routes_[idx].target);
        for (const auto& [text, child] : n.statics) self(self, child);
        for (std::uint32_t child : {n.int_child, n.str_child, n.path_child})
            if (child != kNone) self(self, child);
    };
    visit(visit, 0);
    return out;
}

RouteMatch Router::match(std::string_view method, std::string_view raw_path) const {
    RouteMatch m;
    if (raw_path.empty() || raw_path[0] != '/') return m;

    // Split into segments: "/" has none, "/a/" has "a" and "".
    std::size_t count = 0;
    if (raw_path.size() > 1) count = static_cast<std::size_t>(std::count(raw_path.begin(), raw_path.end(), '/'));
    std::array<Segment, kInlineSegments> inline_segs;
    std::vector<Segment> heap_segs;
    Segment* segs = inline_segs.data();
    if (count > kInlineSegments) {
        heap_segs.resize(count);
        segs = heap_segs.data();
    }

    Search s;
    s.raw_path = raw_path;
    s.segs = segs;
    s.count = count;

    bool has_escape = raw_path.find('%') != std::string_view::npos;
    std::string decoded;
    if (has_escape) decoded.reserve(raw_path.size());  // never exceeded: views into it stay valid

    std::size_t pos = 1;
    for (std::size_t i = 0; i < count; ++i) {
        std::size_t slash = raw_path.find('/', pos);
        std::string_view raw = raw_path.substr(pos, slash == std::string_view::npos ? std::string_view::npos : slash - pos);
        segs[i].raw = raw;
        if (raw.empty()) s.last_empty = i;
        if (has_escape && raw.find('%') != std::string_view::npos) {
            std::size_t start = decoded.size();
            if (!decode_append(raw, decoded, false)) return m;  // malformed escape: NotFound
            segs[i].decoded = std::string_view(decoded.data() + start, decoded.size() - start);
        } else {
            segs[i].decoded = raw;
        }
        pos = slash + 1;
    }

    const bool is_head = method == "HEAD";
    const Route* found = nullptr;
    auto accept = [&](const Node& n) {
        const Route* get = nullptr;
        for (std::uint32_t idx : n.routes) {
            const Route& r = routes_[idx];
            if (r.method == method) {
                found = &r;
                return true;
            }
            if (is_head && r.method == "GET") get = &r;
        }
        if (get) {
            found = get;
            return true;
        }
        return false;
    };

    if (walk(0, 0, s, accept)) {
        m.kind = RouteMatch::Kind::Found;
        m.target = found->target;
        m.pattern = found->pattern;
        m.params.reserve(found->params.size());
        for (const Param& p : found->params) {
            std::string value;
            const Segment& seg = segs[p.segment];
            if (p.rest) {
                std::string_view rest = raw_path.substr(static_cast<std::size_t>(seg.raw.data() - raw_path.data()));
                value.reserve(rest.size());
                decode_append(rest, value, false);  // already validated segment by segment
            } else {
                value.assign(seg.decoded);
            }
            m.params.emplace_back(p.name, std::move(value));
        }
        return m;
    }

    // Not accepted: does any template match the path at all?
    std::vector<std::string_view> methods;
    auto gather = [&](const Node& n) {
        for (std::uint32_t idx : n.routes) {
            std::string_view mm = routes_[idx].method;
            methods.push_back(mm);
            if (mm == "GET") methods.push_back("HEAD");
        }
        return false;  // keep walking: the Allow set is the union over all matches
    };
    walk(0, 0, s, gather);
    if (methods.empty()) return m;

    std::sort(methods.begin(), methods.end());
    methods.erase(std::unique(methods.begin(), methods.end()), methods.end());
    m.kind = RouteMatch::Kind::MethodNotAllowed;
    for (std::size_t i = 0; i < methods.size(); ++i) {
        if (i) m.allow.append(", ");
        m.allow.append(methods[i]);
    }
    return m;
}

std::string join_mount(std::string_view mount, std::string_view path_template) {
    // Not a template: hand it back untouched so that Router::add() rejects it
    // with a message quoting what the manifest said (never throws here).
    if (path_template.empty() || path_template[0] != '/') return std::string(path_template);
    while (!mount.empty() && mount.back() == '/') mount.remove_suffix(1);
    std::string out;
    out.reserve(mount.size() + path_template.size() + 1);
    if (!mount.empty() && mount[0] != '/') out.push_back('/');
    out.append(mount);
    if (path_template == "/") {
        if (out.empty()) out.push_back('/');  // not `out = "/"`: GCC 12 -O3 warns -Wrestrict on it
        return out;
    }
    out.append(path_template);
    return out;
}

bool percent_decode(std::string_view in, std::string& out, bool plus_as_space) {
    out.clear();
    out.reserve(in.size());
    return decode_append(in, out, plus_as_space);
}

std::string percent_encode_segment(std::string_view text) {
    static constexpr std::string_view kKept = "-._~!$&'()*+,;=:@";
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        const bool alnum = (byte >= '0' && byte <= '9') || (byte >= 'A' && byte <= 'Z') || (byte >= 'a' && byte <= 'z');
        if (alnum || kKept.find(c) != std::string_view::npos) {
            out += c;
        } else {
            out += '%';
            out += hex[byte >> 4];
            out += hex[byte & 0xF];
        }
    }
    return out;
}

std::string rewrite_template_params(
    std::string_view pattern, const std::function<std::string(std::string_view name, std::string_view type)>& rewrite) {
    std::string out;
    for (std::size_t i = 0; i < pattern.size(); ++i) {
        if (pattern[i] != '{') {
            out += pattern[i];
            continue;
        }
        const auto close = pattern.find('}', i);
        if (close == std::string_view::npos) return std::string(pattern);
        const auto inner = pattern.substr(i + 1, close - i - 1);
        const auto colon = inner.find(':');
        out += rewrite(inner.substr(0, colon), colon == std::string_view::npos ? "str" : inner.substr(colon + 1));
        i = close;
    }
    return out;
}

}  // namespace trellis::app
