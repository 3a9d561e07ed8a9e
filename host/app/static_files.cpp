// Static files: see static_files.hpp for the rules this file implements.
#include "app/static_files.hpp"
#include "base/text.hpp"

#include "app/router.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <system_error>

namespace trellis::app {

namespace fs = std::filesystem;

namespace {

constexpr std::array<const char*, 7> kWeekdays = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr std::array<const char*, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};


std::string hex(std::uint64_t value) {
    std::array<char, 17> buf{};
    auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), value, 16);
    (void)ec;  // 16 hex digits always fit
    return std::string(buf.data(), end);
}

// True when `candidate` (canonical) is `root` (canonical) or lies below it.
// Component-wise, so "/srv/site2" is not inside "/srv/site".
bool inside(const fs::path& root, const fs::path& candidate) {
    auto r = root.begin();
    auto c = candidate.begin();
    for (; r != root.end(); ++r, ++c) {
        if (c == candidate.end() || *r != *c) return false;
    }
    return true;
}

// Canonical path of `p` if it exists and lies inside `root`.
std::optional<fs::path> canonical_inside(const fs::path& root, const fs::path& p) {
    std::error_code ec;
    fs::path canon = fs::canonical(p, ec);
    if (ec || !inside(root, canon)) return std::nullopt;
    return canon;
}

// ------------------------------------------------------------- validators

// Does an If-None-Match / If-Range style list of entity tags match `etag`
// (quoted, strong)? Weak comparison ignores "W/"; strong comparison never
// matches a weak tag. A malformed list matches nothing from the error on.
bool etag_list_matches(std::string_view list, std::string_view etag, bool weak) {
    list = trim_ows(list);
    if (list == "*") return true;
    std::size_t i = 0;
    while (i < list.size()) {
        if (list[i] == ' ' || list[i] == '\t' || list[i] == ',') {
            ++i;
            continue;
        }
        bool is_weak = false;
        if (list.compare(i, 2, "W/") == 0) {
            is_weak = true;
            i += 2;
        }
        if (i >= list.size() || list[i] != '"') return false;
        std::size_t close = list.find('"', i + 1);
        if (close == std::string_view::npos) return false;
        std::string_view tag = list.substr(i, close - i + 1);
        if (tag == etag && (weak || !is_weak)) return true;
        i = close + 1;
    }
    return false;
}

long long days_from_civil(int y, unsigned m, unsigned d) {
    using namespace std::chrono;
    return sys_days{year{y} / month{m} / day{d}}.time_since_epoch().count();
}

std::optional<long long> make_time(int y, int mon, int d, int h, int mi, int s) {
    using namespace std::chrono;
    if (mon < 1 || mon > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 60) return std::nullopt;
    if (!year_month_day{year{y}, month{static_cast<unsigned>(mon)}, day{static_cast<unsigned>(d)}}.ok()) return std::nullopt;
    return days_from_civil(y, static_cast<unsigned>(mon), static_cast<unsigned>(d)) * 86400LL + h * 3600LL + mi * 60LL + s;
}

int month_index(const char* name) {
    for (std::size_t i = 0; i < kMonths.size(); ++i)
        if (std::string_view(name) == kMonths[i]) return static_cast<int>(i) + 1;
    return 0;
}

// ------------------------------------------------------------------ range

struct ByteRange {
    enum class Kind { Ignore, Unsatisfiable, Satisfiable };
    Kind kind = Kind::Ignore;
    std::uint64_t first = 0;
    std::uint64_t last = 0;  // inclusive
};

// Digits to an unsigned, saturating (a huge first-pos is merely unsatisfiable).
bool parse_digits(std::string_view s, std::uint64_t& out) {
    if (s.empty()) return false;
    std::uint64_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
        const auto digit = static_cast<std::uint64_t>(c - '0');
        v = v > (UINT64_MAX - digit) / 10 ? UINT64_MAX : v * 10 + digit;
    }
    out = v;
    return true;
}

ByteRange parse_range(std::string_view value, std::uint64_t size) {
    ByteRange r;
    value = trim_ows(value);
    const auto eq = value.find('=');
    if (eq == std::string_view::npos || !iequals(value.substr(0, eq), "bytes")) return r;  // other unit
    std::string_view spec = trim_ows(value.substr(eq + 1));
    if (spec.find(',') != std::string_view::npos) return r;  // several ranges: full answer
    const auto dash = spec.find('-');
    if (dash == std::string_view::npos) return r;
    const std::string_view a = trim_ows(spec.substr(0, dash));
    const std::string_view b = trim_ows(spec.substr(dash + 1));
    std::uint64_t first = 0, last = 0;
    if (a.empty()) {  // bytes=-n: the last n bytes
        if (!parse_digits(b, last)) return r;
        if (last == 0 || size == 0) {
            r.kind = ByteRange::Kind::Unsatisfiable;
            return r;
        }
        r.kind = ByteRange::Kind::Satisfiable;
        r.first = last >= size ? 0 : size - last;
        r.last = size - 1;
        return r;
    }
    if (!parse_digits(a, first)) return r;
    if (b.empty()) {
        last = UINT64_MAX;
    } else if (!parse_digits(b, last) || last < first) {
        return r;  // malformed or invalid (last < first): ignored
    }
    if (first >= size) {
        r.kind = ByteRange::Kind::Unsatisfiable;
        return r;
    }
    r.kind = ByteRange::Kind::Satisfiable;
    r.first = first;
    r.last = std::min(last, size - 1);
    return r;
}

// ------------------------------------------------------------------- file

// An open regular file; closes on destruction.
class File {
public:
    explicit File(const fs::path& p) : fd_(::open(p.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)) {}
    ~File() {
        if (fd_ >= 0) ::close(fd_);
    }
    File(const File&) = delete;
    File& operator=(const File&) = delete;

    bool stat(struct ::stat& st) const { return fd_ >= 0 && ::fstat(fd_, &st) == 0; }

    // Reads exactly `length` bytes at `offset`; false on error or short file.
    bool read(std::uint64_t offset, std::size_t length, std::string& out) const {
        out.resize(length);
        std::size_t done = 0;
        while (done < length) {
            const ssize_t n = ::pread(fd_, out.data() + done, length - done, static_cast<off_t>(offset + done));
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return false;
            done += static_cast<std::size_t>(n);
        }
        return true;
    }

private:
    int fd_;
};

std::optional<std::string> get_header(const StaticRequest& request, std::string_view name) {
    if (!request.header) return std::nullopt;
    return request.header(name);
}

// Whether an Accept-Encoding value accepts `coding` (RFC 9110 12.5.3): the
// coding's own entry decides, else "*"; q=0 (0, 0.0, 0.000) refuses.
bool accepts_coding(std::string_view header, std::string_view coding) {
    std::optional<bool> own, any;
    while (!header.empty()) {
        const auto comma = header.find(',');
        std::string_view item = header.substr(0, comma);
        header = comma == std::string_view::npos ? std::string_view{} : header.substr(comma + 1);
        auto semi = item.find(';');
        const std::string_view name = trim_ows(item.substr(0, semi));
        bool accepted = true;
        while (semi != std::string_view::npos) {  // the q parameter, wherever it is among them
            item.remove_prefix(semi + 1);
            semi = item.find(';');
            const std::string_view param = trim_ows(item.substr(0, semi));
            if (param.size() >= 2 && ascii_lower(param[0]) == 'q' && param[1] == '=') {
                const std::string_view q = trim_ows(param.substr(2));
                accepted = !q.empty() && q.find_first_not_of("0.") != std::string_view::npos;
            }
        }
        if (iequals(name, coding)) own = accepted;
        else if (name == "*") any = accepted;
    }
    return own ? *own : any.value_or(false);
}

}  // namespace

// ---------------------------------------------------------------- exposed

bool is_fingerprinted(std::string_view filename) {
    // <name>[-.]<fingerprint>.<ext>[.<ext>...]: the fingerprint is 8 or more
    // of [A-Za-z0-9_-] holding at least one digit and one letter, so that
    // "my-components.js" or "OpenSans-SemiBold.woff2" are not taken for one
    // (a wrong "immutable" would pin a changed file in caches for a year).
    const auto first_dot = [&](std::size_t from) { return filename.find('.', from); };
    for (std::size_t sep = 0; sep < filename.size(); ++sep) {
        if (filename[sep] != '-' && filename[sep] != '.') continue;
        if (sep == 0) continue;
        const std::size_t start = sep + 1;
        const std::size_t end = first_dot(start);
        if (end == std::string_view::npos || end + 1 >= filename.size()) continue;
        const std::string_view print = filename.substr(start, end - start);
        if (print.size() < 8) continue;
        bool digit = false, letter = false, ok = true;
        for (const char c : print) {
            if (c >= '0' && c <= '9') digit = true;
            else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) letter = true;
            else if (c != '_' && c != '-') ok = false;
        }
        if (ok && digit && letter) return true;
    }
    return false;
}


const std::string* StaticAnswer::find_header(std::string_view name) const noexcept {
    for (const auto& [k, v] : headers)
        if (k == name) return &v;
    return nullptr;
}

std::string static_content_type(std::string_view filename) {
    struct Type {
        std::string_view ext;
        std::string_view type;
    };
    static constexpr Type kTypes[] = {
        {"html", "text/html; charset=utf-8"},
        {"htm", "text/html; charset=utf-8"},
        {"css", "text/css; charset=utf-8"},
        {"js", "text/javascript; charset=utf-8"},
        {"mjs", "text/javascript; charset=utf-8"},
        {"json", "application/json; charset=utf-8"},
        {"map", "application/json; charset=utf-8"},
        {"svg", "image/svg+xml; charset=utf-8"},
        {"xml", "application/xml; charset=utf-8"},
        {"txt", "text/plain; charset=utf-8"},
        {"png", "image/png"},
        {"jpg", "image/jpeg"},
        {"jpeg", "image/jpeg"},
        {"gif", "image/gif"},
        {"webp", "image/webp"},
        {"ico", "image/x-icon"},
        {"wasm", "application/wasm"},
        {"woff", "font/woff"},
        {"woff2", "font/woff2"},
        {"pdf", "application/pdf"},
    };
    const auto dot = filename.rfind('.');
    if (dot != std::string_view::npos) {
        const std::string_view ext = filename.substr(dot + 1);
        for (const auto& t : kTypes)
            if (iequals(ext, t.ext)) return std::string(t.type);
    }
    return "application/octet-stream";
}

std::string format_http_date(long long unix_seconds) {
    using namespace std::chrono;
    const sys_seconds t{seconds{unix_seconds}};
    const sys_days day_point = floor<days>(t);
    const year_month_day ymd{day_point};
    const hh_mm_ss hms{t - day_point};
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s, %02u %s %04d %02d:%02d:%02d GMT",
                  kWeekdays[weekday{day_point}.c_encoding()], static_cast<unsigned>(ymd.day()),
                  kMonths[static_cast<unsigned>(ymd.month()) - 1], static_cast<int>(ymd.year()),
                  static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                  static_cast<int>(hms.seconds().count()));
    return buf;
}

std::optional<long long> parse_http_date(std::string_view text) {
    const std::string s(trim_ows(text));
    char wday[16] = {}, mon[4] = {};
    int d = 0, y = 0, h = 0, mi = 0, sec = 0, used = 0;
    // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
    if (std::sscanf(s.c_str(), "%3[A-Za-z], %2d %3[A-Za-z] %4d %2d:%2d:%2d GMT%n", wday, &d, mon, &y, &h, &mi, &sec, &used) == 7 &&
        static_cast<std::size_t>(used) == s.size())
        return make_time(y, month_index(mon), d, h, mi, sec);
    used = 0;
    // RFC 850: Sunday, 06-Nov-94 08:49:37 GMT (two-digit year: 70..99 -> 19xx)
    if (std::sscanf(s.c_str(), "%9[A-Za-z], %2d-%3[A-Za-z]-%2d %2d:%2d:%2d GMT%n", wday, &d, mon, &y, &h, &mi, &sec, &used) == 7 &&
        static_cast<std::size_t>(used) == s.size())
        return make_time(y < 70 ? 2000 + y : 1900 + y, month_index(mon), d, h, mi, sec);
    used = 0;
    // asctime: Sun Nov  6 08:49:37 1994
    if (std::sscanf(s.c_str(), "%3[A-Za-z] %3[A-Za-z] %2d %2d:%2d:%2d %4d%n", wday, mon, &d, &h, &mi, &sec, &y, &used) == 7 &&
        static_cast<std::size_t>(used) == s.size())
        return make_time(y, month_index(mon), d, h, mi, sec);
    return std::nullopt;
}

// ------------------------------------------------------------------- site

StaticSite::StaticSite(fs::path root, bool spa, std::size_t max_body_bytes, std::vector<std::string> immutable)
    : spa_(spa), max_body_bytes_(max_body_bytes), immutable_(std::move(immutable)) {
    std::error_code ec;
    fs::path canon = fs::canonical(root, ec);
    if (ec)
        throw std::runtime_error("static directory '" + root.string() + "' cannot be used: " + ec.message());
    if (!fs::is_directory(canon, ec))
        throw std::runtime_error("static directory '" + root.string() + "' is not a directory");
    root_ = std::move(canon);
}

std::optional<StaticAnswer> StaticSite::serve(const StaticRequest& request) const {
    const bool get = request.method == "GET";
    if (!get && request.method != "HEAD") return std::nullopt;

    // --- split and decode, refusing anything that could leave the root
    std::string_view rest = request.path;
    if (rest.empty() || rest.front() != '/') return std::nullopt;
    rest.remove_prefix(1);
    bool trailing_slash = false;
    if (!rest.empty() && rest.back() == '/') {
        rest.remove_suffix(1);
        trailing_slash = true;
        if (rest.empty()) return std::nullopt;  // "//"
    }
    fs::path target = root_;
    std::string relative;  // the decoded path under the root, "/assets/x.js"
    std::string last;  // last decoded segment, "" for the root
    std::string segment;
    while (!rest.empty()) {
        const auto slash = rest.find('/');
        const std::string_view raw = rest.substr(0, slash);
        rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
        if (raw.empty() || (slash != std::string_view::npos && rest.empty())) return std::nullopt;  // "//"
        if (!percent_decode(raw, segment)) return std::nullopt;
        if (segment.empty() || segment == "." || segment == ".." ||
            segment.find_first_of(std::string_view("/\\\0", 3)) != std::string::npos)
            return std::nullopt;
        target /= segment;
        relative += "/" + segment;
        last = segment;
    }

    // --- resolve: a regular file inside the root, or a directory's index.html
    bool fallback = false;
    std::optional<fs::path> file;
    if (auto canon = canonical_inside(root_, target)) {
        std::error_code ec;
        const fs::file_status st = fs::status(*canon, ec);
        if (fs::is_directory(st)) {
            file = canonical_inside(root_, *canon / "index.html");
            if (file && !fs::is_regular_file(*file, ec)) file.reset();
        } else if (fs::is_regular_file(st) && !trailing_slash) {
            file = std::move(canon);
        }
    } else {
        // Exists but outside the root (an escaping symlink): refused outright.
        std::error_code ec;
        if (fs::exists(target, ec)) return std::nullopt;
    }
    if (!file) {
        if (!spa_ || last.find('.') != std::string::npos) return std::nullopt;
        const auto accept = get_header(request, "Accept");
        if (!accept || !icontains(*accept, "text/html")) return std::nullopt;
        file = canonical_inside(root_, root_ / "index.html");
        std::error_code ec;
        if (!file || !fs::is_regular_file(*file, ec)) return std::nullopt;
        fallback = true;
    }

    // --- a precompressed sibling (app.js.br, app.js.gz) when the client takes it
    const std::string filename = file->filename().string();
    std::string_view encoding;
    bool has_variants = false;
    {
        const auto accept_encoding = get_header(request, "Accept-Encoding");
        for (const auto& [coding, suffix] : {std::pair<std::string_view, std::string_view>{"br", ".br"}, {"gzip", ".gz"}}) {
            // One lstat for the usual case (no sibling, or a plain file: *file
            // is canonical and inside the root, so is a plain file beside it);
            // a symlink is resolved and must stay inside the root like any file.
            const fs::path candidate(file->string() + std::string(suffix));
            std::error_code ec;
            const fs::file_status st = fs::symlink_status(candidate, ec);
            std::optional<fs::path> sibling;
            if (fs::is_regular_file(st)) {
                sibling = candidate;
            } else if (fs::is_symlink(st)) {
                sibling = canonical_inside(root_, candidate);
                if (sibling && !fs::is_regular_file(*sibling, ec)) sibling.reset();
            }
            if (!sibling) continue;
            has_variants = true;
            if (encoding.empty() && accept_encoding && accepts_coding(*accept_encoding, coding)) {
                encoding = coding;
                file = std::move(sibling);
            }
        }
    }

    // --- open once, and answer from what fstat says about that very file
    const File f(*file);
    struct ::stat st {};
    if (!f.stat(st) || !S_ISREG(st.st_mode)) return std::nullopt;
    const auto size = static_cast<std::uint64_t>(st.st_size);
    const auto mtime_ns = static_cast<std::uint64_t>(st.st_mtim.tv_sec) * 1000000000ULL +
                          static_cast<std::uint64_t>(st.st_mtim.tv_nsec);
    // Each variant is its own file, so its own mtime and size make its ETag.
    const std::string etag = "\"" + hex(mtime_ns) + "-" + hex(size) + "\"";
    const bool no_cache = fallback || filename == "index.html";
    const bool immutable = is_fingerprinted(filename) ||
                           std::any_of(immutable_.begin(), immutable_.end(), [&](const std::string& folder) {
                               return relative.compare(0, folder.size(), folder) == 0;
                           });

    StaticAnswer answer;
    answer.headers.emplace_back("ETag", etag);
    answer.headers.emplace_back("Last-Modified", format_http_date(static_cast<long long>(st.st_mtim.tv_sec)));
    answer.headers.emplace_back("Cache-Control", no_cache    ? "no-cache"
                                                 : immutable ? "public, max-age=31536000, immutable"
                                                             : "public, max-age=3600");
    if (fallback || has_variants)
        answer.headers.emplace_back("Vary", fallback && has_variants ? "Accept, Accept-Encoding"
                                            : fallback               ? "Accept"
                                                                     : "Accept-Encoding");
    if (!encoding.empty()) answer.headers.emplace_back("Content-Encoding", std::string(encoding));

    // --- conditional requests
    if (const auto inm = get_header(request, "If-None-Match")) {
        if (etag_list_matches(*inm, etag, /*weak=*/true)) {
            answer.status = 304;
            return answer;
        }
    } else if (const auto ims = get_header(request, "If-Modified-Since")) {
        const auto since = parse_http_date(*ims);
        if (since && static_cast<long long>(st.st_mtim.tv_sec) <= *since) {
            answer.status = 304;
            return answer;
        }
    }

    // --- range (GET only)
    ByteRange range;
    if (get) {
        if (const auto value = get_header(request, "Range")) {
            const auto if_range = get_header(request, "If-Range");
            if (!if_range || etag_list_matches(*if_range, etag, /*weak=*/false)) range = parse_range(*value, size);
        }
    }
    if (range.kind == ByteRange::Kind::Unsatisfiable) {
        answer.status = 416;
        answer.headers.emplace_back("Content-Range", "bytes */" + std::to_string(size));
        return answer;
    }

    std::uint64_t offset = 0;
    std::uint64_t length = size;
    if (range.kind == ByteRange::Kind::Satisfiable) {
        offset = range.first;
        length = range.last - range.first + 1;
    }
    if (length > max_body_bytes_) return std::nullopt;
    if (!f.read(offset, static_cast<std::size_t>(length), answer.body)) return std::nullopt;

    answer.content_type = static_content_type(filename);
    answer.headers.emplace_back("Accept-Ranges", "bytes");
    if (range.kind == ByteRange::Kind::Satisfiable) {
        answer.status = 206;
        answer.headers.emplace_back("Content-Range", "bytes " + std::to_string(range.first) + "-" +
                                                         std::to_string(range.last) + "/" + std::to_string(size));
    }
    return answer;
}

}  // namespace trellis::app
