// File: bench/cluster_report.h
//
// What bench_cluster measured and how it prints it: latency summaries, n0's metric deltas
// per phase, the table on stdout and the same figures as JSON.
//
//   Report r;  // filled by the phases
//   PrintTable(r);
//   if (!WriteJson(r, "/tmp/cluster.json")) ...;
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "lockmesh/metrics.h"

namespace lockmesh::bench {

// At most this many log lines are printed.
inline constexpr std::size_t kLogLinesKept = 20;

// Exact quantiles of raw samples (µs), nearest rank.
struct Summary {
  std::size_t count = 0;
  double p50 = 0, p99 = 0, mean = 0, max = 0;
};

Summary Summarize(std::vector<double> samples);

// What n0 did during one phase.
struct Counters {
  uint64_t datagrams_sent = 0, datagrams_received = 0, messages_sent = 0, messages_received = 0,
           bytes_sent = 0, attempts = 0, attempts_failed = 0, attempts_queued = 0,
           grants_at_release = 0, acquires_succeeded = 0, acquires_failed = 0,
           acquires_timed_out = 0, releases = 0, send_errors = 0, dropped = 0, breaker_opens = 0;
  uint64_t members_alive = 0, members_suspect = 0;  // at the end

  static Counters Of(const Metrics& m);
  // The counts from `before` to `after`; the member counts are `after`'s.
  static Counters Delta(const Metrics& before, const Metrics& after);
  double MessagesPerDatagram() const {
    return datagrams_sent == 0 ? 0 : static_cast<double>(messages_sent) / datagrams_sent;
  }
};

// One phase as n0 saw it.
struct Phase {
  std::string name;
  Summary acquire;      // the blocking Acquire call, µs
  uint64_t cycles = 0;  // acquire + release done
  uint64_t failures = 0;
  std::string first_error;
  double seconds = 0;
  Counters counters;
  double Rate() const { return seconds > 0 ? static_cast<double>(cycles) / seconds : 0; }
};

// The contention phase across processes: n0's callers and two non-voter children (n3, n4)
// racing for one resource. n0's own part is also the last entry of Report::phases.
struct CrossProcess {
  int n0_callers = 0, child_callers = 0, child_increments = 0;  // increments per child caller
  uint64_t child_grants = 0;           // GRANTED lines of both children, in all
  uint64_t child_grants_in_phase = 0;  // of which printed while the phase ran
  uint64_t child_fenced = 0;           // FENCED lines
  uint64_t child_failed = 0;           // FAILED lines
  Summary wait;                        // n0's acquire latencies and the children's wait_us
  uint64_t counter_value = 0;          // in the counter file at the end
  uint64_t Handoffs(const Phase& n0) const { return n0.cycles + child_grants_in_phase; }
};

struct Report {
  int seconds = 0, callers = 0, iterations = 0, round_trips = 0;
  bool quick = false;
  Summary udp;
  std::vector<Phase> phases;  // uncontended, throughput, contention, cross-process (n0's part)
  CrossProcess cross;
  std::map<std::string, int> n0_events;
  std::vector<std::string> child_log;  // unexpected child lines
};

// The table of figures on stdout. REQUIRES: all four phases ran.
void PrintTable(const Report& r);
// The figures as JSON at `path`; false if it could not be written.
bool WriteJson(const Report& r, const std::string& path);

}  // namespace lockmesh::bench
