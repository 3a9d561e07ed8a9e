// Starting and stopping `trellis serve`: signals, shutdown hooks, and serve
// refusing to start on configuration or plugin errors.
#include <signal.h>

#include <string>

#include "fixture.hpp"

namespace e2e {
namespace {

TEST(Lifecycle, SigtermExitsZero) {
    auto host = Host::start("  hello: {mount: /}\n");
    ASSERT_EQ(get(host->port(), "/hello").status, 200);
    ExitStatus s = host->stop(SIGTERM);
    EXPECT_TRUE(s.exited && s.code == 0) << s.describe() << "\n" << host->err();
    EXPECT_FALSE(port_accepts(host->port()));
}

TEST(Lifecycle, SigintExitsZero) {
    auto host = Host::start("  hello: {mount: /}\n");
    ASSERT_EQ(get(host->port(), "/hello").status, 200);
    ExitStatus s = host->stop(SIGINT);
    EXPECT_TRUE(s.exited && s.code == 0) << s.describe() << "\n" << host->err();
}

TEST(Lifecycle, SigtermWithIdleKeepAliveConnectionExitsZero) {
    auto host = Host::start("  hello: {mount: /}\n");
    Connection idle(host->port());
    ASSERT_EQ(idle.request("GET", "/hello").status, 200);
    ExitStatus s = host->stop(SIGTERM);  // the idle connection must not hold it up
    EXPECT_TRUE(s.exited && s.code == 0) << s.describe() << "\n" << host->err();
}

TEST(Lifecycle, ShutdownHooksRunOnSigterm) {
    auto host = Host::start("  faulty: {mount: /}\n  golden: {mount: /}\n");
    ASSERT_EQ(get(host->port(), "/golden/x").status, 200);
    ExitStatus s = host->stop(SIGTERM);
    EXPECT_TRUE(s.exited && s.code == 0) << s.describe();
    EXPECT_TRUE(Contains(host->err(), "faulty shutdown hook ran"));
    EXPECT_TRUE(Contains(host->err(), "golden shutting down"));
}

// serve on a configuration it must refuse: exit 1, nothing listening.
RunResult serve_expecting_failure(std::string_view plugins_block, int port) {
    TempDir dir;
    auto config = dir.write("trellis.yaml", config_yaml(port, plugins_block));
    std::vector<std::string> args{"serve", "--config", config.string()};
    auto extra = default_plugin_args();
    args.insert(args.end(), extra.begin(), extra.end());
    return run_trellis(args, std::chrono::seconds(10));
}

TEST(Lifecycle, ServeRefusesPluginWithOtherAbiMajor) {
    int port = free_port();
    RunResult r = serve_expecting_failure("  hello: {mount: /}\n  abimajor: {mount: /x}\n", port);
    EXPECT_TRUE(r.status.exited && r.status.code == 1) << r.describe();
    EXPECT_TRUE(Contains(r.err, "ABI 2.0"));
    EXPECT_TRUE(Contains(r.err, "this host speaks ABI 1.3"));
    EXPECT_TRUE(Contains(r.err, (test_plugin_dir() / "libabimajor.so").string()));
    EXPECT_TRUE(NotContains(r.err, kCanary));
    EXPECT_FALSE(port_accepts(port));
}

TEST(Lifecycle, ServeRefusesFailingInit) {
    RunResult r = serve_expecting_failure("  initfail: {mount: /}\n", free_port());
    EXPECT_TRUE(r.status.exited && r.status.code == 1) << r.describe();
    EXPECT_TRUE(Contains(r.err, "init failed"));
}

TEST(Lifecycle, ServeRefusesConfigError) {
    RunResult r = serve_expecting_failure("  hello: {mount: hello}\n", free_port());
    EXPECT_TRUE(r.status.exited && r.status.code == 1) << r.describe();
    EXPECT_TRUE(Contains(r.err, "plugins.hello.mount: must start with '/'"));
}

TEST(Lifecycle, ServeRefusesMissingPlugin) {
    RunResult r = serve_expecting_failure("  ghost: {mount: /}\n", free_port());
    EXPECT_TRUE(r.status.exited && r.status.code == 1) << r.describe();
    EXPECT_TRUE(Contains(r.err, "not found"));
}

}  // namespace
}  // namespace e2e
