// Environment references and secret files in the operator configuration, as
// the real binary reads them: the supervisor's environment reaches the
// workers, and a ${file:...} secret reaches the plugin's settings.
#include <cstdlib>
#include <optional>
#include <string>

#include "fixture.hpp"

namespace e2e {
namespace {

// Sets a variable for one test (the host inherits it), then restores it.
class ScopedEnv {
public:
    ScopedEnv(const char* name, const std::string& value) : name_(name) {
        if (const char* old = std::getenv(name)) old_ = old;
        ::setenv(name, value.c_str(), 1);
    }
    ~ScopedEnv() {
        if (old_)
            ::setenv(name_.c_str(), old_->c_str(), 1);
        else
            ::unsetenv(name_.c_str());
    }
    ScopedEnv(const ScopedEnv&) = delete;
    ScopedEnv& operator=(const ScopedEnv&) = delete;

private:
    std::string name_;
    std::optional<std::string> old_;
};

TEST(ConfigEnvironment, ASecretFileAndAVariableReachThePluginThroughTheWorkers) {
    TempDir credentials;  // what systemd's LoadCredential= would provide
    credentials.write("greeting", "Bonjour\n");
    ScopedEnv directory("CREDENTIALS_DIRECTORY", credentials.path().string());
    ScopedEnv mount("TRELLIS_E2E_MOUNT", "/fr");
    const auto host = Host::start(
        "  hello:\n"
        "    mount: ${TRELLIS_E2E_MOUNT}\n"
        "    settings:\n"
        "      greeting: ${file:${CREDENTIALS_DIRECTORY}/greeting}\n",
        {.server_extra = "  workers: 1\n"});
    const Response r = get(host->port(), "/fr/hello/world");
    ASSERT_EQ(r.status, 200) << r.dump();
    EXPECT_EQ(r.body, "{\"message\":\"Bonjour, world!\"}");
    EXPECT_EQ(host->stop(SIGTERM).describe(), "exit code 0");
}

}  // namespace
}  // namespace e2e
