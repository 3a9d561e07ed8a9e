#include "config/environment.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <system_error>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace trellis::config {

namespace fs = std::filesystem;

namespace {

bool is_name_start(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }

std::string errno_text(int error) { return std::error_code(error, std::generic_category()).message(); }

// The contents of a secret file without its trailing newlines. Only a
// regular file: a directory (a path missing its file name) would read as an
// empty secret, a FIFO or device could block the load forever.
std::optional<std::string> read_secret_file(const fs::path& path, std::string& problem) {
    const auto fail = [&](const std::string& why) {
        problem = "cannot read " + path.string() + " (from ${file:...}): " + why;
        return std::nullopt;
    };
    if (path.empty()) {
        problem = "${file:} needs the path of a file to read";
        return std::nullopt;
    }
    // O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused below).
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return fail(errno_text(errno));
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        const int error = errno;
        ::close(fd);
        return fail(errno_text(error));
    }
    if (!S_ISREG(st.st_mode)) {
        ::close(fd);
        return fail(S_ISDIR(st.st_mode) ? "is a directory" : "not a regular file");
    }
    std::string value;
    char buffer[4096];
    while (true) {
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            const int error = errno;
            ::close(fd);
            return fail(errno_text(error));
        }
        if (n == 0) break;
        value.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(fd);
    while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
    return value;
}

// The text of one reference, between "${" and its matching "}".
std::optional<std::string> resolve(std::string_view inner, const Lookup& lookup, const fs::path& base_dir,
                                   std::string& problem) {
    if (inner.substr(0, 5) == "file:") {
        const auto text = substitute_text(inner.substr(5), lookup, base_dir, problem);
        if (!text) return std::nullopt;
        fs::path path(*text);
        // Relative to the configuration's folder, wherever the host was started from.
        if (!path.empty() && path.is_relative()) path = base_dir / path;
        return read_secret_file(path, problem);
    }
    std::size_t end = 0;
    while (end < inner.size() && is_name_char(inner[end])) ++end;
    const std::string name(inner.substr(0, end));
    if (name.empty() || !is_name_start(name.front()) ||
        (end < inner.size() && inner.substr(end, 2) != ":-")) {
        problem = "malformed reference '${" + std::string(inner) +
                  "}': write ${NAME}, ${NAME:-default} or ${file:PATH} (NAME: letters, digits, '_'; $$ for a '$')";
        return std::nullopt;
    }
    const auto value = lookup(name);
    if (end == inner.size()) {
        if (!value) {
            problem = "environment variable " + name + " is not set (write ${" + name + ":-default} for a default)";
            if (name == "CREDENTIALS_DIRECTORY") problem += "; systemd sets it for a unit with LoadCredential=";
            return std::nullopt;
        }
        return value;
    }
    if (value && !value->empty()) return value;
    return substitute_text(inner.substr(end + 2), lookup, base_dir, problem);
}

struct Walk {
    DiagnosticSink& sink;
    const Lookup& lookup;
    const fs::path& base_dir;
    // Scalars already substituted: an alias (*name) is the node of its
    // anchor, and a value read from a variable must not be read again.
    std::vector<YAML::Node> done;

    void operator()(YAML::Node node, const std::string& path) {
        if (node.IsScalar()) {
            const std::string& text = node.Scalar();
            if (text.find('$') == std::string::npos) return;
            if (std::any_of(done.begin(), done.end(), [&](const YAML::Node& seen) { return seen.is(node); })) return;
            done.push_back(node);
            std::string problem;
            if (auto value = substitute_text(text, lookup, base_dir, problem))
                node = *value;  // yaml-cpp 0.7 keeps the node's mark and tag
            else
                sink.error_once(node, path, problem);
            return;
        }
        if (node.IsSequence()) {
            for (std::size_t i = 0; i < node.size(); ++i) (*this)(node[i], path + "[" + std::to_string(i) + "]");
            return;
        }
        if (node.IsMap())
            for (auto it = node.begin(); it != node.end(); ++it)
                (*this)(it->second, join_key(path, it->first.IsScalar() ? it->first.Scalar() : "?"));
    }
};

}  // namespace

std::optional<std::string> substitute_text(std::string_view text, const Lookup& lookup, const fs::path& base_dir,
                                           std::string& problem) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c != '$' || i + 1 == text.size()) {
            out.push_back(c);
            continue;
        }
        if (text[i + 1] == '$') {
            out.push_back('$');
            ++i;
            continue;
        }
        if (text[i + 1] != '{') {
            out.push_back(c);
            continue;
        }
        // The matching '}': references may nest in defaults and paths.
        std::size_t depth = 1, j = i + 2;
        for (; j < text.size() && depth; ++j) {
            if (text[j] == '{') ++depth;
            if (text[j] == '}') --depth;
        }
        if (depth) {
            problem = "unterminated reference '" + std::string(text.substr(i)) + "': missing '}'";
            return std::nullopt;
        }
        const auto value = resolve(text.substr(i + 2, j - 1 - (i + 2)), lookup, base_dir, problem);
        if (!value) return std::nullopt;
        out += *value;  // as it is: a '$' in a variable's value is not a reference
        i = j - 1;
    }
    return out;
}

void substitute_environment(YAML::Node& root, DiagnosticSink& sink, const fs::path& base_dir) {
    const Lookup from_environment = [](const std::string& name) -> std::optional<std::string> {
        const char* value = std::getenv(name.c_str());
        if (!value) return std::nullopt;
        return std::string(value);
    };
    Walk{sink, from_environment, base_dir, {}}(root, "");
}

}  // namespace trellis::config
