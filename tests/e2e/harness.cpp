#include "harness.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace e2e {

fs::path trellis_binary() { return TRELLIS_E2E_BINARY; }
fs::path plugin_dir() { return TRELLIS_E2E_PLUGIN_DIR; }
fs::path test_plugin_dir() { return TRELLIS_E2E_TEST_PLUGIN_DIR; }

std::vector<std::string> default_plugin_args() {
    return {"--plugin-path", plugin_dir().string(), "--plugin-path", test_plugin_dir().string()};
}

TempDir::TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/trellis-e2e-XXXXXX";
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp: " + std::string(std::strerror(errno)));
    path_ = tmpl;
}

TempDir::~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
}

fs::path TempDir::write(const std::string& name, std::string_view content) const {
    fs::path file = path_ / name;
    fs::create_directories(file.parent_path());
    std::ofstream os(file, std::ios::binary | std::ios::trunc);
    os.write(content.data(), static_cast<std::streamsize>(content.size()));
    if (!os) throw std::runtime_error("cannot write " + file.string());
    return file;
}

std::string read_file(const fs::path& file) {
    std::ifstream is(file, std::ios::binary);
    std::ostringstream ss;
    ss << is.rdbuf();
    return ss.str();
}

int free_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw std::runtime_error("socket failed");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        ::close(fd);
        throw std::runtime_error("cannot find a free port");
    }
    ::close(fd);
    return ntohs(addr.sin_port);
}

int free_port_other_than(int taken) {
    for (;;)
        if (const int port = free_port(); port != taken) return port;
}

bool port_accepts(int port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    return ok;
}

std::string config_yaml(int port, std::string_view plugins_block, const HostOptions& options) {
    std::string y;
    y += "server:\n";
    y += "  listen: 127.0.0.1\n";
    y += "  port: " + std::to_string(port) + "\n";
    y += "  threads: 2\n";
    y += options.server_extra;
    y += "logging:\n";
    y += "  level: debug\n";
    y += options.logging_extra;
    if (options.admin_port == 0)
        y += "admin:\n  enabled: false\n";
    else
        y += "admin:\n  listen: 127.0.0.1\n  port: " +
             std::to_string(options.admin_port > 0 ? options.admin_port : free_port_other_than(port)) + "\n";
    y += options.top_level_extra;
    y += "plugins:\n";
    y += plugins_block;
    return y;
}

std::string ExitStatus::describe() const {
    if (exited) return "exit code " + std::to_string(code);
    if (signal) return "killed by signal " + std::to_string(signal) + " (" + strsignal(signal) + ")";
    return "unknown exit";
}

namespace {
ExitStatus decode(int raw) {
    ExitStatus s;
    if (WIFEXITED(raw)) {
        s.exited = true;
        s.code = WEXITSTATUS(raw);
    } else if (WIFSIGNALED(raw)) {
        s.signal = WTERMSIG(raw);
    }
    return s;
}
}  // namespace

Process::Process(const std::vector<std::string>& argv, const fs::path& out_file, const fs::path& err_file) {
    // Everything the child needs is prepared before fork: after it only
    // async-signal-safe calls.
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    std::string out = out_file.string(), err = err_file.string();
    pid_t parent = ::getpid();

    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive a crashed test binary
        if (::getppid() != parent) ::_exit(127);
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        int in = ::open("/dev/null", O_RDONLY);
        int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (in < 0 || o < 0 || e < 0) ::_exit(127);
        ::dup2(in, 0);
        ::dup2(o, 1);
        ::dup2(e, 2);
        ::execv(args[0], args.data());
        ::_exit(127);
    }
}

Process::~Process() {
    if (pid_ > 0 && !status_) {
        ::kill(pid_, SIGKILL);
        int raw = 0;
        ::waitpid(pid_, &raw, 0);
    }
}

std::optional<ExitStatus> Process::poll() {
    if (status_) return status_;
    int raw = 0;
    pid_t r = ::waitpid(pid_, &raw, WNOHANG);
    if (r == pid_) status_ = decode(raw);
    return status_;
}

std::optional<ExitStatus> Process::wait_for(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
        if (auto s = poll()) return s;
        if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

void Process::signal(int sig) {
    if (!status_) ::kill(pid_, sig);
}

std::string RunResult::describe() const {
    return status.describe() + "\n--- stdout ---\n" + out + "--- stderr ---\n" + err + "--------------";
}

RunResult run_program(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
    TempDir dir;
    RunResult r;
    {
        Process p(argv, dir.path() / "stdout", dir.path() / "stderr");
        auto s = p.wait_for(timeout);
        if (!s) {
            p.signal(SIGKILL);
            s = p.wait_for(std::chrono::seconds(5));
            r.err = "[harness: killed after timeout]\n";
        }
        r.status = s.value_or(ExitStatus{});
    }
    r.out = read_file(dir.path() / "stdout");
    r.err += read_file(dir.path() / "stderr");
    return r;
}

RunResult run_trellis(const std::vector<std::string>& args, std::chrono::milliseconds timeout) {
    std::vector<std::string> argv{trellis_binary().string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_program(argv, timeout);
}

RunResult run_check(const fs::path& config, const std::vector<std::string>& plugin_args) {
    std::vector<std::string> args{"check", "--config", config.string()};
    args.insert(args.end(), plugin_args.begin(), plugin_args.end());
    return run_trellis(args);
}

RunResult run_with_config(const std::string& command, std::string_view plugins_block, const HostOptions& options,
                          std::chrono::milliseconds timeout) {
    TempDir dir;
    const fs::path config = dir.write("trellis.yaml", config_yaml(free_port(), plugins_block, options));
    std::vector<std::string> args{command, "--config", config.string()};
    args.insert(args.end(), options.plugin_args.begin(), options.plugin_args.end());
    return run_trellis(args, timeout);
}

std::unique_ptr<Host> Host::launch(std::string_view plugins_block, const HostOptions& options) {
    std::unique_ptr<Host> h(new Host(options));
    h->port_ = free_port();
    // Two free ports picked one after the other can be the same one (the
    // first was closed again): the host refuses admin.port == server.port.
    if (h->options_.admin_port < 0) h->options_.admin_port = free_port_other_than(h->port_);
    h->dir_ = std::make_unique<TempDir>();
    const fs::path config = h->dir_->write("trellis.yaml", config_yaml(h->port_, plugins_block, h->options_));
    std::vector<std::string> argv{trellis_binary().string(), "serve", "--config", config.string()};
    argv.insert(argv.end(), options.plugin_args.begin(), options.plugin_args.end());
    h->process_ = std::make_unique<Process>(argv, h->dir_->path() / "stdout", h->dir_->path() / "stderr");
    return h;
}

std::string Host::wait_listening() {
    const auto timeout = options_.listen_timeout;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (auto s = process_->poll())
            return "trellis serve exited before listening (" + s->describe() + ")\n--- stderr ---\n" + err() +
                   "--- config ---\n" + read_file(config_path());
        if (port_accepts(port_)) return "";
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return "trellis serve did not listen on port " + std::to_string(port_) + " within " +
           std::to_string(std::chrono::duration_cast<std::chrono::seconds>(timeout).count()) +
           " s\n--- stderr ---\n" + err();
}

std::unique_ptr<Host> Host::start(std::string_view plugins_block, const HostOptions& options) {
    // A port that was free may be taken by the time the host binds it; try a
    // few times if the host fails early.
    std::string why;
    for (int attempt = 0; attempt < 3; ++attempt) {
        auto h = launch(plugins_block, options);
        why = h->wait_listening();
        if (why.empty()) return h;
        if (h->process().running() || h->err().find("in use") == std::string::npos) break;  // not a port race
    }
    throw std::runtime_error(why);
}

bool Host::wait_for_log(std::string_view text, std::chrono::milliseconds timeout) const {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
        if (err().find(text) != std::string::npos) return true;
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

void Host::rewrite_config(std::string_view plugins_block, const HostOptions& options) const {
    HostOptions same_ports = options;
    same_ports.admin_port = options_.admin_port;
    // Written beside and renamed: the supervisor never reads half a file.
    dir_->write("trellis.yaml.new", config_yaml(port_, plugins_block, same_ports));
    fs::rename(dir_->path() / "trellis.yaml.new", config_path());
}

ExitStatus Host::stop(int sig) {
    process_->signal(sig);
    if (auto s = process_->wait_for(options_.stop_timeout)) return *s;
    process_->signal(SIGKILL);
    (void)process_->wait_for(std::chrono::seconds(5));
    ExitStatus hung;
    hung.signal = SIGKILL;  // reported as "killed by SIGKILL": it did not stop by itself
    return hung;
}

}  // namespace e2e
