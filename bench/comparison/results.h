// File: bench/comparison/results.h
//
// What bench_compare measured: per workload, per system, per round. The driver fills it
// (workloads.cc), the report prints it (report.cc, html.cc).
//
// Plain value types; thread-compatible.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "bench/comparison/stats.h"

namespace lockmesh::bench::comparison {

// The six workloads of issue 9, in order.
enum class Workload { kUncontended, kThroughput, kContention, kAcross, kManyHeld, kHolderKilled };
inline constexpr Workload kWorkloads[] = {Workload::kUncontended, Workload::kThroughput,
                                          Workload::kContention,  Workload::kAcross,
                                          Workload::kManyHeld,    Workload::kHolderKilled};
const char* WorkloadName(Workload w);   // "uncontended", ...
const char* WorkloadTitle(Workload w);  // one line saying what it is

// One system in one round of one workload.
struct Run {
  std::string error;   // why it did not run or failed; empty if it ran
  double load1 = 0;    // the 1-minute load average when the round started
  double seconds = 0;  // the measured time (cycle workloads)
  uint64_t grants = 0, failures = 0;
  std::string first_error;
  std::vector<double> samples;      // acquire latency (wait) per counted grant, µs
  std::vector<double> per_caller;   // grants by caller (process-major)
  std::vector<double> per_process;  // grants by process
  // CPU of every process involved (servers and client processes, every thread) over the
  // measured window (cycle workloads; cpu_usage.h), and the processes gone before it ended.
  uint64_t cpu_ns = 0, context_switches = 0;
  std::vector<pid_t> cpu_vanished;
  int cpu_threads_exited = 0;
  // Many held.
  uint64_t held = 0, target = 0;
  std::string held_stop;                       // why a caller stopped short, if one did
  std::vector<int64_t> rss_before, rss_after;  // per server process, bytes
  // Holder killed: from the SIGKILL to the next grant, ms; and the holder's age at the kill.
  double takeover_ms = -1, held_before_kill_ms = 0;
};

struct Results {
  bool quick = false;
  int rounds = 0, seconds = 0, ttl_ms = 0, many = 0;
  std::vector<std::string> systems;            // in run order
  std::map<std::string, std::string> skipped;  // system -> reason
  std::vector<double> udp_samples;             // the floor, µs
  // [workload][system] -> one Run per round.
  std::map<Workload, std::map<std::string, std::vector<Run>>> runs;
  std::map<Workload, std::vector<double>> round_load1;  // per round, at its start
};

// A system's rounds merged: all samples, all grants over all measured seconds.
struct Merged {
  int rounds_ok = 0;
  std::string error;  // the first round's error if none ran
  Distribution latency;
  double rate = 0;  // grants per second
  uint64_t failures = 0;
  std::string first_error;
  double jain_callers = 1, jain_processes = 1;
  // CPU time and context switches per counted grant (cycle or handoff), summed over every
  // process; 0 when nothing was counted. The vanished pids of all rounds, for the report.
  double cpu_us_per_cycle = 0, switches_per_cycle = 0;
  std::vector<pid_t> cpu_vanished;
  int cpu_threads_exited = 0;
  MinMax callers, processes;
  std::vector<double> takeover_ms;
  double bytes_per_lease_mean = 0, bytes_per_lease_max = 0;  // over the server processes
  uint64_t held = 0, target = 0;
  std::string held_stop;
};

Merged Merge(const std::vector<Run>& runs);

}  // namespace lockmesh::bench::comparison
