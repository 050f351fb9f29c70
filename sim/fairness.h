// File: sim/fairness.h
//
// F1 fairness (DESIGN.md): without faults, no waiter is overtaken by a request with a later
// ticket. Judged in true time while no fault has begun (never on a network that loses,
// duplicates or delays stragglers from the start). A waiter is what rule 10 orders: a
// request in the line (refused while the resource was held, kept with its ticket) at a voter.
// When request B first reaches a voter, every request A for the same resource with a lower
// ticket that waits in the line of every voter at that moment is ahead of B everywhere; the
// voters name A first whenever the resource ends, so B must not be granted while A still
// waits. A request in some voters' lines only is not judged: there the order depends on what
// reached which voter first, and the protocol promises nothing.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "lib/core/types.h"

namespace lockmesh::sim {

class Fairness {
 public:
  // `queued_everywhere(resource, node, ticket)`: whether node's request with that ticket waits
  // in every voter's line for the resource now. Judged only before `faults_from_us`.
  using QueuedFn =
      std::function<bool(const std::string& resource, core::NodeId node, core::Ballot ticket)>;
  Fairness(int64_t faults_from_us, QueuedFn queued_everywhere)
      : faults_from_us_(faults_from_us), queued_everywhere_(std::move(queued_everywhere)) {}

  // An acquire of `owner` that waits its turn (non-zero ticket) was sent or reached a voter.
  void OnAcquire(int64_t now, const std::string& resource, const core::Owner& owner,
                 core::Ballot ticket);
  // `owner`'s request was granted: the F1 finding, if it overtook a waiter.
  std::optional<std::string> OnGranted(int64_t now, const core::Owner& owner);
  // `owner`'s request ended without a grant (it gave up): it no longer waits.
  void OnGaveUp(const core::Owner& owner);

  uint64_t judged() const { return judged_; }
  // Of those, the grants that had an earlier ticket in every line to wait behind.
  uint64_t contested() const { return contested_; }

 private:
  using Key = std::tuple<core::NodeId, uint64_t, uint64_t>;  // node, incarnation, request
  struct Request {
    std::string resource;
    core::Ballot ticket = 0;
    std::vector<Key> ahead;  // waited in every line when this one first reached a voter
  };
  static Key KeyOf(const core::Owner& o) { return {o.node, o.incarnation, o.request}; }

  const int64_t faults_from_us_;
  const QueuedFn queued_everywhere_;
  absl::btree_map<Key, Request> requests_;  // waiting
  // Granted or given up: acquires of theirs still on the way must not bring them back.
  absl::btree_set<Key> done_;
  uint64_t judged_ = 0;  // grants judged
  uint64_t contested_ = 0;
};

}  // namespace lockmesh::sim
