#include "bench/comparison/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

extern char** environ;

namespace lockmesh::bench::comparison {
namespace {

using Clock = std::chrono::steady_clock;

// The registry the signal handler reads: plain atomics, since a handler may only touch
// lock-free state. More children than this at once is a bug in the driver.
constexpr std::size_t kChildrenMax = 512;
std::array<std::atomic<pid_t>, kChildrenMax> g_children{};

void Register(pid_t pid) {
  for (auto& slot : g_children) {
    pid_t empty = 0;
    if (slot.compare_exchange_strong(empty, pid)) return;
  }
  std::fprintf(stderr, "bench_compare: more than %zu children; pid %d is not tracked\n",
               kChildrenMax, pid);
}

void Unregister(pid_t pid) {
  for (auto& slot : g_children) {
    pid_t mine = pid;
    if (slot.compare_exchange_strong(mine, 0)) return;
  }
}

extern "C" void KillChildrenAndDie(int sig) {
  for (auto& slot : g_children) {
    const pid_t pid = slot.load();
    if (pid > 0) ::kill(pid, SIGKILL);
  }
  // Reap them (SIGKILL cannot be ignored, so each wait is short): none is left a zombie.
  for (auto& slot : g_children) {
    const pid_t pid = slot.load();
    if (pid > 0) ::waitpid(pid, nullptr, 0);
  }
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

}  // namespace

void InstallStopHandler() {
  struct sigaction sa {};
  sa.sa_handler = KillChildrenAndDie;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) ::sigaction(sig, &sa, nullptr);
  // A client process whose stdin reader is gone must not die writing its results.
  ::signal(SIGPIPE, SIG_IGN);
}

std::optional<std::string> FindProgram(const std::string& name) {
  if (name.find('/') != std::string::npos) {
    return ::access(name.c_str(), X_OK) == 0 ? std::optional(name) : std::nullopt;
  }
  const char* path = std::getenv("PATH");
  for (absl::string_view dir : absl::StrSplit(path ? path : "/usr/bin:/bin", ':')) {
    std::string candidate = absl::StrCat(dir, "/", name);
    struct stat st {};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        ::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
  }
  return std::nullopt;
}

int64_t ResidentBytes(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    long long kb = 0;
    if (std::sscanf(line.c_str(), "VmRSS: %lld kB", &kb) == 1) return kb * 1024;
  }
  return -1;
}

absl::StatusOr<std::unique_ptr<Process>> Process::Start(std::vector<std::string> args,
                                                        SpawnOptions options) {
  int out[2] = {-1, -1}, in[2] = {-1, -1}, exec_err[2] = {-1, -1};
  const bool to_pipe = options.log_path.empty();
  int log_fd = -1;
  if (!to_pipe) {
    log_fd = ::open(options.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log_fd < 0) return absl::InternalError(absl::StrCat("cannot open ", options.log_path));
  }
  if ((to_pipe && ::pipe2(out, O_CLOEXEC) != 0) ||
      (options.stdin_pipe && ::pipe2(in, O_CLOEXEC) != 0) || ::pipe2(exec_err, O_CLOEXEC) != 0) {
    return absl::InternalError("pipe2 failed");
  }
  // Everything the child needs is built before fork: after it only async-signal-safe calls.
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_text;
  for (char** e = environ; *e != nullptr; ++e) env_text.emplace_back(*e);
  for (const std::string& e : options.env) env_text.push_back(e);
  std::vector<char*> envp;
  for (std::string& e : env_text) envp.push_back(e.data());
  envp.push_back(nullptr);
  const pid_t parent = ::getpid();
  const int devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);

  const pid_t pid = ::fork();
  if (pid < 0) return absl::InternalError("fork failed");
  if (pid == 0) {
    // Dies with the driver, even if the driver is SIGKILLed.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    ::setpgid(0, 0);  // the terminal's Ctrl-C goes to the driver, which kills us by PID
    ::dup2(options.stdin_pipe ? in[0] : devnull, 0);
    const int sink = to_pipe ? out[1] : log_fd;
    ::dup2(sink, 1);
    ::dup2(sink, 2);
    ::execve(argv[0], argv.data(), envp.data());
    const int err = errno;
    (void)!::write(exec_err[1], &err, sizeof err);
    ::_exit(127);
  }
  Register(pid);
  ::close(devnull);
  ::close(exec_err[1]);
  if (to_pipe) ::close(out[1]);
  if (options.stdin_pipe) ::close(in[0]);
  if (log_fd >= 0) ::close(log_fd);
  std::unique_ptr<Process> p(
      new Process(pid, to_pipe ? out[0] : -1, options.stdin_pipe ? in[1] : -1, options.log_path));
  int err = 0;
  const ssize_t n = ::read(exec_err[0], &err, sizeof err);  // EOF once exec succeeded
  ::close(exec_err[0]);
  if (n == sizeof err) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot execute ", args[0], ": ", std::strerror(err)));
  }
  return p;
}

Process::Process(pid_t pid, int out_fd, int in_fd, std::string log_path)
    : pid_(pid), out_fd_(out_fd), in_fd_(in_fd), log_path_(std::move(log_path)) {}

Process::~Process() {
  Kill();
  if (out_fd_ >= 0) ::close(out_fd_);
  CloseStdin();
}

void Process::Reaped(int status) {
  status_ = status;
  Unregister(pid_);
  pid_ = -1;
}

std::optional<std::string> Process::WaitLine(std::string_view prefix, Clock::duration bound) {
  const Clock::time_point until = Clock::now() + bound;
  while (true) {
    while (next_ < lines_.size()) {
      const std::string& line = lines_[next_++];
      if (line.rfind(prefix, 0) == 0) return line;
    }
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(until - Clock::now());
    if (left.count() <= 0) return std::nullopt;
    // False: the output ended (every line read so far was checked above).
    if (!ReadSome(static_cast<int>(std::min<int64_t>(left.count(), 50)))) return std::nullopt;
  }
}

bool Process::ReadSome(int timeout_ms) {
  char buf[65536];
  ssize_t n = 0;
  if (out_fd_ >= 0) {
    pollfd p{out_fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return true;  // nothing yet; not the end
    n = ::read(out_fd_, buf, sizeof buf);
    if (n <= 0) return false;
  } else {
    // A server's log file: read what was appended since last time, or wait a little. The
    // short poll is a startup wait on a file, not on an event we could block on.
    const int fd = ::open(log_path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      n = ::pread(fd, buf, sizeof buf, log_offset_);
      ::close(fd);
    }
    if (n <= 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min(timeout_ms, 10)));
      if (pid_ > 0 && WaitExit(std::chrono::milliseconds(0))) return false;
      return true;
    }
    log_offset_ += n;
  }
  partial_.append(buf, static_cast<std::size_t>(n));
  for (std::size_t eol; (eol = partial_.find('\n')) != std::string::npos;) {
    lines_.push_back(partial_.substr(0, eol));
    partial_.erase(0, eol + 1);
  }
  return true;
}

bool Process::Send(const std::string& line) {
  if (in_fd_ < 0) return false;
  const std::string text = line + "\n";
  return ::write(in_fd_, text.data(), text.size()) == static_cast<ssize_t>(text.size());
}

void Process::CloseStdin() {
  if (in_fd_ >= 0) ::close(in_fd_);
  in_fd_ = -1;
}

bool Process::WaitExit(Clock::duration bound) {
  if (pid_ <= 0) return true;
  const Clock::time_point until = Clock::now() + bound;
  while (true) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      Reaped(status);
      return true;
    }
    if (Clock::now() >= until) return false;
    // No event to block on for a child's exit without a SIGCHLD handler; a shutdown poll.
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

void Process::Stop(Clock::duration bound) {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  if (!WaitExit(bound)) Kill();
}

void Process::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  Reaped(status);
}

}  // namespace lockmesh::bench::comparison
