// The crashy plugin: handlers that kill or hang the process running them,
// for the supervisor's end-to-end tests (tests/e2e/service_test.cpp). A
// worker that runs one of these must be replaced while the others serve.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

#include <trellis/plugin.hpp>

namespace {
// A crash during start-up whenever the file named by the setting exists:
// the supervisor's crash-loop back-off is tested by creating it.
void crashy_init(trellis::Plugin& plugin) {
    const auto trigger = plugin.setting<std::string>("crash_in_init_if_exists", "");
    if (!trigger.empty() && std::filesystem::exists(trigger)) ::raise(SIGSEGV);
}
void crashy_shutdown(trellis::Plugin&) {}
}  // namespace

TRELLIS_PLUGIN_LIFECYCLE(crashy_init, crashy_shutdown);

TRELLIS_HANDLER(crashy_segv, trellis::Request&, trellis::Response&) {
    // An unmapped address, not null: under UBSan a null store would stop
    // the process with a report instead of the SIGSEGV the tests expect.
    // (The address is read at run time, so the compiler cannot see it.)
    volatile std::uintptr_t nowhere = 16;
    *reinterpret_cast<volatile int*>(nowhere) = 1;
}

TRELLIS_HANDLER(crashy_abort, trellis::Request&, trellis::Response&) { std::abort(); }

// Never returns: only the supervisor's worker_timeout ends it.
TRELLIS_HANDLER(crashy_loop, trellis::Request&, trellis::Response&) {
    for (;;) std::this_thread::sleep_for(std::chrono::milliseconds(10));
}

// Answers after ?ms= milliseconds: a request still in flight when the
// service drains.
TRELLIS_HANDLER(crashy_slow, trellis::Request& req, trellis::Response& res) {
    const auto ms = std::stoi(std::string(req.query("ms").value_or("500")));
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    res.json({{"slept_ms", ms}, {"pid", static_cast<int>(::getpid())}});
}

TRELLIS_HANDLER(crashy_pid, trellis::Request&, trellis::Response& res) {
    res.json({{"pid", static_cast<int>(::getpid())}});
}
