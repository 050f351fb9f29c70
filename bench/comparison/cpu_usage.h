// File: bench/comparison/cpu_usage.h
//
// CPU time and context switches of a set of processes over a measured window (issue 12:
// "CPU per acquire + release cycle, summed over every process of the cluster"), read from
// /proc before and after:
//
//   CpuSnapshot before = TakeCpuSnapshot({voter1, voter2, voter3, client});
//   ... the measured window ...
//   CpuUsage used = CpuBetween(before, TakeCpuSnapshot({voter1, voter2, voter3, client}));
//   double us_per_cycle = used.cpu_ns / 1e3 / cycles;
//
// CPU time is the first field of /proc/<pid>/task/<tid>/schedstat (ns on a CPU, as the
// scheduler accounts it, no tick rounding), summed over every thread: /proc/<pid>/schedstat
// alone covers only the main thread, and lockmesh nodes, JVMs and etcd do their work on
// others. Context switches are voluntary_ctxt_switches + nonvoluntary_ctxt_switches of each
// thread's status file. A thread that exits inside the window takes its time with it
// (schedstat keeps no total of dead threads), so the callers of the workload stay alive
// until the window has been read (client.cc); CpuBetween counts such threads. A process
// that is gone when a snapshot is taken counts as 0 and is named in CpuUsage::vanished.
//
// Plain functions over a /proc tree (a test points them at a directory of its own);
// thread-compatible.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace lockmesh::bench::comparison {

// The first field of a schedstat line ("<ns on cpu> <ns waiting> <timeslices>\n"): ns run.
// nullopt if the text does not start with a number.
std::optional<uint64_t> ParseSchedstat(absl::string_view text);

// voluntary_ctxt_switches + nonvoluntary_ctxt_switches from the text of a status file;
// nullopt if either line is missing or not a number.
std::optional<uint64_t> ParseContextSwitches(absl::string_view status);

struct ThreadCpu {
  uint64_t cpu_ns = 0, switches = 0;
};

// One process at one moment: its threads by tid; `present` false if it was gone.
struct ProcessCpu {
  pid_t pid = 0;
  bool present = false;
  std::map<pid_t, ThreadCpu> threads;
};

// Reads every thread of `pid` under `proc_root` (normally "/proc"). A thread that exits
// while it is read is left out.
ProcessCpu ReadProcessCpu(pid_t pid, const std::string& proc_root = "/proc");

struct CpuSnapshot {
  std::vector<ProcessCpu> processes;
};
CpuSnapshot TakeCpuSnapshot(const std::vector<pid_t>& pids, const std::string& proc_root = "/proc");

// What the processes used between two snapshots of the same pids.
struct CpuUsage {
  uint64_t cpu_ns = 0, switches = 0;
  // Processes missing from either snapshot: counted as 0.
  std::vector<pid_t> vanished;
  // Threads present before and gone after: their time inside the window is lost.
  int threads_exited = 0;
};
// A thread new since `before` counts in full (it started inside the window); a counter that
// went backwards (a tid reused) counts from 0.
CpuUsage CpuBetween(const CpuSnapshot& before, const CpuSnapshot& after);

}  // namespace lockmesh::bench::comparison
