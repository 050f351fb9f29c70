// File: membership/broadcast_queue.h
//
// The queue of membership updates waiting to be piggybacked (memberlist's
// TransmitLimitedQueue). At most one update per member is queued: a newer update
// about a member replaces the older one. Updates leave least-transmitted first
// (newest first among equals) and each is sent at most `limit` times, where the
// caller computes the limit from the cluster size (retransmit_mult * ceil(log10(n+1))).
//
//   BroadcastQueue queue;
//   queue.Push(MemberUpdate{.state = MemberState::kSuspect, .node = id, ...});
//   WireSize size = WireSizeOf(AckMsg{.seq = 7});
//   AckMsg ack{.seq = 7};
//   queue.Fill(config.RetransmitLimit(n), size, ack.updates);
//
// Bounded by kMembersMax entries (when full, the most-sent entry makes room).
// Iteration order is deterministic. Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "absl/container/btree_map.h"
#include "lib/core/membership/member.h"
#include "lib/core/membership/wire_budget.h"

namespace lockmesh::core {

class BroadcastQueue {
 public:
  // Queues `update`, replacing any queued update about the same member. It may be
  // sent `extra_transmits` more times than the limit Fill() is given, and goes first.
  void Push(MemberUpdate update, int extra_transmits = 0);

  // Appends to `out` queued updates, least-transmitted first, each one that still
  // fits `size` (which grows by what is taken), until `out` holds
  // kGossipUpdatesPerMessageMax or several in a row did not fit. Each taken update
  // counts one transmission; one sent `limit` times leaves the queue. Returns how many
  // were appended.
  std::size_t Fill(int limit, WireSize& size, std::vector<MemberUpdate>& out);

  // Drops the queued update about `node`, if any.
  void Erase(NodeId node);

  std::size_t size() const { return by_node_.size(); }
  bool empty() const { return by_node_.empty(); }

  // Transmissions so far of the queued update about `node`; -1 if none is queued.
  int Transmits(NodeId node) const;
  // The queued update about `node`, or nullptr.
  const MemberUpdate* Find(NodeId node) const;

 private:
  // (transmits, newest first): the order updates leave in. Push order ids are unique.
  using Key = std::pair<int, uint64_t>;
  struct Entry {
    MemberUpdate update;
    WireSize size;  // WireSizeOf(update), computed once
  };

  absl::btree_map<Key, Entry> order_;
  absl::btree_map<NodeId, Key> by_node_;
  uint64_t next_id_ = 0;
};

}  // namespace lockmesh::core
