// File: lease/voter.h
//
// The acceptor half of the lease protocol (DESIGN.md rules 3, 6, 7, 8). A voter
// keeps, per resource, the highest ballot it accepted and at most one live
// lease, and refuses anything that could let two owners hold at once.
//
// Entries whose lease ended are dropped at once, after raising a global ballot
// floor to their highest ballot; so the table stays small and no later ballot
// for that resource can be lower than one accepted before.
//
// Waiters (rule 10): a node refused because the resource is held is recorded with
// its request's ticket. When the lease ends, only the waiter with the lowest ticket
// (the head) is told, and the entry stays reserved for it: anyone with a later
// ticket is refused as held until the head takes it or the window
// (waiter_priority_us) ends, when the next waiter is named. These are refusals and
// notices only; what may be accepted is still decided by rule 3 alone.
//
// Grant at release: when the head's refused acquire is recent and its ballot still passes
// rule 3 here, the voter accepts that ballot as the lease ends, instead of telling the head
// to ask again; the accept is the notice. The head counts these accepts like any others
// (rule 4: it holds from when it sent that ballot). docs/protocol.md gives the argument.
//
// Not thread-safe; owned by one LeaseNode.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "lib/core/config.h"
#include "lib/core/hlc.h"
#include "lib/core/lease/events.h"

namespace lockmesh::core {

struct VoterStats {
  uint64_t accepts = 0;
  uint64_t refusals[kRefuseReasonCount] = {};
  uint64_t renewals = 0;
  uint64_t releases = 0;
  uint64_t releases_acked = 0;  // answers to releases that asked for one
  uint64_t expiries = 0;
  uint64_t notices_sent = 0;
  uint64_t waiters_dropped = 0;
  uint64_t reservations = 0;       // ended leases kept for a named head of the waiters
  uint64_t reserved_refusals = 0;  // acquires refused because of such a reservation
  uint64_t heads_skipped = 0;      // named heads that did not come within the window
  uint64_t release_grants = 0;     // accepts of a head's parked ballot as a lease ended
  uint64_t outbid_notices = 0;     // parked ballots refused again: a higher one was accepted
};

class Voter {
 public:
  // `quarantine`: this voter starts without memory of an earlier life and must
  // refuse everything for config.quarantine_us (rule 8).
  Voter(const LeaseConfig& config, Hlc& hlc, bool quarantine, Now now);

  void OnAcquire(NodeId from, const AcquireMsg& msg, Now now, Outbox& out);
  void OnRenew(NodeId from, const RenewMsg& msg, Now now, Outbox& out);
  void OnRelease(NodeId from, const ReleaseMsg& msg, Now now, Outbox& out);
  // Ends expired leases (notifying waiters) and the quarantine when due.
  void OnTick(Now now, Outbox& out);

  // Monotonic time of the next expiry or quarantine end; INT64_MAX if none.
  int64_t NextTickUs() const;

  bool InQuarantine(Now now) const { return now.mono_us < quarantine_until_us_; }
  int64_t quarantine_until_us() const { return quarantine_until_us_; }
  Ballot floor() const { return floor_; }
  std::size_t resource_count() const { return entries_.size(); }
  const VoterStats& stats() const { return stats_; }

  // The live lease of `resource` at `now`, for tests and the simulator's
  // account; nullptr if none.
  struct LeaseView {
    Ballot ballot;
    Owner owner;
    int64_t until_us;
  };
  bool FindLive(const std::string& resource, Now now, LeaseView* view) const;
  // Whether `node`'s request with `ticket` waits in this voter's line for `resource` (rule
  // 10), for the simulator's fairness judge.
  bool Queued(const std::string& resource, NodeId node, Ballot ticket) const;

 private:
  // No member initializers: GCC cannot use them in Entry's before Voter is complete.
  struct Waiter {
    Ballot ticket;
    NodeId node;
    int64_t duration_us;  // what it asks for: how long the head may hold it
    // Its last refused acquire, which may be accepted when the lease ends (0: none, such as
    // a failed attempt's owner kept in line by its release).
    Ballot parked;
    Owner owner;
    int64_t parked_at_us;  // when that acquire arrived
    bool Before(Ballot other_ticket, NodeId other_node) const {
      return ticket != other_ticket ? ticket < other_ticket : node < other_node;
    }
  };
  // Who waits for a resource (rule 10), and the turn kept for the named head once its lease
  // ends. Most resources never see a second asker (a scheduler's many held leases), so the
  // line exists only while someone waits or a turn is kept: an entry without one is small.
  struct Line {
    // Sorted by (ticket, node); one per node (a node runs one request per resource).
    std::vector<Waiter> waiters;
    // After a lease ends: the head of `waiters`, told of it, alone may take the resource
    // until `reserved_until_us` (0: no reservation), it or an asker with an earlier ticket.
    Waiter head{};
    int64_t reserved_until_us = 0;
  };
  struct Entry {
    Ballot highest = 0;  // highest ballot accepted for this resource
    Ballot ballot = 0;
    Owner owner;
    int64_t until_us = 0;
    Ballot ticket = 0;  // of the accepted request, and what it asked for
    int64_t duration_us = 0;
    std::unique_ptr<Line> line;  // nullptr: nobody waits and no turn is kept
    bool has_lease = false;
  };

  bool Live(const Entry& e, Now now) const { return e.has_lease && now.mono_us < e.until_us; }
  static int64_t ReservedUntil(const Entry& e) { return e.line ? e.line->reserved_until_us : 0; }
  void SetUntil(const std::string& resource, Entry& e, int64_t until_us);
  // Ends the lease of `it` (release or expiry) and names the next waiter, or drops the
  // entry when nobody waits.
  // `requeue`: the owner's request still waits (a failed attempt's release).
  void EndLease(absl::btree_map<std::string, Entry>::iterator it, Now now, Outbox& out,
                bool requeue = false);
  // The named head did not come within the window: skips it and names the next one.
  void EndReservation(absl::btree_map<std::string, Entry>::iterator it, Now now, Outbox& out);
  // Tells the head of the waiters and reserves the entry for it, or drops the entry when
  // nobody waits (with the window off: tells every waiter and drops it).
  // `retrying`: a node whose failed attempt just released here; it is not told.
  void NameHead(absl::btree_map<std::string, Entry>::iterator it, Now now, Outbox& out,
                NodeId retrying = 0);
  // Accepts the head's parked ballot if rule 3 allows it and it is recent. True if it did.
  bool GrantAtRelease(absl::btree_map<std::string, Entry>::iterator it, const Waiter& head, Now now,
                      Outbox& out);
  // Rule 3's accept: records (ballot, owner, until = now + duration) and answers `to`.
  void Accept(absl::btree_map<std::string, Entry>::iterator it, NodeId to, Ballot ballot,
              const Owner& owner, Ballot ticket, int64_t duration_us, Now now, Outbox& out);
  void ClearReservation(const std::string& resource, Entry& e);
  void AddWaiter(Entry& e, const Waiter& w);
  // Drops the line once nobody is in it and no turn is kept.
  static void RemoveWaiter(Entry& e, NodeId node);
  void EndQuarantineIfDue(Now now);
  // `holder`: the live lease in the way (kHeld), or nullptr.
  void RefuseAcquire(NodeId from, const AcquireMsg& msg, RefuseReason reason, Ballot highest,
                     int64_t remaining_us, Outbox& out, const Entry* holder = nullptr);

  const LeaseConfig& config_;
  Hlc& hlc_;
  int64_t quarantine_until_us_ = 0;
  bool quarantine_pending_ = false;  // the floor is raised once when it ends
  Ballot floor_ = 0;
  // btree containers: iteration order must not depend on a hash seed, or the
  // simulator could not replay a seed.
  absl::btree_map<std::string, Entry> entries_;
  absl::btree_set<std::pair<int64_t, std::string>> expiry_;
  absl::btree_set<std::pair<int64_t, std::string>> reservations_;
  VoterStats stats_;
};

}  // namespace lockmesh::core
