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
                          int64_t remaining_us, Outbox& out, const Entry* holder) {
  ++stats_.refusals[static_cast<int>(reason)];
  AcquireReplyMsg reply;
  reply.resource = msg.resource;
  reply.ballot = msg.ballot;
  reply.owner = msg.owner;
  reply.accepted = false;
  reply.reason = reason;
  reply.highest_ballot = std::max(highest, floor_);
  reply.holder_remaining_us = remaining_us;
  if (holder != nullptr) {
    reply.holder = holder->owner;
    reply.holder_ballot = holder->ballot;
  }
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

  // Rule 10: a ticket after the ballot is not a first ballot; take the ballot.
  const Ballot ticket = msg.ticket != 0 && msg.ticket <= msg.ballot ? msg.ticket : msg.ballot;
  // Only a sender that hears us may be granted its ballot at release (AcquireMsg::hears).
  const Waiter asker{ticket,    from,       msg.duration_us, msg.hears ? msg.ballot : 0,
                     msg.owner, now.mono_us};
  // Ticket 0: a try-acquire (or an older sender), which will not wait for a notice. Queued,
  // it would be named and kept for in vain.
  const bool queued = msg.ticket != 0;

  auto it = entries_.find(msg.resource);
  if (it != entries_.end() && it->second.has_lease && !Live(it->second, now)) {
    // Expired, and the tick that ends it not run yet: end it first, so that the waiters
    // keep their turn.
    ++stats_.expiries;
    EndLease(it, now, out);
    it = entries_.find(msg.resource);
  }
  if (it != entries_.end() && !it->second.has_lease && now.mono_us < ReservedUntil(it->second) &&
      it->second.line->head.node == from && it->second.line->head.ticket < ticket) {
    // Kept for this node's earlier request, and the node asks for a later one: the earlier
    // is over (a node runs one request per resource at a time; it timed out or was
    // cancelled, and nothing told us). The turn passes on now, not at the window's end,
    // or the node's own next request would wait out the window and then a whole lease.
    EndReservation(it, now, out);
    it = entries_.find(msg.resource);
  }
  if (it == entries_.end()) {
    if (msg.ballot <= floor_)
      return RefuseAcquire(from, msg, RefuseReason::kStaleBallot, 0, 0, out);
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
    AcquireReplyMsg reply{msg.resource,        msg.ballot, msg.owner, true,
                          RefuseReason::kNone, e.highest,  0};
    return out.Send(from, std::move(reply));
  }
  // Rule 3(c): never overwrite another owner's live lease. Checked before the
  // ballot so that an asker whose clock lags still learns the lease is held,
  // and waits for the notice instead of retrying into the same refusal.
  if (live && !(e.owner == msg.owner) && !config_.unsafe.overwrite_lease) {
    if (queued) AddWaiter(e, asker);
    return RefuseAcquire(from, msg, RefuseReason::kHeld, e.highest, e.until_us - now.mono_us, out,
                         &e);
  }
  // Rule 10: just ended and kept for the named head; only the head, or an asker queued
  // before it, may take it. Anyone else waits its turn (a refusal is always safe).
  if (!live && now.mono_us < ReservedUntil(e) && e.line->head.Before(asker.ticket, asker.node)) {
    if (queued) AddWaiter(e, asker);
    ++stats_.reserved_refusals;
    // The head is expected to hold it next: the asker's fallback timer should not fire
    // before that lease could end.
    return RefuseAcquire(from, msg, RefuseReason::kHeld, e.highest,
                         ReservedUntil(e) - now.mono_us + e.line->head.duration_us, out);
  }
  // Rule 3(b): strictly above every ballot accepted here and the floor.
  if (msg.ballot <= e.highest || msg.ballot <= floor_) {
    return RefuseAcquire(from, msg, RefuseReason::kStaleBallot, e.highest, 0, out);
  }

  if (ReservedUntil(e) != 0) ClearReservation(it->first, e);
  Accept(it, from, msg.ballot, msg.owner, ticket, msg.duration_us, now, out);
}

void Voter::Accept(absl::btree_map<std::string, Entry>::iterator it, NodeId to, Ballot ballot,
                   const Owner& owner, Ballot ticket, int64_t duration_us, Now now, Outbox& out) {
  Entry& e = it->second;
  LM_CHECK(ballot > e.highest && ballot > floor_ && !InQuarantine(now));
  RemoveWaiter(e, to);
  e.highest = ballot;
  SetUntil(it->first, e, now.mono_us + duration_us);
  e.has_lease = true;
  e.ballot = ballot;
  e.owner = owner;
  e.ticket = ticket;
  e.duration_us = duration_us;
  ++stats_.accepts;
  AcquireReplyMsg reply{it->first, ballot, owner, true, RefuseReason::kNone, e.highest, 0};
  out.Send(to, std::move(reply));
  // Waiters whose parked ballot this accept outbids could never be granted at release: say
  // so once (their acquire refused again, naming the higher ballot), so they park a higher
  // one and the handoffs after this one go at release again.
  if (!e.line) return;
  for (Waiter& w : e.line->waiters) {
    if (w.parked == 0 || w.parked > ballot) continue;
    ++stats_.outbid_notices;
    AcquireMsg parked{it->first, w.parked, w.owner, w.duration_us, w.ticket};
    RefuseAcquire(w.node, parked, RefuseReason::kHeld, e.highest, e.until_us - now.mono_us, out,
                  &e);
    w.parked = 0;
  }
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
  // Rule 7: only the owner's own node may release.
  if (msg.owner.node != from) return;
  auto it = entries_.find(msg.resource);
  if (it != entries_.end()) {
    Entry& e = it->second;
    if (Live(e, now) && e.ballot == msg.ballot && e.owner == msg.owner) {
      // Rule 7: only a live lease matching (owner, ballot) exactly is cleared.
      ++stats_.releases;
      EndLease(it, now, out, msg.still_waiting);
    } else {
      // Not accepted here (yet): an acquire of that ballot still on its way must not be
      // accepted after its owner gave it up. Raising `highest` only adds refusals.
      e.highest = std::max(e.highest, msg.ballot);
    }
  }
  if (msg.ack_wanted) {
    // The proposer resends this release until it hears that nothing of (owner, ballot) is
    // left here.
    ++stats_.releases_acked;
    AcquireReplyMsg ack;
    ack.resource = msg.resource;
    ack.ballot = msg.ballot;
    ack.owner = msg.owner;
    ack.reason = RefuseReason::kNoLease;
    it = entries_.find(msg.resource);
    ack.highest_ballot = std::max(floor_, it == entries_.end() ? 0 : it->second.highest);
    out.Send(from, std::move(ack));
  }
}

void Voter::AddWaiter(Entry& e, const Waiter& w) {
  // A node's latest ask stands for its current request (one per resource per node).
  RemoveWaiter(e, w.node);
  if (!e.line) e.line = std::make_unique<Line>();
  std::vector<Waiter>& waiters = e.line->waiters;
  auto pos = std::find_if(waiters.begin(), waiters.end(),
                          [&](const Waiter& x) { return w.Before(x.ticket, x.node); });
  waiters.insert(pos, w);
  // Keep the earliest tickets; the latest falls back to its retry timer.
  if (waiters.size() > kWaitersPerResourceMax) {
    waiters.pop_back();
    ++stats_.waiters_dropped;
  }
}

void Voter::RemoveWaiter(Entry& e, NodeId node) {
  if (!e.line) return;
  std::erase_if(e.line->waiters, [&](const Waiter& x) { return x.node == node; });
  if (e.line->waiters.empty() && e.line->reserved_until_us == 0) e.line.reset();
}

void Voter::ClearReservation(const std::string& resource, Entry& e) {
  reservations_.erase({e.line->reserved_until_us, resource});
  e.line->reserved_until_us = 0;
}

void Voter::EndLease(absl::btree_map<std::string, Entry>::iterator it, Now now, Outbox& out,
                     bool requeue) {
  Entry& e = it->second;
  if (e.has_lease) expiry_.erase({e.until_us, it->first});
  e.has_lease = false;
  floor_ = std::max(floor_, e.highest);
  // A record of the owner's node from before it held this lease is stale. One with a later
  // ticket is its next request, whose acquire overtook this release on the way (links
  // reorder): it waits, and must keep its place, or nobody names it and it sits out its
  // fallback timer (about a lease) while the resource goes to others or stays idle.
  if (e.line) {
    std::erase_if(e.line->waiters,
                  [&](const Waiter& w) { return w.node == e.owner.node && w.ticket <= e.ticket; });
  }
  // A failed attempt keeps its place: it will be back, with the same ticket.
  if (requeue) AddWaiter(e, Waiter{e.ticket, e.owner.node, e.duration_us, 0, {}, 0});
  NameHead(it, now, out, requeue ? e.owner.node : 0);
}

void Voter::NameHead(absl::btree_map<std::string, Entry>::iterator it, Now now, Outbox& out,
                     NodeId retrying) {
  Entry& e = it->second;
  LM_CHECK(!e.has_lease && ReservedUntil(e) == 0);
  if (config_.waiter_priority_us == 0 && e.line) {
    // No reservation: everyone is told and the first to come takes it.
    for (const Waiter& w : e.line->waiters) {
      if (w.node == retrying) continue;
      ++stats_.notices_sent;
      out.Send(w.node, ReleaseNoticeMsg{it->first, e.ballot});
    }
    e.line.reset();
  }
  if (!e.line || e.line->waiters.empty()) {
    entries_.erase(it);
    return;
  }
  // The node whose failed attempt just ended here is not told (it knows, and a notice would
  // make it retry into the refusal it just had). First in line, it keeps its turn: the
  // resource is kept for it, quietly, or the next waiter would overtake it (F1); it comes
  // back when the other voters show it the lease ended there too, or is skipped after the
  // window like any head.
  const Waiter& head = e.line->waiters.front();
  if (head.node == retrying) {
    e.line->head = head;
  } else {
    if (GrantAtRelease(it, head, now, out)) return;
    e.line->head = head;
    ++stats_.notices_sent;
    out.Send(head.node, ReleaseNoticeMsg{it->first, e.ballot});
  }
  e.line->reserved_until_us = now.mono_us + config_.waiter_priority_us;
  reservations_.insert({e.line->reserved_until_us, it->first});
  ++stats_.reservations;
}

bool Voter::GrantAtRelease(absl::btree_map<std::string, Entry>::iterator it, const Waiter& head,
                           Now now, Outbox& out) {
  const Entry& e = it->second;
  // Rule 3 exactly, on an acquire that arrived earlier: (a) no quarantine, (b) above every
  // ballot accepted here and the floor, (c) no live lease (it just ended). Its owner sent
  // the ballot before it arrived here, so its t0 precedes this accept like any other's.
  if (head.parked == 0 || head.parked <= e.highest || head.parked <= floor_ || InQuarantine(now) ||
      !config_.grant_at_release) {
    return false;
  }
  // Recent only: the head holds from its t0, and a waiter long gone would block the
  // resource for a whole lease instead of one window.
  if (now.mono_us - head.parked_at_us > head.duration_us / kReleaseGrantAgeDivisor) return false;
  const Waiter w = head;
  ++stats_.release_grants;
  Accept(it, w.node, w.parked, w.owner, w.ticket, w.duration_us, now, out);
  return true;
}

void Voter::EndReservation(absl::btree_map<std::string, Entry>::iterator it, Now now, Outbox& out) {
  Entry& e = it->second;
  const NodeId head = e.line->head.node;
  ClearReservation(it->first, e);
  // Its notice or its acquire was lost, or it stopped waiting: its own retry timer brings
  // it back (with its ticket, so in its place) if it still waits.
  RemoveWaiter(e, head);
  ++stats_.heads_skipped;
  NameHead(it, now, out);
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
    EndReservation(it, now, out);
  }
}

int64_t Voter::NextTickUs() const {
  int64_t next = std::numeric_limits<int64_t>::max();
  if (quarantine_pending_) next = quarantine_until_us_;
  if (!expiry_.empty()) next = std::min(next, expiry_.begin()->first);
  if (!reservations_.empty()) next = std::min(next, reservations_.begin()->first);
  return next;
}

bool Voter::Queued(const std::string& resource, NodeId node, Ballot ticket) const {
  auto it = entries_.find(resource);
  if (it == entries_.end() || !it->second.line) return false;
  const std::vector<Waiter>& waiters = it->second.line->waiters;
  return std::any_of(waiters.begin(), waiters.end(),
                     [&](const Waiter& w) { return w.node == node && w.ticket == ticket; });
}

bool Voter::FindLive(const std::string& resource, Now now, LeaseView* view) const {
  auto it = entries_.find(resource);
  if (it == entries_.end() || !Live(it->second, now)) return false;
  *view = {it->second.ballot, it->second.owner, it->second.until_us};
  return true;
}

}  // namespace lockmesh::core
