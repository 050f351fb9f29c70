// File: bench/comparison/process.h
//
// The processes bench_compare starts (servers and its own client processes), and the promise
// that none outlives it: every child is registered by PID, killed by the destructor of its
// Process, by the handler this file installs for SIGINT, SIGTERM and SIGHUP, and by the
// kernel if the driver itself dies (PR_SET_PDEATHSIG). Nothing is ever killed by name.
//
//   InstallStopHandler();                                      // once, in main
//   absl::StatusOr<std::unique_ptr<Process>> p =
//       Process::Start({"/usr/bin/redis-server", "--port", "7000"}, {.log_path = dir + "/r.log"});
//   ...
//   (*p)->Stop(5s);                                            // SIGTERM, then SIGKILL
//
// A Process is used by one thread; it must be started on the thread that lives longest (the
// main thread): the kernel's parent-death signal follows the thread that forked.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace lockmesh::bench::comparison {

// Kills every registered child on SIGINT, SIGTERM and SIGHUP, then dies of the same signal.
void InstallStopHandler();

// Where a program is: `name` itself if it contains a '/', else the first executable file of
// that name in a PATH directory (only PATH is searched). nullopt if there is none.
std::optional<std::string> FindProgram(const std::string& name);

// Resident memory of `pid` (VmRSS in /proc/PID/status), bytes; -1 if unreadable.
int64_t ResidentBytes(pid_t pid);

struct SpawnOptions {
  // Empty: stdout and stderr go to a pipe read by WaitLine. Otherwise both are appended to
  // this file (a server's log) and WaitLine reads that file.
  std::string log_path;
  // Give the child a pipe on stdin (Send, CloseStdin); otherwise /dev/null.
  bool stdin_pipe = false;
  // Extra environment entries "NAME=value" on top of this process's.
  std::vector<std::string> env;
};

class Process {
 public:
  // Forks and executes args[0] (a path). Internal if the fork or a pipe failed;
  // FailedPrecondition if args[0] could not be executed.
  static absl::StatusOr<std::unique_ptr<Process>> Start(std::vector<std::string> args,
                                                        SpawnOptions options = {});
  // Kills the child (SIGKILL) if it still runs, and reaps it.
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  // The first unread output line starting with `prefix`, reading up to `bound`; nullopt on
  // timeout or when the child's output ended.
  std::optional<std::string> WaitLine(std::string_view prefix,
                                      std::chrono::steady_clock::duration bound);
  // Every complete output line read so far.
  const std::vector<std::string>& Lines() const { return lines_; }
  // Writes `line` and a newline to the child's stdin; false if it is gone.
  bool Send(const std::string& line);
  void CloseStdin();
  // True once the child has exited (reaped); waits up to `bound`.
  bool WaitExit(std::chrono::steady_clock::duration bound);
  // SIGTERM, then SIGKILL after `bound`; reaps. Idempotent.
  void Stop(std::chrono::steady_clock::duration bound);
  // SIGKILL now; reaps. Idempotent.
  void Kill();
  // The exit status as waitpid gave it (valid once exited), or -1 while running.
  int status() const { return status_; }

 private:
  Process(pid_t pid, int out_fd, int in_fd, std::string log_path);
  bool ReadSome(int timeout_ms);
  void Reaped(int status);

  pid_t pid_;
  int out_fd_, in_fd_;
  std::string log_path_;
  off_t log_offset_ = 0;
  int status_ = -1;
  std::vector<std::string> lines_;
  std::size_t next_ = 0;
  std::string partial_;
};

}  // namespace lockmesh::bench::comparison
