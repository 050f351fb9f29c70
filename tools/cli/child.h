// File: tools/cli/child.h
//
// Runs the command of `lockmesh run` under a lease, the way flock(1) and timeout(1) run
// theirs: in a process group of its own, stdio inherited, LOCKMESH_TOKEN and
// LOCKMESH_RESOURCE added to its environment. While it runs, the lease is checked (a
// LeaseWatch: through the local API, or the embedded node's handle); when it is lost the
// group gets SIGTERM, then SIGKILL after the grace period. SIGINT, SIGTERM, SIGHUP and
// SIGQUIT sent to lockmesh are passed on to the group. The command gets SIGKILL if lockmesh
// itself dies (PR_SET_PDEATHSIG): its lease dies with lockmesh, so must the work.
//
//   sigset_t old = BlockRunSignals();   // before any thread starts (the embedded node's)
//   ... acquire ...
//   Outcome out = Supervise(command, env, grace, watch, old);
//   return out.lost ? kExitLeaseLost : out.status;
//
// Thread safety: Supervise runs on one thread; the signals it handles must be blocked in
// every thread of the process (BlockRunSignals before starting threads).
#pragma once

#include <signal.h>

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"

namespace lockmesh::cli {

// What Supervise asks of the lease while the command runs.
class LeaseWatch {
 public:
  virtual ~LeaseWatch() = default;
  // A descriptor that turns readable when the lease may have been lost; -1 if none.
  virtual int fd() const { return -1; }
  // How often Check() runs (it also runs whenever fd() turns readable).
  virtual std::chrono::milliseconds period() const = 0;
  // OK while the lease is held; why it is not, once it is lost.
  virtual absl::Status Check() = 0;
};

// Blocks the signals Supervise handles (SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD) in the
// calling thread, and so in threads it starts later. Returns the previous mask, which the
// command gets back.
sigset_t BlockRunSignals();

struct Outcome {
  // The command's status as a shell reports it: its exit code, 128+N if signal N killed it,
  // 127 if it was not found, 126 if it could not be executed.
  int status = 0;
  // Set when the command could not start (status 126 or 127): why.
  std::string exec_error;
  // True if the lease was lost while the command ran (it was killed); `why` says how.
  bool lost = false;
  absl::Status why;
};

// Runs `command` (a PATH lookup for its first word) with `env` added to the environment,
// until it exits, as the file comment says.
Outcome Supervise(const std::vector<std::string>& command,
                  const std::vector<std::pair<std::string, std::string>>& env,
                  std::chrono::milliseconds grace, LeaseWatch& watch, const sigset_t& old_mask);

}  // namespace lockmesh::cli
