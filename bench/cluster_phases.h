// File: bench/cluster_phases.h
//
// The phases bench_cluster times against a running node n0: the UDP floor, sequential and
// concurrent acquires in n0, and contention for one resource across processes.
//
//   Report r;
//   r.udp = UdpRoundTrips(20000);
//   r.phases.push_back(Uncontended(*node, 3000));
//   r.phases.push_back(Concurrent(*node, "throughput", 16, 5s,
//                                 [](int c, uint64_t k) { return absl::StrCat("d/", c, "/", k);
//                                 }));
//
// Every phase blocks until it is done; n0 must be running and see all voters alive.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "bench/cluster_report.h"
#include "lockmesh/lockmesh.h"

namespace lockmesh::bench {

// The floor: `round_trips` ping-pongs of 100-byte datagrams between two sockets on
// 127.0.0.1 (the echo on another thread), after a warm-up.
Summary UdpRoundTrips(int round_trips);
// The same round trips as raw samples (µs), for callers with statistics of their own.
std::vector<double> UdpRoundTripSamples(int round_trips);

// Sequential Acquire + Release on distinct resources, after a warm-up; Acquire is timed.
Phase Uncontended(Node& node, int iterations);

// `callers` threads looping Acquire + Release for `length`; caller c's k-th resource is
// `resource(c, k)`. The rate counts what finished by the time the last caller stopped.
Phase Concurrent(Node& node, std::string name, int callers, std::chrono::seconds length,
                 const std::function<std::string(int, uint64_t)>& resource);

// How to start the two non-voter children of ContentionAcrossProcesses.
struct CrossProcessSetup {
  std::string counter_bin;         // lockmesh-example-counter
  std::string voters;              // the --voters text of the cluster
  std::string cluster;             // the cluster name
  std::string key_path;            // the cluster key file
  std::vector<std::string> seeds;  // addresses to join through (the child voters)
  std::string counter_path;        // the children's counter file; recreated here
  int n0_callers = 6;
  int child_callers = 5;     // --callers of each child
  int child_increments = 0;  // --increments of each child caller: more than a phase gets
  int seconds = 5;           // the phase's length
};

// Contention across processes: starts non-voters n3 and n4, each with `child_callers`
// threads making `child_increments` fenced increments of the resource "counter", and runs
// `n0_callers` threads in `node` looping Acquire("counter") + Release (n0 does not touch the
// file), all for `seconds`; who got how many grants in that time shows how fair handoffs
// between processes are. Returns n0's part of the phase; fills `cross` and appends
// unexpected child lines to `child_log`.
// The children are stopped before it returns. An error if a child could not be started.
absl::StatusOr<Phase> ContentionAcrossProcesses(Node& node, const CrossProcessSetup& setup,
                                                CrossProcess& cross,
                                                std::vector<std::string>& child_log);

}  // namespace lockmesh::bench
