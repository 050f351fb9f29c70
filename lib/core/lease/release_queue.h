// File: lease/release_queue.h
//
// The releases a proposer resends until every voter it sent them to confirms (DESIGN.md
// rule 5: a failed attempt frees its partial accepts), kept by (resource, ballot) and
// indexed by when each is due, so that a tick and the next-tick question touch only
// what is due rather than every release still pending.
//
// Not thread-safe; owned by one Proposer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "absl/functional/function_ref.h"
#include "lib/core/messages.h"

namespace lockmesh::core {

class ReleaseQueue {
 public:
  using Key = std::pair<std::string, Ballot>;  // resource, ballot
  struct Release {
    Owner owner;
    uint32_t voters = 0;  // bit i: voters[i] has not confirmed yet
    int64_t resend_at_us = 0;
    int64_t give_up_at_us = 0;
    bool still_waiting = false;  // ReleaseMsg::still_waiting
    int resends = 0;
  };

  explicit ReleaseQueue(std::size_t max) : max_(max) {}

  // Adds the release of `key`, or merges into the one pending: `voters` join those not yet
  // confirmed, it is due next at `resend_at_us`, and kept at least until `give_up_at_us`.
  // False, and nothing kept, when it is new and `max` are pending already.
  bool Add(const Key& key, const Owner& owner, uint32_t voters, int64_t resend_at_us,
           int64_t give_up_at_us, bool still_waiting);

  // Voter `voter_index` confirmed nothing of (owner, ballot) is left there.
  void Confirm(const Key& key, const Owner& owner, int voter_index);

  // Drops the releases whose give-up time has come (returns how many) and calls `resend`
  // for each other release due by `now_us`; `resend` sends it and returns when it is due
  // next (after now_us).
  std::size_t Tick(int64_t now_us, absl::FunctionRef<int64_t(const Key&, Release&)> resend);

  // When the earliest release is due; INT64_MAX when none is pending.
  int64_t NextDueUs() const;
  std::size_t size() const { return releases_.size(); }

 private:
  void Erase(absl::btree_map<Key, Release>::iterator it);

  const std::size_t max_;
  absl::btree_map<Key, Release> releases_;
  absl::btree_set<std::pair<int64_t, Key>> due_;  // (resend_at_us, key) of each release
};

}  // namespace lockmesh::core
