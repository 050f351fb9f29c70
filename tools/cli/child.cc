#include "tools/cli/child.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"

extern char** environ;

namespace lockmesh::cli {
namespace {

using Clock = std::chrono::steady_clock;

sigset_t RunSignals() {
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD}) sigaddset(&set, s);
  return set;
}

// The environment for the command, built before fork: after fork in a process with threads
// only async-signal-safe calls are allowed, and setenv() allocates.
std::vector<std::string> ChildEnvironment(
    const std::vector<std::pair<std::string, std::string>>& add) {
  std::vector<std::string> out;
  for (char** e = environ; *e != nullptr; ++e) {
    bool replaced = false;
    for (const auto& [name, value] : add) {
      replaced |= std::strncmp(*e, name.c_str(), name.size()) == 0 && (*e)[name.size()] == '=';
    }
    if (!replaced) out.emplace_back(*e);
  }
  for (const auto& [name, value] : add) out.push_back(absl::StrCat(name, "=", value));
  return out;
}

std::vector<char*> Pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (std::string& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// In the child: its own process group, death with lockmesh, the old signal mask, then exec.
// On failure, errno goes to `report` and the child exits 127.
[[noreturn]] void ExecChild(char* const* argv, char* const* envp, const sigset_t& old_mask,
                            pid_t parent, int report) {
  ::setpgid(0, 0);
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(127);  // lockmesh died before prctl took effect
  ::sigprocmask(SIG_SETMASK, &old_mask, nullptr);
  ::execvpe(argv[0], argv, envp);
  const int err = errno;
  [[maybe_unused]] ssize_t n = ::write(report, &err, sizeof(err));
  ::_exit(127);
}

int ShellStatus(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return 128;
}

}  // namespace

sigset_t BlockRunSignals() {
  const sigset_t set = RunSignals();
  sigset_t old;
  ::pthread_sigmask(SIG_BLOCK, &set, &old);
  return old;
}

Outcome Supervise(const std::vector<std::string>& command,
                  const std::vector<std::pair<std::string, std::string>>& env,
                  std::chrono::milliseconds grace, LeaseWatch& watch, const sigset_t& old_mask) {
  Outcome out;
  std::vector<std::string> args = command;
  std::vector<std::string> envs = ChildEnvironment(env);
  std::vector<char*> argv = Pointers(args), envp = Pointers(envs);
  const sigset_t signals = RunSignals();
  const int sfd = ::signalfd(-1, &signals, SFD_CLOEXEC);
  int report[2];
  if (sfd < 0 || ::pipe2(report, O_CLOEXEC) != 0) {
    out.status = 126;
    out.exec_error = absl::StrCat("cannot start the command: ", std::strerror(errno));
    return out;
  }
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) ExecChild(argv.data(), envp.data(), old_mask, parent, report[1]);
  ::close(report[1]);
  if (pid < 0) {
    out.status = 126;
    out.exec_error = absl::StrCat("cannot start the command: ", std::strerror(errno));
    ::close(report[0]);
    ::close(sfd);
    return out;
  }
  ::setpgid(pid, pid);  // also here, so no signal below can miss the group
  int exec_errno = 0;
  const bool exec_failed = ::read(report[0], &exec_errno, sizeof(exec_errno)) > 0;
  ::close(report[0]);

  // When the SIGKILL is due once the lease is lost; max() while none is.
  Clock::time_point kill_at = Clock::time_point::max();
  Clock::time_point next_check = Clock::now() + watch.period();
  int wait_status = 0;
  while (true) {
    const Clock::time_point now = Clock::now();
    const Clock::time_point until = std::min(kill_at, next_check);
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - now);
    // The watch's descriptor only until the loss: it may stay readable after.
    const bool use_hint = watch.fd() >= 0 && !out.lost;
    pollfd fds[2] = {{sfd, POLLIN, 0}, {watch.fd(), POLLIN, 0}};
    const int ready = ::poll(fds, use_hint ? 2 : 1,
                             static_cast<int>(std::clamp<int64_t>(left.count() + 1, 0, 60'000)));
    bool exited = false;
    if (ready > 0 && (fds[0].revents & POLLIN)) {
      signalfd_siginfo info;
      while (::read(sfd, &info, sizeof(info)) == static_cast<ssize_t>(sizeof(info))) {
        if (static_cast<int>(info.ssi_signo) == SIGCHLD) {
          if (out.lost) ::kill(-pid, SIGKILL);  // the rest of the group, before the reap
          exited = ::waitpid(pid, &wait_status, WNOHANG) == pid;
        } else {
          ::kill(-pid, static_cast<int>(info.ssi_signo));
        }
        if (exited) break;
        pollfd again{sfd, POLLIN, 0};
        if (::poll(&again, 1, 0) <= 0) break;
      }
    }
    if (exited) break;
    const bool hinted = use_hint && ready > 0 && (fds[1].revents & POLLIN);
    if (!out.lost && !exec_failed && (hinted || Clock::now() >= next_check)) {
      if (absl::Status s = watch.Check(); !s.ok()) {
        out.lost = true;
        out.why = s;
        ::kill(-pid, SIGTERM);
        kill_at = Clock::now() + grace;
      }
      next_check = Clock::now() + watch.period();
    }
    if (out.lost || exec_failed) next_check = Clock::time_point::max();  // nothing to watch
    if (Clock::now() >= kill_at) {
      ::kill(-pid, SIGKILL);
      kill_at = Clock::time_point::max();
    }
  }
  ::close(sfd);
  if (exec_failed) {
    out.status = exec_errno == ENOENT ? 127 : 126;
    out.exec_error = absl::StrCat("cannot run ", command[0], ": ", std::strerror(exec_errno));
    return out;
  }
  out.status = ShellStatus(wait_status);
  return out;
}

}  // namespace lockmesh::cli
