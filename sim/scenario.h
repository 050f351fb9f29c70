// File: sim/scenario.h
//
// A simulation scenario: the cluster, the workload, the network and a timed
// list of faults. Scenarios are small text files, one directive a line:
//
//   # the holder is cut off with a minority
//   name      split-holder-minority
//   voters    5
//   lease     2s
//   at 5s     partition isolate holder
//   at 20s    heal
//   quiet     25s
//   run       60s
//
// Durations take a unit (us, ms, s, m). See sim/scenarios/README.md for every
// directive. The swarm builds Scenario values directly from a seed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "lib/core/config.h"
#include "lib/core/membership/config.h"

namespace lockmesh::sim {

// The network's behaviour for every datagram while it is in force.
struct NetParams {
  double loss = 0;       // probability a datagram is lost
  double duplicate = 0;  // probability it is delivered twice
  int64_t delay_us_min = 200;
  int64_t delay_us_max = 2'000;
  double tail = 0;          // probability of an extra delay...
  int64_t tail_us_max = 0;  // ...uniform in [0, tail_us_max] (seconds-long stragglers)
};

// A fault's target: a node index, or the node holding the watched resource
// (the first contended one) when the fault fires.
struct Target {
  static constexpr int kHolder = -1;
  int node = 0;
};

struct Action {
  enum class Kind {
    kPartitionHalves,
    kPartitionRandomHalves,
    kPartitionIsolate,  // target alone
    kPartitionRing,     // majorities ring
    kPartitionBridge,
    kCutInbound,   // target hears nobody; others hear it
    kCutOutbound,  // nobody hears target; it hears them
    kHeal,
    kCrash,
    kRestart,
    kCrashAll,
    kCrashMajority,  // a majority of voters, sparing the holder when it can
    kRestartAll,
    kPause,      // value_us: pause length
    kDrift,      // value: ppm
    kClockJump,  // value_us: wall clock jump
    kLoss,       // p
    kDuplicate,  // p
    kDelay,      // value_us..value2_us
    kTail,       // p, value_us
    kSlow,       // value_us: the target handles each datagram this late (CPU-starved)
    kStart,      // the target's first start (it is down until then)
  };
  int64_t at_us = 0;
  Kind kind = Kind::kHeal;
  Target target;
  int64_t value = 0;
  int64_t value2 = 0;
  double p = 0;
};
std::string ActionText(const Action& action);

struct Scenario {
  std::string name = "unnamed";
  std::string description;
  int voters = 3;
  int members = 0;  // non-voting nodes that also run clients
  int clients_per_node = 1;
  int resources = 1;       // contended names "res-0".. shared by all clients
  double contended = 1.0;  // probability a client asks for a shared name
  int64_t lease_us = 2'000'000;
  int64_t hold_us = 1'000'000;  // how long a client keeps a lease (mean)
  int64_t think_us = 200'000;   // pause between a client's requests (mean)
  int64_t wait_us = 5'000'000;  // a client's wait limit per acquire
  int64_t op_us = 20'000;       // read-to-write gap of a fenced update
  bool renew = true;
  int64_t drift_ppm_max = 0;     // each node draws a drift in [-max, max]
  int64_t wall_skew_us_max = 0;  // each node draws a wall offset in [-max, max]
  NetParams net;
  int64_t quiet_us = -1;  // faults stop; -1: at the last action
  int64_t run_us = 60'000'000;
  std::vector<Action> actions;
  core::LeaseConfig timing;       // voters/self are filled in by the simulator
  bool expect_violation = false;  // for scenarios that show an unsafe switch
  // Progress the run must show (sim/report.h, MissedExpectations): grants per second while
  // faults last at least this fraction of those before the first fault (0: none), and the
  // longest stretch without a holder while someone waited during faults at most this (-1:
  // none).
  double expect_during_min = 0;
  int64_t expect_gap_us_max = -1;
  // Lease messages (acquire, renew, release and their answers, notices) per grant at most
  // this (0: none).
  double expect_messages_per_grant_max = 0;
  // L2 judged (a violation when broken) or only measured and printed.
  bool judge_progress = true;
  // Gossip membership on every node (its views steer whom proposers ask first).
  bool gossip = false;
  std::string gossip_preset = "lan";  // lan, wan, local
  bool lifeguard = true;

  // A clock rate beyond rho (a drift past it, for the base or a fault): S1 and S2
  // are not checked, S3 is (sim/checker.h). Wall clocks are judged as the run goes.
  bool ClockOutOfBound() const;
  int64_t QuietUs() const;
  int Nodes() const { return voters + members; }
  // A bound on how long, once faults stop, a waiting request may go without a
  // grant (L1). See docs in sim/scenarios/README.md.
  int64_t LivenessBoundUs() const;
  // A bound on how long, during faults or after, a resource may go without a
  // holder while a waiting node and a majority of voters can talk (L2).
  int64_t ProgressBoundUs() const;
  // The waiter windows that can pass idle before a grant: one per waiting node.
  int64_t IdleWindowsUs() const;
  absl::Status Validate() const;
  // The gossip configuration the preset and switches name.
  core::GossipConfig GossipSettings() const;
};

// Parses a scenario file's text. InvalidArgument names the line.
absl::StatusOr<Scenario> ParseScenario(absl::string_view text);
absl::StatusOr<Scenario> LoadScenario(const std::string& path);
absl::StatusOr<int64_t> ParseDurationUs(absl::string_view text);
// Applies an --unsafe=NAME switch to a scenario's timing.
absl::Status ApplyUnsafe(absl::string_view name, Scenario& scenario);

// Simulation defaults: short leases so a minute of virtual time sees many
// grants, and a quarantine exactly at its bound.
core::LeaseConfig SimTiming(int64_t lease_us_max);

}  // namespace lockmesh::sim
