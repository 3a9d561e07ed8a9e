// End-to-end harness: runs the real `trellis` binary in a scratch folder with
// a generated configuration, waits until it listens, and stops it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace e2e {

namespace fs = std::filesystem;

// Locations baked in at build time (see CMakeLists.txt).
fs::path trellis_binary();
fs::path plugin_dir();       // first-party plugins (hello)
fs::path test_plugin_dir();  // tests/plugins output

// The --plugin-path arguments for both plugin folders.
std::vector<std::string> default_plugin_args();

// A free port that is not `taken` (for a second listener of one host).
int free_port_other_than(int taken);

// A unique scratch folder, removed on destruction.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const fs::path& path() const noexcept { return path_; }
    // Writes `content` to path()/name and returns the full path.
    fs::path write(const std::string& name, std::string_view content) const;

private:
    fs::path path_;
};

std::string read_file(const fs::path& file);

// A TCP port on 127.0.0.1 that was free a moment ago (bind :0, read, close).
int free_port();

// What a configuration (and a host started with it) has besides its plugins.
// Blocks are YAML lines ending in '\n'; the lines of a block's body are
// indented by two spaces. Every member has a default, so designated
// initializers name only what they change: {.server_extra = "..."}.
struct HostOptions {
    std::string server_extra{};     // more `server:` lines, e.g. "  max_request_bytes: 8KiB\n"
    std::string logging_extra{};    // more `logging:` lines, e.g. "  format: json\n"
    std::string top_level_extra{};  // whole top-level sections, e.g. "errors:\n  500: {text: x}\n"
    // The supervisor's admin listener (`admin.port`): -1 picks a free port
    // (parallel tests must not share the default 9901); 0 turns it off.
    int admin_port = -1;
    std::vector<std::string> plugin_args = default_plugin_args();  // for serve/check/migrate
    // How long Host::start waits for the port and Host::stop for the exit.
    std::chrono::milliseconds listen_timeout = std::chrono::seconds(10);
    std::chrono::milliseconds stop_timeout = std::chrono::seconds(10);
};

// The main configuration file, with `plugins_block` as the body of
// `plugins:` (lines indented by two spaces) and the extra blocks of `options`.
std::string config_yaml(int port, std::string_view plugins_block, const HostOptions& options = {});

// How a child ended.
struct ExitStatus {
    bool exited = false;  // normal exit; `code` is valid
    int code = -1;
    int signal = 0;       // when killed by a signal
    std::string describe() const;
};

// A child process whose stdout and stderr go to files.
class Process {
public:
    Process(const std::vector<std::string>& argv, const fs::path& out_file, const fs::path& err_file);
    ~Process();  // SIGKILLs a child that is still running
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;

    pid_t pid() const noexcept { return pid_; }
    // The exit status if the child has ended (reaps it), nullopt otherwise.
    std::optional<ExitStatus> poll();
    // Waits up to `timeout`; nullopt if still running.
    std::optional<ExitStatus> wait_for(std::chrono::milliseconds timeout);
    void signal(int sig);
    bool running() { return !poll().has_value(); }

private:
    pid_t pid_ = -1;
    std::optional<ExitStatus> status_;
};

// Output of a run to completion.
struct RunResult {
    ExitStatus status;
    std::string out, err;
    std::string describe() const;  // for assertion messages
};

// Whether the command exited normally with `code`.
inline bool exited_with(const RunResult& r, int code) { return r.status.exited && r.status.code == code; }

// Runs a program (argv[0] is a path) to completion; killed after `timeout`.
RunResult run_program(const std::vector<std::string>& argv,
                      std::chrono::milliseconds timeout = std::chrono::seconds(30));

// Runs `trellis args...` to completion (killed after `timeout`).
RunResult run_trellis(const std::vector<std::string>& args,
                      std::chrono::milliseconds timeout = std::chrono::seconds(30));

// `trellis check --config <file> [--plugin-path ...]`.
RunResult run_check(const fs::path& config, const std::vector<std::string>& plugin_args = default_plugin_args());

// `trellis <command> --config <file> <options.plugin_args>` (check, migrate,
// or a serve expected to fail) with config_yaml(plugins_block, options)
// written to a scratch file.
RunResult run_with_config(const std::string& command, std::string_view plugins_block, const HostOptions& options = {},
                          std::chrono::milliseconds timeout = std::chrono::seconds(30));

// A running `trellis serve`.
class Host {
public:
    // Writes trellis.yaml (config_yaml) into a fresh TempDir and starts serve
    // without waiting (several hosts can start together).
    static std::unique_ptr<Host> launch(std::string_view plugins_block, const HostOptions& options = {});
    // Waits up to options.listen_timeout until the port accepts connections:
    // "" when it does, else why not (with the captured stderr).
    std::string wait_listening();
    // launch + wait_listening, retrying on a port race. Throws
    // std::runtime_error, with the captured stderr, if serve exits or does
    // not listen in time.
    static std::unique_ptr<Host> start(std::string_view plugins_block, const HostOptions& options = {});

    int port() const noexcept { return port_; }
    int admin_port() const noexcept { return options_.admin_port; }
    const TempDir& dir() const noexcept { return *dir_; }
    fs::path config_path() const { return dir_->path() / "trellis.yaml"; }
    std::string err() const { return read_file(dir_->path() / "stderr"); }
    std::string out() const { return read_file(dir_->path() / "stdout"); }
    Process& process() noexcept { return *process_; }

    // Polls stderr until it contains `text` (logs may lag the response).
    bool wait_for_log(std::string_view text, std::chrono::milliseconds timeout = std::chrono::seconds(3)) const;

    // Rewrites trellis.yaml (same ports) with another plugins block and
    // options, for a reload.
    void rewrite_config(std::string_view plugins_block, const HostOptions& options) const;

    // Sends `sig` and waits up to options.stop_timeout for the exit (SIGKILL
    // after that, reported as "killed by SIGKILL").
    ExitStatus stop(int sig);

private:
    explicit Host(HostOptions options) : options_(std::move(options)) {}
    HostOptions options_;
    std::unique_ptr<TempDir> dir_;
    std::unique_ptr<Process> process_;
    int port_ = 0;
};

// true if something accepts TCP connections on 127.0.0.1:port.
bool port_accepts(int port);

}  // namespace e2e
