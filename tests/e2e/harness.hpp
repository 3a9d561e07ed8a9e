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
#include <vector>

namespace e2e {

namespace fs = std::filesystem;

// Locations baked in at build time (see CMakeLists.txt).
fs::path trellis_binary();
fs::path plugin_dir();       // first-party plugins (hello)
fs::path test_plugin_dir();  // tests/plugins output

// The --plugin-path arguments for both plugin folders.
std::vector<std::string> default_plugin_args();

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

// The main configuration file, with `plugins_block` as the body of
// `plugins:` (lines indented by two spaces) and `server_extra` as extra lines
// of the `server:` block.
std::string config_yaml(int port, std::string_view plugins_block, std::string_view server_extra = "",
                        std::string_view top_level_extra = "");

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

// Runs `trellis args...` to completion (killed after `timeout`).
RunResult run_trellis(const std::vector<std::string>& args,
                      std::chrono::milliseconds timeout = std::chrono::seconds(30));

// `trellis check --config <file> [--plugin-path ...]`.
RunResult run_check(const fs::path& config, const std::vector<std::string>& plugin_args = default_plugin_args());

// A running `trellis serve`.
class Host {
public:
    // Writes trellis.yaml (config_yaml) into a fresh TempDir, starts serve and
    // waits until the port accepts connections. Throws std::runtime_error,
    // with the captured stderr, if it exits or does not listen within 10 s.
    static std::unique_ptr<Host> start(std::string_view plugins_block, std::string_view server_extra = "",
                                       std::vector<std::string> plugin_args = default_plugin_args());

    int port() const noexcept { return port_; }
    const TempDir& dir() const noexcept { return *dir_; }
    fs::path config_path() const { return dir_->path() / "trellis.yaml"; }
    std::string err() const { return read_file(err_file_); }
    std::string out() const { return read_file(out_file_); }
    Process& process() noexcept { return *process_; }

    // Polls stderr until it contains `text` (logs may lag the response).
    bool wait_for_log(std::string_view text, std::chrono::milliseconds timeout = std::chrono::seconds(3)) const;

    // Sends `sig` and waits up to 10 s for the exit (SIGKILL after that).
    ExitStatus stop(int sig);

private:
    Host() = default;
    std::unique_ptr<TempDir> dir_;
    std::unique_ptr<Process> process_;
    fs::path out_file_, err_file_;
    int port_ = 0;
};

// true if something accepts TCP connections on 127.0.0.1:port.
bool port_accepts(int port);

}  // namespace e2e
