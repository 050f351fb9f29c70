// Gossip: the member table and the rules of incarnations (memberlist's aliveNode,
// suspectNode, deadNode, refute and mergeState). An update about a member wins only
// with a higher incarnation, except that suspect and dead also win at an equal one;
// only the member itself raises its incarnation, which is how it refutes.
#include <algorithm>
#include <vector>

#include "lib/core/check.h"
#include "lib/core/limits.h"
#include "lib/core/membership/gossip.h"

namespace lockmesh::core {
namespace {

bool DeadOrLeft(MemberState s) { return s == MemberState::kDead || s == MemberState::kLeft; }
bool Live(MemberState s) { return s == MemberState::kAlive || s == MemberState::kSuspect; }

}  // namespace

void Gossip::ApplyUpdates(const std::vector<MemberUpdate>& updates) {
  for (const MemberUpdate& update : updates) ApplyUpdate(update);
}

void Gossip::ApplyUpdate(const MemberUpdate& u) {
  if (!ValidateMemberUpdate(u).ok()) {
    ++stats_.malformed_updates;
    return;
  }
  switch (u.state) {
    case MemberState::kAlive:
      return AliveNode(u);
    case MemberState::kSuspect:
      return SuspectNode(u.node, u.incarnation, u.from);
    case MemberState::kDead:
      return DeadNode(u.node, u.incarnation, u.from, u.from == u.node);
    case MemberState::kLeft:
      return DeadNode(u.node, u.incarnation, u.from, true);
  }
}

// A push-pull entry. Another node's verdict of dead is only a reason to suspect: we
// let the member refute before we believe it (memberlist's mergeState).
void Gossip::MergeEntry(const MemberUpdate& u) {
  if (!ValidateMemberUpdate(u).ok()) {
    ++stats_.malformed_updates;
    return;
  }
  switch (u.state) {
    case MemberState::kAlive:
      return AliveNode(u);
    case MemberState::kLeft:
      return DeadNode(u.node, u.incarnation, u.node, true);
    case MemberState::kSuspect:
    case MemberState::kDead:
      return SuspectNode(u.node, u.incarnation, self_id_);
  }
}

void Gossip::AliveNode(const MemberUpdate& u) {
  if (u.node == self_id_) return AliveAboutSelf(u);
  auto it = members_.find(u.node);
  if (it == members_.end()) return AddMember(u);
  Member& m = it->second;
  bool reclaim = false;
  if (m.info.address != u.info.address) {
    // Two processes claim one name. Only a member that is gone may move.
    const bool expired = m.state == MemberState::kDead && config_.dead_reclaim_us > 0 &&
                         now_.mono_us - m.state_change_us > config_.dead_reclaim_us;
    if (m.state != MemberState::kLeft && !expired) {
      ++stats_.address_conflicts;
      return;
    }
    reclaim = true;
  }
  if (u.incarnation <= m.incarnation && !reclaim) {
    ++stats_.stale_updates;
    return;
  }
  suspicions_.erase(u.node);
  const MemberState old_state = m.state;
  const bool info_changed = m.info != u.info;
  // A refutation must reach every member that holds the suspicion, or one that
  // misses it declares a live member dead when its timer runs out. Relaying it
  // twice as often makes such a miss vanishingly rare even at 10% loss.
  broadcasts_.Push(u,
                   old_state == MemberState::kAlive ? 0 : config_.RetransmitLimit(live_members_));
  m.incarnation = u.incarnation;
  m.info = u.info;
  if (m.state != MemberState::kAlive) SetState(m, MemberState::kAlive);
  if (DeadOrLeft(old_state)) {
    Emit(MemberEvent::Kind::kJoined, m);
    return;
  }
  if (old_state == MemberState::kSuspect) Emit(MemberEvent::Kind::kAlive, m);
  if (info_changed) Emit(MemberEvent::Kind::kUpdated, m);
}

void Gossip::AliveAboutSelf(const MemberUpdate& u) {
  // A leaving node must not be talked back into the cluster by an old update.
  if (left_) return;
  if (u.incarnation < incarnation_) {
    ++stats_.stale_updates;
    return;
  }
  if (u.info.address != self_info_.address) {
    ++stats_.address_conflicts;
    return;
  }
  // Our own state coming back to us is news to no one.
  if (u.incarnation == incarnation_ && u.info == self_info_) return;
  // Someone holds a different state of us (an earlier life, old tags): outbid it.
  Refute(u.incarnation);
}

void Gossip::AddMember(const MemberUpdate& u) {
  if (members_.size() >= kMembersMax && !EvictOneDead()) {
    ++stats_.table_full;
    return;
  }
  auto [it, inserted] = members_.emplace(
      u.node, Member{u.node, u.info, u.incarnation, MemberState::kAlive, now_.mono_us});
  LM_CHECK(inserted);
  ++live_members_;
  // At a random place in the probe order: appending would leave a new member
  // unprobed for up to a whole pass on every node at once.
  probe_order_.push_back(u.node);
  std::swap(probe_order_.back(), probe_order_[rng_.Uniform(probe_order_.size())]);
  reconnect_.erase(u.node);
  broadcasts_.Push(u);
  Emit(MemberEvent::Kind::kJoined, it->second);
}

Member* Gossip::MemberForAccusation(NodeId node, uint64_t incarnation) {
  auto it = members_.find(node);
  if (it == members_.end()) {
    ++stats_.unknown_member_updates;
    return nullptr;
  }
  if (incarnation < it->second.incarnation) {
    ++stats_.stale_updates;
    // Someone still suspects an older life of us: our refutation ran out of
    // retransmissions before it reached them. Announce our current state again
    // so the ack or gossip that answers them carries it.
    if (node == self_id_) PushSelfUpdate();
    return nullptr;
  }
  return &it->second;
}

void Gossip::SuspectNode(NodeId node, uint64_t incarnation, NodeId from) {
  Member* found = MemberForAccusation(node, incarnation);
  if (found == nullptr) return;
  Member& m = *found;
  if (auto s = suspicions_.find(node); s != suspicions_.end()) {
    // An independent confirmation shortens the timeout, and is news worth
    // re-gossiping so that others' timers shrink too (Lifeguard).
    if (config_.lifeguard && s->second.Confirm(from)) {
      ++stats_.confirmations;
      broadcasts_.Push(MemberUpdate{
          .state = MemberState::kSuspect, .node = node, .incarnation = incarnation, .from = from});
    }
    return;
  }
  if (m.state != MemberState::kAlive) return;
  if (node == self_id_) return Refute(incarnation);
  broadcasts_.Push(MemberUpdate{
      .state = MemberState::kSuspect, .node = node, .incarnation = incarnation, .from = from});
  m.incarnation = incarnation;
  SetState(m, MemberState::kSuspect);
  const std::size_t n = live_members_;
  const int64_t min_us = config_.SuspicionTimeoutMinUs(n);
  const int64_t max_us = config_.lifeguard ? config_.SuspicionTimeoutMaxUs(n) : min_us;
  suspicions_.emplace(node, Suspicion(from, config_.SuspicionConfirmationsExpected(n), min_us,
                                      max_us, now_.mono_us));
  ++stats_.suspicions;
  Emit(MemberEvent::Kind::kSuspect, m);
}

void Gossip::DeadNode(NodeId node, uint64_t incarnation, NodeId from, bool left) {
  Member* found = MemberForAccusation(node, incarnation);
  if (found == nullptr) return;
  Member& m = *found;
  suspicions_.erase(node);
  if (DeadOrLeft(m.state)) return;
  // We are alive, whatever others say (a leaving node is already kLeft above).
  if (node == self_id_) return Refute(incarnation);
  broadcasts_.Push(MemberUpdate{.state = left ? MemberState::kLeft : MemberState::kDead,
                                .node = node,
                                .incarnation = incarnation,
                                .from = left ? node : from});
  m.incarnation = incarnation;
  SetState(m, left ? MemberState::kLeft : MemberState::kDead);
  Emit(left ? MemberEvent::Kind::kLeft : MemberEvent::Kind::kDead, m);
}

void Gossip::Refute(uint64_t accused_incarnation) {
  incarnation_ = std::max(incarnation_, accused_incarnation) + 1;
  members_.at(self_id_).incarnation = incarnation_;
  // Being suspected is a sign that we may be the slow one (Lifeguard).
  if (config_.lifeguard) awareness_.ApplyDelta(1);
  ++stats_.refutations;
  PushSelfUpdate();
}

void Gossip::PushSelfUpdate() {
  // A refutation that misses one member lets that member declare us dead when its
  // suspicion runs out; under loss, twice the usual retransmissions make a miss
  // rare. Refutations are rare, so the extra traffic is small.
  broadcasts_.Push(SelfUpdate(), config_.RetransmitLimit(live_members_));
}

void Gossip::SetState(Member& m, MemberState state) {
  if (Live(m.state) && !Live(state)) --live_members_;
  if (!Live(m.state) && Live(state)) ++live_members_;
  m.state = state;
  m.state_change_us = now_.mono_us;
}

// Makes room in a full table by dropping the member that died or left longest ago.
bool Gossip::EvictOneDead() {
  auto oldest = members_.end();
  for (auto it = members_.begin(); it != members_.end(); ++it) {
    if (DeadOrLeft(it->second.state) &&
        (oldest == members_.end() || it->second.state_change_us < oldest->second.state_change_us)) {
      oldest = it;
    }
  }
  if (oldest == members_.end()) return false;
  probe_order_.erase(std::find(probe_order_.begin(), probe_order_.end(), oldest->first));
  members_.erase(oldest);
  probe_index_ = std::min(probe_index_, probe_order_.size());
  return true;
}

// memberlist's resetNodes, run after each full probe pass: members dead or left for
// longer than gossip_to_the_dead_us are dropped (a dead one is remembered for
// reconnecting), and the probe order is reshuffled.
void Gossip::ResetProbeOrder() {
  const int64_t now = now_.mono_us;
  for (auto it = reconnect_.begin(); it != reconnect_.end();) {
    it = it->second.until_us <= now ? reconnect_.erase(it) : std::next(it);
  }
  std::vector<NodeId> kept;
  kept.reserve(probe_order_.size());
  for (NodeId id : probe_order_) {
    auto it = members_.find(id);
    LM_CHECK(it != members_.end());
    const Member& m = it->second;
    if (id == self_id_ || !DeadOrLeft(m.state) ||
        now - m.state_change_us <= config_.gossip_to_the_dead_us) {
      kept.push_back(id);
      continue;
    }
    if (m.state == MemberState::kDead && config_.reconnect_timeout_us > 0 &&
        reconnect_.size() < kMembersMax) {
      reconnect_[id] = Reconnect{m.info.address, now + config_.reconnect_timeout_us};
    }
    members_.erase(it);
  }
  probe_order_ = std::move(kept);
  for (std::size_t i = probe_order_.size(); i > 1; --i) {
    std::swap(probe_order_[i - 1], probe_order_[rng_.Uniform(i)]);
  }
  LM_CHECK(probe_order_.size() == members_.size());
}

void Gossip::ExpireSuspicions() {
  std::vector<NodeId> due;
  for (const auto& [node, suspicion] : suspicions_) {
    if (suspicion.deadline_us() <= now_.mono_us) due.push_back(node);
  }
  for (NodeId node : due) {
    const Member& m = members_.at(node);
    LM_CHECK(m.state == MemberState::kSuspect);
    ++stats_.deaths_declared;
    DeadNode(node, m.incarnation, self_id_, false);
  }
}

}  // namespace lockmesh::core
