// File: bench/child_process.h
//
// Child processes for bench_cluster: lockmesh-example-counter instances spawned with their
// stdout and stderr on one pipe, read line by line, plus the loopback ports and the key
// file they are started with.
//
//   std::unique_ptr<Child> c = Child::Spawn({LOCKMESH_COUNTER_BIN, "--name=n1", ...});
//   if (!c || !c->WaitLine("READY", 60s)) ...;
//   ...
//   int status = c->Terminate(15s);  // SIGTERM, then the exit status
//
// A Child is used by one thread at a time for reading (WaitLine or Drain); Lines() may be
// called from any thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace lockmesh::bench {

// How long a child may take to exit after SIGTERM before it is killed.
inline constexpr std::chrono::seconds kChildExitBound{15};

// One lockmesh-example-counter with stdout and stderr on a pipe, read line by line. The
// destructor kills the process if it still runs.
class Child {
 public:
  // Starts args[0] (a path) with `args`; nullptr if the pipe or the spawn failed.
  static std::unique_ptr<Child> Spawn(std::vector<std::string> args);
  ~Child();
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  // The first unread line starting with `prefix`, reading up to `bound`; nullopt on timeout
  // or end of output. Lines skipped on the way stay in Lines().
  std::optional<std::string> WaitLine(std::string_view prefix,
                                      std::chrono::steady_clock::duration bound);
  // Reads until the child closes its output (it exited). For a draining thread.
  void Drain();
  // SIGTERM, then the exit status within `bound` (SIGKILL after it); -1 unless it exited.
  int Terminate(std::chrono::steady_clock::duration bound);
  // Every complete line read so far.
  std::vector<std::string> Lines() const;

 private:
  Child(pid_t pid, int fd) : pid_(pid), fd_(fd) {}

  // Waits up to `timeout_ms` (-1: forever) for output and splits it into lines. False at
  // the end of output.
  bool ReadSome(int timeout_ms);

  pid_t pid_ = -1;
  int fd_ = -1;
  mutable std::mutex mu_;
  std::vector<std::string> lines_;
  std::size_t next_ = 0;
  std::string partial_;
};

// Children and the threads draining their output: on every way out, each child is stopped
// before its drain is joined.
struct Children {
  std::vector<std::unique_ptr<Child>> children;
  std::vector<std::thread> drains;
  ~Children();
};

// `n` distinct free loopback ports as "127.0.0.1:<port>", reserved together, then released
// for the nodes.
std::vector<std::string> FreeAddresses(int n);

// Writes a freshly generated cluster key (64 hex digits and a newline) to `path`, mode 0600.
// Returns the key text, or nullopt if the file could not be written. REQUIRES: sodium_init().
std::optional<std::string> WriteNewKeyFile(const std::string& path);

}  // namespace lockmesh::bench
