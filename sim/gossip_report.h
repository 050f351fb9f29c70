// File: sim/gossip_report.h
//
// Measurements of gossip membership in the simulator: how fast a crash is seen,
// how often healthy members are wrongly suspected or declared dead under loss,
// what one CPU-starved member does to the others (with and without Lifeguard),
// how fast a join spreads, what an idle cluster sends, and how fast the
// simulator runs at N = 500. Each function runs whole simulations from a seed;
// `lockmesh-sim gossip-report` prints them all.
//
//   DetectionResult r = MeasureDetection({.members = 50, .loss = 0.1}, /*seed=*/3);
//   if (r.detected) ... r.seen_by_all_us ...
//
// Thread-compatible; each call builds its own Simulation.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "sim/scenario.h"

namespace lockmesh::sim {

struct GossipRun {
  int members = 5;  // all nodes; the first min(3, members) are voters
  double loss = 0;
  bool lifeguard = true;
  std::string preset = "lan";
};

// A cluster with gossip on, no lease clients, converged before any fault.
Scenario GossipScenario(const GossipRun& run);

struct DetectionResult {
  bool detected = false;       // every live member saw the crashed one as dead
  int64_t seen_by_all_us = 0;  // from the crash
  int64_t seen_by_first_us = 0;
  uint64_t false_deaths = 0;  // other members declared dead meanwhile
};
// Crashes one member after convergence; how long until every live member sees
// it dead.
DetectionResult MeasureDetection(const GossipRun& run, uint64_t seed);

struct FalsePositiveResult {
  uint64_t false_deaths = 0;  // dead declarations of members that never failed
  uint64_t suspicions = 0;    // suspicions raised (probes nobody answered), all members
  double suspicions_per_member_minute = 0;
};
// No faults but loss, for `duration_us`.
FalsePositiveResult MeasureFalsePositives(const GossipRun& run, int64_t duration_us, uint64_t seed);

struct SlowMemberResult {
  uint64_t healthy_declared_dead = 0;  // members other than the slow one
  uint64_t slow_declared_dead = 0;     // the slow member itself
  uint64_t slow_own_suspicions = 0;    // suspicions the slow member raised itself
};
// One member handles each input `slow_us` late for `duration_us`.
SlowMemberResult MeasureSlowMember(const GossipRun& run, int64_t slow_us, int64_t duration_us,
                                   uint64_t seed);

struct JoinResult {
  int64_t p99_us = -1;  // until 99% of the other members know the newcomer
  int64_t all_us = -1;  // until all do
};
// A member starts after the rest converged; how fast the others learn of it.
JoinResult MeasureJoin(const GossipRun& run, uint64_t seed);

// Bytes of membership traffic a member sends per second in an idle cluster.
double MeasureIdleBytesPerMemberSecond(const GossipRun& run, uint64_t seed);

// Simulated seconds per wall second for an idle cluster of `run.members`, once it
// has converged (the join of every member at t=0 is not counted).
double MeasureSpeed(const GossipRun& run, int64_t duration_us, uint64_t seed);

struct ReportOptions {
  std::vector<int> sizes = {5, 50, 500};
  int seeds = 10;  // per detection figure
  int false_positive_seeds = 200;
};
void PrintGossipReport(const ReportOptions& options, std::ostream& out);

}  // namespace lockmesh::sim
