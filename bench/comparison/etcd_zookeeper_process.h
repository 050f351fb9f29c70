// File: bench/comparison/etcd_zookeeper_process.h
//
// What the etcd and ZooKeeper Servers share: server processes started by this process with
// their output in a log file and stopped by PID, free loopback TCP ports, and one blocking
// TCP exchange with a deadline (ZooKeeper's four-letter words).
//
//   std::vector<uint16_t> ports = FreeTcpPorts(6);
//   absl::StatusOr<std::unique_ptr<ServerProcess>> p =
//       ServerProcess::Spawn({"/usr/bin/etcd", "--name=m1", ...}, workdir + "/m1.log");
//   ...
//   StopAll(processes);  // SIGTERM to all, then SIGKILL to those still running after a bound
//
// A server also dies (SIGKILL, PR_SET_PDEATHSIG) when the thread that started it exits, so
// that a driver killed or crashed without running destructors leaves no servers behind:
// start servers from a thread that lives as long as they should (the driver's main thread).
//
// Not thread-safe: a ServerProcess belongs to the Servers that started it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace lockmesh::bench::comparison {

// How long a server may take to exit after SIGTERM before it is killed. etcd's last member
// may never exit on SIGTERM once its peers are gone, so the SIGKILL matters.
inline constexpr std::chrono::seconds kServerExitBound{10};

// One server process this process started. The destructor stops it if it still runs.
class ServerProcess {
 public:
  // Starts args[0] (an absolute path) with `args`, stdin from /dev/null and stdout and stderr
  // appended to `log_path`. An error if the log could not be opened or args[0] could not be
  // executed.
  static absl::StatusOr<std::unique_ptr<ServerProcess>> Spawn(std::vector<std::string> args,
                                                              const std::string& log_path);
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  pid_t pid() const { return pid_; }
  // True once the process has exited (reaps it without waiting).
  bool Exited();
  // The last `bytes` of the log, for an error message.
  std::string LogTail(std::size_t bytes) const;
  // SIGTERM (skipped if already sent), then waits up to `bound` for the exit, then SIGKILL
  // and reap. Idempotent.
  void Terminate();
  void Wait(std::chrono::steady_clock::duration bound);

 private:
  ServerProcess(pid_t pid, int pidfd, std::string log_path)
      : pid_(pid), pidfd_(pidfd), log_path_(std::move(log_path)) {}

  pid_t pid_ = -1;
  int pidfd_ = -1;  // readable when the process exits; -1 where pidfd_open is missing
  bool reaped_ = false;
  bool terminated_ = false;
  std::string log_path_;
};

// SIGTERM to every process first (they shut down in parallel), then Wait(kServerExitBound)
// on each, then clears the vector.
void StopAll(std::vector<std::unique_ptr<ServerProcess>>& processes);

// `n` distinct free TCP ports on 127.0.0.1, reserved together by listening sockets and then
// released for the servers (another process could take one in between: a Start that fails
// on a taken port is reported, not retried).
std::vector<uint16_t> FreeTcpPorts(int n);

// Connects to 127.0.0.1:`port`, writes `request` and reads until the peer closes, all before
// `deadline`. For ZooKeeper's four-letter words ("srvr", "ruok").
absl::StatusOr<std::string> TcpExchange(uint16_t port, const std::string& request,
                                        std::chrono::steady_clock::time_point deadline);

// True if `path` names an executable / a readable file.
bool IsExecutable(const std::string& path);
bool IsReadable(const std::string& path);

}  // namespace lockmesh::bench::comparison
