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
//
// A "valid holder" is a node whose core holds the lease and whose own monotonic
// clock has not reached the lease deadline. S1 is skipped in runs that break the
// clock bound on purpose (DESIGN.md: that is what tokens are for).
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
  std::string property;  // "S1", "S2", "S3", "L1"
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
  // `valid_at(node, deadline_us)`: whether node's clock is still before the
  // deadline at the current true time.
  using ValidFn = std::function<bool(int node, int64_t deadline_us)>;

  Checker(bool check_s1, int64_t quiet_us, int64_t liveness_bound_us, ValidFn valid)
      : check_s1_(check_s1),
        quiet_us_(quiet_us),
        bound_us_(liveness_bound_us),
        valid_(std::move(valid)) {}

  void OnGranted(int64_t now, int node, uint64_t request, const std::string& resource,
                 core::Ballot token, int64_t deadline_us);
  void OnRenewed(int64_t now, int node, uint64_t request, const std::string& resource,
                 int64_t deadline_us);
  void OnEnded(int node, uint64_t request, const std::string& resource);
  void OnNodeCrashed(int node);
  void OnLostUpdate(int64_t now, const std::string& resource, core::Ballot token);
  // Demand for L1: a client starts or stops waiting for `resource`.
  void OnWaitStart(const std::string& resource, int64_t now);
  void OnWaitEnd(const std::string& resource, int64_t now);
  // Called periodically; checks L1.
  void Poll(int64_t now);

  const std::vector<Violation>& violations() const { return violations_; }
  // Node holding `resource` validly now, or -1.
  int ValidHolder(const std::string& resource) const;
  int64_t worst_wait_after_quiet_us() const { return worst_wait_us_; }

 private:
  struct Hold {
    int node;
    uint64_t request;
    core::Ballot token;
    int64_t deadline_us;
  };
  void Add(int64_t now, const std::string& property, std::string detail);
  void CheckExclusive(int64_t now, const std::string& resource, const Hold& fresh);

  const bool check_s1_;
  const int64_t quiet_us_;
  const int64_t bound_us_;
  ValidFn valid_;
  absl::btree_map<std::string, std::vector<Hold>> holds_;
  absl::btree_map<std::string, core::Ballot> last_token_;
  absl::btree_map<std::string, int> demand_;
  absl::btree_map<std::string, int64_t> starved_since_;
  absl::btree_map<std::string, int64_t> idle_since_;  // demand fell to zero at
  // Longer than any client's think time: a gap this long is new demand.
  static constexpr int64_t kDemandGapUsMax = 5'000'000;
  int64_t worst_wait_us_ = 0;
  std::vector<Violation> violations_;
};

}  // namespace lockmesh::sim
