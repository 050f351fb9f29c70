// File: tests/tools/cli_process.h
//
// Real processes for the `lockmesh` tests: a child with its stdout and stderr on pipes, its
// exit seen through a pidfd (so a test waits on an event, never a sleep), killed by PID if
// the test leaves it running.
//
//   CliProcess p({LOCKMESH_CLI_BIN, "keygen", path});
//   std::optional<CliProcess::Result> r = p.Wait(std::chrono::seconds(30));
//   ASSERT_TRUE(r);  EXPECT_EQ(r->status, 0);
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace lockmesh::testing {

struct CliOptions {
  // Added to (or replacing in) the environment.
  std::vector<std::pair<std::string, std::string>> env;
  // Run as this user and group (when the test runs as root); -1 keeps the test's.
  int uid = -1;
};

struct CliResult {
  int status = -1;  // the exit code, or 128+N after signal N, as a shell says it
  std::string out, err;
};

class CliProcess {
 public:
  using Options = CliOptions;
  using Result = CliResult;

  explicit CliProcess(std::vector<std::string> args, Options options = {}) {
    int out[2], err[2];
    if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) return;
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(out[1], 1);
      ::dup2(err[1], 2);
      for (const auto& [name, value] : options.env) ::setenv(name.c_str(), value.c_str(), 1);
      if (options.uid >= 0 && (::setgid(options.uid) != 0 || ::setuid(options.uid) != 0)) {
        ::_exit(121);
      }
      ::execv(argv[0], argv.data());
      ::_exit(122);
    }
    ::close(out[1]);
    ::close(err[1]);
    out_fd_ = out[0];
    err_fd_ = err[0];
    pidfd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
  }
  CliProcess(const CliProcess&) = delete;
  CliProcess& operator=(const CliProcess&) = delete;
  ~CliProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    for (int fd : {out_fd_, err_fd_, pidfd_}) {
      if (fd >= 0) ::close(fd);
    }
  }

  pid_t pid() const { return pid_; }
  void Signal(int sig) const { ::kill(pid_, sig); }

  // Reads output until a line of stdout starts with `prefix` (returned) or `bound` passes.
  std::optional<std::string> WaitLine(std::string_view prefix, std::chrono::milliseconds bound) {
    const auto until = std::chrono::steady_clock::now() + bound;
    std::size_t from = line_from_;
    while (true) {
      for (std::size_t eol; (eol = out_.find('\n', from)) != std::string::npos; from = eol + 1) {
        if (out_.compare(from, prefix.size(), prefix) == 0) {
          line_from_ = eol + 1;
          return out_.substr(from, eol - from);
        }
      }
      if (out_fd_ < 0 || !Pump(until, false)) return std::nullopt;  // end of output, or late
    }
  }

  // Waits up to `bound` for the exit, reading all output; nullopt (and SIGKILL) on timeout.
  std::optional<Result> Wait(std::chrono::milliseconds bound) {
    const auto until = std::chrono::steady_clock::now() + bound;
    while (!exited_) {
      if (!Pump(until, true)) {
        ::kill(pid_, SIGKILL);
        return std::nullopt;
      }
    }
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    // The pipes may still be open in grandchildren: read what is there without waiting.
    Drain(out_fd_, out_);
    Drain(err_fd_, err_);
    Result r;
    r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.out = out_;
    r.err = err_;
    return r;
  }

  const std::string& err() const { return err_; }

 private:
  // One poll round: reads what the pipes have, notes the exit. False once `until` passed.
  bool Pump(std::chrono::steady_clock::time_point until, bool want_exit) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        until - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd fds[3] = {{out_fd_, POLLIN, 0}, {err_fd_, POLLIN, 0}, {pidfd_, POLLIN, 0}};
    if (::poll(fds, want_exit ? 3 : 2, static_cast<int>(left.count())) <= 0) return true;
    if (fds[0].revents) ReadSome(out_fd_, out_);
    if (fds[1].revents) ReadSome(err_fd_, err_);
    if (want_exit && (fds[2].revents & POLLIN)) exited_ = true;
    return true;
  }
  static void ReadSome(int& fd, std::string& into) {
    char buf[4096];
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n > 0) {
      into.append(buf, n);
    } else {
      ::close(fd);
      fd = -1;  // poll() ignores negative descriptors
    }
  }
  static void Drain(int fd, std::string& into) {
    if (fd < 0) return;
    ::fcntl(fd, F_SETFL, O_NONBLOCK);
    char buf[4096];
    for (ssize_t n; (n = ::read(fd, buf, sizeof(buf))) > 0;) into.append(buf, n);
  }

  pid_t pid_ = -1;
  int out_fd_ = -1, err_fd_ = -1, pidfd_ = -1;
  bool exited_ = false;
  std::string out_, err_;
  std::size_t line_from_ = 0;
};

}  // namespace lockmesh::testing
