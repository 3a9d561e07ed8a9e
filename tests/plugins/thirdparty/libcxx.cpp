// Uses the standard library freely (strings, maps, exceptions): all of it is
// libc++ here, while the host is built with libstdc++.
#include <map>
#include <stdexcept>
#include <string>

#include <trellis/plugin.hpp>

TRELLIS_PLUGIN();

namespace {
const char* standard_library() {
#if defined(_LIBCPP_VERSION)
    return "libc++";
#elif defined(__GLIBCXX__)
    return "libstdc++";
#else
    return "unknown";
#endif
}
}  // namespace

TRELLIS_HANDLER(libcxx_hello, trellis::Request& req, trellis::Response& res) {
    std::string name(req.param("name"));
    std::map<std::string, int> letters;
    for (char c : name) ++letters[std::string(1, c)];
    res.json({{"message", req.plugin().setting<std::string>("prefix", "?") + ": hello " + name},
              {"stdlib", standard_library()},
              {"letters", letters}});
}

// An exception thrown and caught inside libc++ code, reported through fail().
TRELLIS_HANDLER(libcxx_conflict, trellis::Request&, trellis::Response&) {
    throw trellis::HttpError(409, "libc++ plugin says conflict");
}

TRELLIS_HANDLER(libcxx_throw, trellis::Request&, trellis::Response&) {
    std::map<int, int> empty;
    (void)empty.at(42);  // throws std::out_of_range
}
