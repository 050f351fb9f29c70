// File: sim/checker.h
//
// The properties every simulation run is judged by, checked as the run goes,
// all in true (simulated) time:
//
//   S1 mutual exclusion: per resource, never two valid holders at one instant.
//   S2 fencing: tokens of successive grants of a resource strictly increase.
//   S3 fenced writes: the fenced store loses no update.
//   L1 liveness: once faults stop, a resource with waiting requests is granted
//      within Scenario::LivenessBoundUs().
//   L2 progress under faults: while a node that waits for a resource can make
//      progress (Simulation::CanProgress: it and a majority of voters up, not
//      paused or starved of CPU, out of quarantine, connected both ways, on a
//      network that loses nothing and answers within an attempt), the resource
//      gets a valid holder within Scenario::ProgressBoundUs(), whatever happens
//      to the other nodes. Checked during faults and after.
//   F1 fairness, before the first fault: sim/fairness.h judges it and reports here.
//
// A "valid holder" is a node whose core holds the lease and whose own monotonic
// clock has not reached the lease deadline.
//
// What is promised depends on the clocks (docs/protocol.md, "Assumptions"). S1
// and S2 hold only while every clock rate stays within rho: beyond it a lease
// can end early at a voter, and a late accept can complete a stale majority
// after a higher token was granted. S2 across restarts of a majority of voters
// also needs every wall clock within D_Q / 4 of true time. Out of those bounds
// only S3 is promised (that is what tokens are for), so S1 and S2 are then not
// checked; grants out of token order are still counted, to show what the
// fenced store protected against.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "lib/core/types.h"

namespace lockmesh::sim {

// A token as physical-milliseconds.logical, e.g. 1004183.3.
std::string FormatToken(core::Ballot token);

struct Violation {
  std::string property;  // "S1", "S2", "S3", "L1", "L2", "F1"
  int64_t at_us = 0;
  std::string detail;
};

// A store that protects its data with fencing tokens: it remembers the highest
// token it saw and refuses any operation with a lower one. Each resource has
// one register that clients update read-modify-write.
class FencedStore {
 public:
  struct Register {
    core::Ballot highest = 0;
    uint64_t version = 0;
    uint64_t writes = 0;
    uint64_t refused = 0;
    uint64_t lost = 0;
  };
  // Returns the version read, or -1 when the token is stale.
  int64_t Read(const std::string& resource, core::Ballot token);
  // Returns true when accepted. `lost` is set when an accepted write was based
  // on a version someone else has since replaced: a lost update.
  bool Write(const std::string& resource, core::Ballot token, uint64_t read_version, bool* lost);
  const absl::btree_map<std::string, Register>& registers() const { return registers_; }

 private:
  absl::btree_map<std::string, Register> registers_;
};

class Checker {
 public:
  // `valid(node, deadline_us)`: whether node's clock is still before the
  // deadline at the current true time.
  using ValidFn = std::function<bool(int node, int64_t deadline_us)>;
  // `can_progress(node)`: whether L2 applies to a request of `node` now.
  using ProgressFn = std::function<bool(int node)>;

  struct Options {
    bool rates_in_bound = true;     // every clock rate stays within rho for the whole run
    int64_t quiet_us = 0;           // faults stop (L1 from here)
    int64_t liveness_bound_us = 0;  // L1
    int64_t progress_bound_us = 0;  // L2
    bool judge_progress = true;     // false: L2 measured only, never a violation
    ValidFn valid;
    ProgressFn can_progress;
  };
  explicit Checker(Options options) : o_(std::move(options)) {}

  void OnGranted(int64_t now, int node, uint64_t request, const std::string& resource,
                 core::Ballot token, int64_t deadline_us);
  void OnRenewed(int64_t now, int node, uint64_t request, const std::string& resource,
                 int64_t deadline_us);
  void OnEnded(int64_t now, int node, uint64_t request, const std::string& resource);
  void OnNodeCrashed(int node);
  void OnLostUpdate(int64_t now, const std::string& resource, core::Ballot token);
  // Demand for L1 and L2: a client of `node` starts or stops waiting for
  // `resource` (`gave_up`: it stopped without a grant and may soon ask again).
  void OnWaitStart(const std::string& resource, int node, int64_t now);
  void OnWaitEnd(const std::string& resource, int node, int64_t now, bool gave_up);
  // Called periodically; checks L1 and L2.
  void Poll(int64_t now);
  // A violation found by another judge (F1: sim/fairness.h).
  void AddFinding(int64_t now, const std::string& property, std::string detail) {
    Add(now, property, std::move(detail));
  }
  // The end of the run. `walls_in_bound`: every wall clock stayed within D_Q / 4
  // of true time. Grants out of token order become S2 violations when the
  // clocks stayed in bound.
  void Finish(bool walls_in_bound);
  // Grants whose token was not above the previous grant's (checked or not).
  uint64_t tokens_out_of_order() const { return tokens_out_of_order_; }

  const std::vector<Violation>& violations() const { return violations_; }
  // Node holding `resource` validly now, or -1.
  int ValidHolder(const std::string& resource) const;
  int64_t worst_wait_after_quiet_us() const { return worst_wait_us_; }
  // The longest a resource went without a holder while a node that could make
  // progress waited for it (L2's measure), and while anyone waited during faults.
  int64_t worst_progress_gap_us() const { return worst_progress_gap_us_; }
  int64_t worst_gap_during_faults_us() const { return worst_gap_during_faults_us_; }
  // Handoffs: a lease ended while others waited for its resource; the gap runs
  // from that end to the next grant of the resource.
  const std::vector<int64_t>& handoff_gaps_us() const { return handoff_gaps_us_; }

 private:
  struct Hold {
    int node;
    uint64_t request;
    core::Ballot token;
    int64_t deadline_us;
  };
  // One node's demand for one resource.
  struct Want {
    int waiting = 0;          // its clients waiting now
    int64_t gave_up_at = -1;  // the last one gave up then (it may ask again soon)
  };
  void Add(int64_t now, const std::string& property, std::string detail);
  void CheckExclusive(int64_t now, const std::string& resource, const Hold& fresh);
  void CheckProgress(int64_t now, const std::string& resource,
                     const absl::btree_map<int, Want>& wants);
  // Tracks a stretch without a holder: returns how long it has lasted.
  static int64_t Starved(absl::btree_map<std::string, int64_t>& since, const std::string& resource,
                         int64_t now);

  const Options o_;
  absl::btree_map<std::string, std::vector<Hold>> holds_;
  absl::btree_map<std::string, core::Ballot> last_token_;
  absl::btree_map<std::string, int> demand_;
  absl::btree_map<std::string, absl::btree_map<int, Want>> wants_;
  absl::btree_map<std::string, int64_t> starved_since_;
  absl::btree_map<std::string, int64_t> idle_since_;           // demand fell to zero at
  absl::btree_map<std::string, int64_t> stalled_since_;        // L2
  absl::btree_map<std::string, int64_t> fault_starved_since_;  // any demand, during faults
  // Longer than any client's think time: a gap this long is new demand.
  static constexpr int64_t kDemandGapUsMax = 5'000'000;
  int64_t worst_wait_us_ = 0;
  int64_t worst_progress_gap_us_ = 0;
  absl::btree_map<std::string, int64_t> ended_with_waiters_at_;
  std::vector<int64_t> handoff_gaps_us_;
  int64_t worst_gap_during_faults_us_ = 0;
  uint64_t tokens_out_of_order_ = 0;
  std::vector<Violation> out_of_order_;  // the first few, S2 violations if the clocks held
  std::vector<Violation> violations_;
};

}  // namespace lockmesh::sim
