#include "lib/core/lease/voter.h"

#include <algorithm>
#include <limits>

#include "lib/core/check.h"
#include "lib/core/limits.h"

namespace lockmesh::core {

Voter::Voter(const LeaseConfig& config, Hlc& hlc, bool quarantine, Now now)
    : config_(config), hlc_(hlc) {
  if (quarantine && !config_.unsafe.no_quarantine) {
    quarantine_until_us_ = now.mono_us + config_.quarantine_us;
    quarantine_pending_ = true;
  }
}

void Voter::EndQuarantineIfDue(Now now) {
  if (!quarantine_pending_ || now.mono_us < quarantine_until_us_) return;
  quarantine_pending_ = false;
  // Rule 8: every ballot accepted in an earlier life carried a physical time at
  // most D_Q/2 ahead of our wall clock then; D_Q later our HLC is past it.
  floor_ = std::max(floor_, hlc_.Tick(now.wall_ms));
}

void Voter::SetUntil(const std::string& resource, Entry& e, int64_t until_us) {
  if (e.has_lease) expiry_.erase({e.until_us, resource});
  e.until_us = until_us;
  expiry_.insert({until_us, resource});
}

void Voter::RefuseAcquire(NodeId from, const AcquireMsg& msg, RefuseReason reason, Ballot highest,
                          int64_t remaining_us, Outbox& out) {
  ++stats_.refusals[static_cast<int>(reason)];
  AcquireReplyMsg reply;
  reply.resource = msg.resource;
  reply.ballot = msg.ballot;
  reply.owner = msg.owner;
  reply.accepted = false;
  reply.reason = reason;
  reply.highest_ballot = std::max(highest, floor_);
  reply.holder_remaining_us = remaining_us;
  out.Send(from, std::move(reply));
}

void Voter::OnAcquire(NodeId from, const AcquireMsg& msg, Now now, Outbox& out) {
  EndQuarantineIfDue(now);
  // A node asks only for itself: an acquire naming another node as owner could
  // shorten or take over that owner's lease.
  if (msg.owner.node != from || msg.resource.empty() || msg.resource.size() > kResourceBytesMax ||
      msg.duration_us < config_.lease_duration_us_min ||
      msg.duration_us > config_.lease_duration_us_max) {
    return RefuseAcquire(from, msg, RefuseReason::kBadRequest, 0, 0, out);
  }
  if (InQuarantine(now)) return RefuseAcquire(from, msg, RefuseReason::kQuarantine, 0, 0, out);

  auto it = entries_.find(msg.resource);
  if (it == entries_.end()) {
    if (msg.ballot <= floor_) return RefuseAcquire(from, msg, RefuseReason::kStaleBallot, 0, 0, out);
    if (entries_.size() >= kVoterResourcesMax) {
      return RefuseAcquire(from, msg, RefuseReason::kTableFull, 0, 0, out);
    }
    it = entries_.emplace(msg.resource, Entry{}).first;
  }
  Entry& e = it->second;
  const bool live = Live(e, now);

  // A duplicate of the very acquire we accepted: answer again, change nothing.
  if (live && e.ballot == msg.ballot && e.owner == msg.owner) {
    ++stats_.accepts;
    AcquireReplyMsg reply{msg.resource, msg.ballot, msg.owner, true, RefuseReason::kNone,
                          e.highest, 0};
    return out.Send(from, std::move(reply));
  }
  // Rule 3(c): never overwrite another owner's live lease. Checked before the
  // ballot so that an asker whose clock lags still learns the lease is held,
  // and waits for the notice instead of retrying into the same refusal.
  if (live && !(e.owner == msg.owner) && !config_.unsafe.overwrite_lease) {
    AddWaiter(e, from);
    return RefuseAcquire(from, msg, RefuseReason::kHeld, e.highest, e.until_us - now.mono_us, out);
  }
  // Just released or expired: kept a moment for the waiters that were told (fairness; a
  // refusal is always safe).
  if (!live && now.mono_us < e.reserved_until_us &&
      std::find(e.reserved_for.begin(), e.reserved_for.end(), from) == e.reserved_for.end()) {
    AddWaiter(e, from);
    ++stats_.reserved_refusals;
    return RefuseAcquire(from, msg, RefuseReason::kHeld, e.highest,
                         e.reserved_until_us - now.mono_us, out);
  }
  // Rule 3(b): strictly above every ballot accepted here and the floor.
  if (msg.ballot <= e.highest || msg.ballot <= floor_) {
    return RefuseAcquire(from, msg, RefuseReason::kStaleBallot, e.highest, 0, out);
  }

  LM_CHECK(msg.ballot > e.highest);
  if (e.reserved_until_us != 0) {
    reservations_.erase({e.reserved_until_us, it->first});
    e.reserved_until_us = 0;
    e.reserved_for.clear();
  }
  e.highest = msg.ballot;
  SetUntil(it->first, e, now.mono_us + msg.duration_us);
  e.has_lease = true;
  e.ballot = msg.ballot;
  e.owner = msg.owner;
  ++stats_.accepts;
  AcquireReplyMsg reply{msg.resource, msg.ballot, msg.owner, true, RefuseReason::kNone,
                        e.highest, 0};
  out.Send(from, std::move(reply));
}

void Voter::OnRenew(NodeId from, const RenewMsg& msg, Now now, Outbox& out) {
  EndQuarantineIfDue(now);
  RenewReplyMsg reply;
  reply.resource = msg.resource;
  reply.token = msg.token;
  reply.owner = msg.owner;
  reply.round = msg.round;
  auto it = entries_.find(msg.resource);
  if (msg.owner.node != from || msg.duration_us < config_.lease_duration_us_min ||
      msg.duration_us > config_.lease_duration_us_max) {
    reply.reason = RefuseReason::kBadRequest;
  } else if (InQuarantine(now)) {
    reply.reason = RefuseReason::kQuarantine;
  } else if (it == entries_.end() || !Live(it->second, now) || it->second.ballot != msg.token ||
             !(it->second.owner == msg.owner)) {
    // Rule 6: only a live lease matching (owner, token) exactly is extended.
    reply.reason = RefuseReason::kNoLease;
  } else {
    Entry& e = it->second;
    // Never shorten: a duplicate of an older renewal must not cut the lease.
    SetUntil(it->first, e, std::max(e.until_us, now.mono_us + msg.duration_us));
    reply.renewed = true;
    ++stats_.renewals;
  }
  if (!reply.renewed) ++stats_.refusals[static_cast<int>(reply.reason)];
  reply.highest_ballot = it == entries_.end() ? floor_ : std::max(floor_, it->second.highest);
  out.Send(from, std::move(reply));
}

void Voter::OnRelease(NodeId from, const ReleaseMsg& msg, Now now, Outbox& out) {
  EndQuarantineIfDue(now);
  auto it = entries_.find(msg.resource);
  // Rule 7: only a live lease matching (owner, ballot) exactly is cleared, and
  // only by the owner's own node.
  if (msg.owner.node != from || it == entries_.end() || !Live(it->second, now) || it->second.ballot != msg.ballot ||
      !(it->second.owner == msg.owner)) {
    return;
  }
  ++stats_.releases;
  EndLease(it, now, out);
}

void Voter::AddWaiter(Entry& e, NodeId from) {
  if (std::find(e.waiters.begin(), e.waiters.end(), from) != e.waiters.end()) return;
  if (e.waiters.size() < kWaitersPerResourceMax) {
    e.waiters.push_back(from);
  } else {
    ++stats_.waiters_dropped;
  }
}

void Voter::EndLease(absl::btree_map<std::string, Entry>::iterator it, Now now, Outbox& out) {
  Entry& e = it->second;
  if (e.has_lease) expiry_.erase({e.until_us, it->first});
  std::vector<NodeId> told;
  for (NodeId waiter : e.waiters) {
    ++stats_.notices_sent;
    out.Send(waiter, ReleaseNoticeMsg{it->first, e.ballot});
    if (waiter != e.owner.node) told.push_back(waiter);
  }
  floor_ = std::max(floor_, e.highest);
  if (told.empty() || config_.waiter_priority_us == 0) {
    entries_.erase(it);
    return;
  }
  e.has_lease = false;
  e.waiters.clear();
  e.reserved_for = std::move(told);
  e.reserved_until_us = now.mono_us + config_.waiter_priority_us;
  reservations_.insert({e.reserved_until_us, it->first});
  ++stats_.reservations;
}

void Voter::EndReservation(absl::btree_map<std::string, Entry>::iterator it, Outbox& out) {
  Entry& e = it->second;
  reservations_.erase({e.reserved_until_us, it->first});
  for (NodeId waiter : e.waiters) {
    ++stats_.notices_sent;
    out.Send(waiter, ReleaseNoticeMsg{it->first, e.ballot});
  }
  entries_.erase(it);
}

void Voter::OnTick(Now now, Outbox& out) {
  EndQuarantineIfDue(now);
  while (!expiry_.empty() && expiry_.begin()->first <= now.mono_us) {
    auto it = entries_.find(expiry_.begin()->second);
    LM_CHECK(it != entries_.end() && it->second.has_lease);
    ++stats_.expiries;
    EndLease(it, now, out);
  }
  while (!reservations_.empty() && reservations_.begin()->first <= now.mono_us) {
    auto it = entries_.find(reservations_.begin()->second);
    LM_CHECK(it != entries_.end() && !it->second.has_lease);
    EndReservation(it, out);
  }
}

int64_t Voter::NextTickUs() const {
  int64_t next = std::numeric_limits<int64_t>::max();
  if (quarantine_pending_) next = quarantine_until_us_;
  if (!expiry_.empty()) next = std::min(next, expiry_.begin()->first);
  if (!reservations_.empty()) next = std::min(next, reservations_.begin()->first);
  return next;
}

bool Voter::FindLive(const std::string& resource, Now now, LeaseView* view) const {
  auto it = entries_.find(resource);
  if (it == entries_.end() || !Live(it->second, now)) return false;
  *view = {it->second.ballot, it->second.owner, it->second.until_us};
  return true;
}

}  // namespace lockmesh::core
