// File: membership/suspicion.h
//
// Lifeguard's suspicion timer (memberlist's suspicion.go): a suspicion of a member
// starts with the longest timeout and shrinks towards the shortest as independent
// members confirm it, following
//
//   timeout(c) = max - (max - min) * log(c + 1) / log(k + 1),   at least min,
//
// where c is the number of confirmations so far and k the number expected. The
// accuser that started the suspicion never counts; each other member counts once.
// With k < 1 (small cluster, or Lifeguard off) the timeout is min from the start.
//
//   Suspicion s(accuser, /*k=*/2, min_us, max_us, now.mono_us);
//   if (s.Confirm(other)) { ... re-gossip the suspicion: it is news ... }
//   if (now.mono_us >= s.deadline_us()) { ... declare the member dead ... }
//
// Plain value; not thread-safe.
#pragma once

#include <cstdint>

#include "absl/container/btree_set.h"
#include "lib/core/types.h"

namespace lockmesh::core {

class Suspicion {
 public:
  // REQUIRES: 0 < min_us <= max_us.
  Suspicion(NodeId from, int k, int64_t min_us, int64_t max_us, int64_t start_us);

  // Counts a confirmation from `from`. False (and nothing changes) when `from` has
  // already counted (or is the accuser) or k confirmations are in.
  bool Confirm(NodeId from);

  // When the member is to be declared dead, on the monotonic clock.
  int64_t deadline_us() const { return deadline_us_; }
  int64_t start_us() const { return start_us_; }
  int confirmations() const { return confirmations_; }
  int expected() const { return k_; }
  int64_t min_us() const { return min_us_; }
  int64_t max_us() const { return max_us_; }

  // The total timeout after `n` of `k` confirmations, in whole microseconds
  // (rounded down), never below min_us; min_us when k < 1.
  static int64_t TimeoutUs(int n, int k, int64_t min_us, int64_t max_us);

 private:
  int k_;
  int64_t min_us_;
  int64_t max_us_;
  int64_t start_us_;
  int confirmations_ = 0;
  int64_t deadline_us_;
  absl::btree_set<NodeId> seen_;  // the accuser and every confirmer: at most k + 1
};

}  // namespace lockmesh::core
