// Serving a plugin's static directory (and single-page-application builds).
//
// Pure logic, no Pistache types: the server turns a request into a
// StaticRequest and a StaticAnswer into a response. A StaticSite is immutable
// after construction; serve() is const and safe to call from many threads.
//
// Path resolution (anything refused here is nullopt, never a SPA fallback):
// - `path` is the raw path relative to the site, without query string, and
//   must start with '/'. It is split on '/' and every segment is
//   percent-decoded once (router.hpp's percent_decode). A malformed escape,
//   or a decoded segment that is empty, "." or "..", or contains '/', '\\'
//   or NUL, is refused. One trailing '/' is allowed ("/docs/" names the
//   directory "docs"); "//" anywhere else is an empty segment.
// - The joined path is resolved with std::filesystem::canonical (symlinks
//   followed) and must lie inside the canonical root: a symlink inside the
//   root pointing inside it is served, one pointing outside is refused.
// - Only regular files are served (no FIFOs, devices, sockets).
// - No directory listing: a directory serves its own index.html (the
//   index.html is checked like any other file), else it is "not found".
//   "/docs" and "/docs/" both serve docs/index.html directly (no redirect),
//   so relative links inside it should be root-relative or the site an SPA.
//
// Not found (no file, or a directory without index.html):
// - spa == false: nullopt.
// - spa == true: the root's index.html is served (status 200, or 304/206 by
//   the same rules as any file, Cache-Control: no-cache, plus Vary: Accept)
//   only when the request looks like a browser navigation: the last decoded
//   segment contains no '.' (so "/app/settings" qualifies, "/app.js" and
//   "/logo.png" do not) AND the Accept header contains "text/html"
//   (case-insensitive). API calls (Accept: application/json) and missing
//   assets therefore still end in the caller's 404 chain.
//
// Answers:
// - Content-Type from the extension (case-insensitive): html/htm, css,
//   js/mjs, json, map, svg, png, jpg/jpeg, gif, webp, ico, txt, wasm,
//   woff, woff2, pdf, xml; anything else application/octet-stream. Textual
//   types carry "; charset=utf-8". content_type is empty for 304 and 416.
// - Validators on every answer (200/206/304/416): a strong ETag
//   "<hex mtime in ns since epoch>-<hex size>" and Last-Modified
//   (IMF-fixdate, GMT).
// - Cache-Control: "no-cache" for any file named index.html (and the SPA
//   fallback), so a new build is picked up at once while still revalidating
//   with 304; "public, max-age=31536000, immutable" for fingerprinted build
//   assets (is_fingerprinted: "index-4f3a9c1b.js", "app.3f2a1b9c.css"),
//   whose name changes with their content, and for every file under one of
//   the site's `immutable` folders ("/assets/": for hashes the name rule
//   cannot tell from words); "public, max-age=3600" for everything else.
// - Precompressed siblings: when "<file>.br" or "<file>.gz" exists (a regular
//   file inside the root, like any other) and Accept-Encoding accepts br or
//   gzip (q=0 refuses; "*" counts), that file's bytes are served instead
//   (br before gzip) with Content-Encoding, the original's Content-Type and
//   the sibling's own ETag; ranges and conditionals apply to those bytes.
//   Any answer for a file that has siblings carries Vary: Accept-Encoding.
// - Conditional requests: If-None-Match (a list of entity tags or "*",
//   weak comparison) answers 304 when it matches; only when If-None-Match is
//   absent, If-Modified-Since (IMF-fixdate, RFC 850 or asctime date; an
//   unparseable date is ignored) answers 304 when the file's mtime, in whole
//   seconds, is not later than the date. A 304 has no body and keeps ETag,
//   Last-Modified and Cache-Control.
// - Range (GET only; HEAD and other methods ignore it, as RFC 9110 asks):
//   one range "bytes=a-b", "bytes=a-" or "bytes=-n" answers 206 with
//   "Content-Range: bytes first-last/size" and just those bytes; "b" past the
//   end is clamped, "-n" larger than the file means the whole file. A range
//   starting at or past the end (or "-0", or any range of an empty file)
//   answers 416 with "Content-Range: bytes */size" and no body. Several
//   ranges ("bytes=0-1,5-6"), another unit, or a malformed value are ignored:
//   the full 200. If-Range honours the range only when it carries an entity
//   tag strongly equal to the current ETag; a date or any other tag gives
//   the full 200. Accept-Ranges: bytes on 200 and 206.
// - HEAD answers exactly like GET without Range, body included: the caller
//   takes Content-Length from the body and does not send it.
// - Files are read whole into `body` per request (or only the requested
//   range). Bytes to send above `max_body_bytes` (default 64 MiB) are
//   refused with nullopt; a range of at most that size within a larger file
//   is still served. A file that cannot be opened or read (permissions, a
//   race with a deploy) is also nullopt.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace trellis::app {

struct StaticRequest {
    std::string_view method;  // "GET"/"HEAD" served (exact, upper case); others -> nullopt
    std::string_view path;    // raw (percent-encoded) path relative to the site, starts with '/'
    // Request header lookup by name (case-insensitive, the caller's job);
    // may be empty (no headers at all).
    std::function<std::optional<std::string>(std::string_view name)> header;
};

struct StaticAnswer {
    int status = 200;          // 200, 206, 304 or 416
    std::string content_type;  // e.g. "text/html; charset=utf-8"; empty for 304/416
    // ETag, Last-Modified, Cache-Control, Accept-Ranges, Content-Range, Vary.
    // Never Content-Type or Content-Length.
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;          // full content, or the requested range; empty for 304/416

    // The value of a header by exact name, or nullptr.
    const std::string* find_header(std::string_view name) const noexcept;
};

class StaticSite {
public:
    static constexpr std::size_t kDefaultMaxBodyBytes = std::size_t{64} << 20;

    // `root` must be an existing directory; it is canonicalized once here.
    // Throws std::runtime_error naming the path otherwise.
    // `immutable`: folders of the site ("/assets/") whose files are served
    // as immutable whatever their names (manifest static.immutable).
    StaticSite(std::filesystem::path root, bool spa, std::size_t max_body_bytes = kDefaultMaxBodyBytes,
               std::vector<std::string> immutable = {});

    // nullopt: "not mine" (method not GET/HEAD, refused path, no such file
    // and no SPA fallback, file too large or unreadable): the caller answers
    // 404 through its normal error chain.
    std::optional<StaticAnswer> serve(const StaticRequest& request) const;

    const std::filesystem::path& root() const noexcept { return root_; }
    bool spa() const noexcept { return spa_; }

private:
    std::filesystem::path root_;  // canonical
    bool spa_;
    std::size_t max_body_bytes_;
    std::vector<std::string> immutable_;
};

// Helpers exposed for tests and for the server's logs.

// The Content-Type served for a file name, by its extension.
std::string static_content_type(std::string_view filename);

// Whether a file name carries a build fingerprint: "<name>-<print>.<ext>" or
// "<name>.<print>.<ext>", the print 8+ of [A-Za-z0-9_-] with a digit and a
// letter ("index-B7xk2Q9a.js" yes; "my-components.js", "jquery-3.7.1.js" no).
bool is_fingerprinted(std::string_view filename);

// An HTTP date (IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT") for seconds
// since the Unix epoch, and back. parse_http_date also accepts the obsolete
// RFC 850 and asctime forms; nullopt when it is none of the three.
std::string format_http_date(long long unix_seconds);
std::optional<long long> parse_http_date(std::string_view text);

}  // namespace trellis::app
