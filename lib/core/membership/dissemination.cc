// Gossip: how updates spread. Every probe, ack, nack and ping-req carries queued
// updates (piggyback); every gossip interval the queue goes to a few random members
// (dead ones too, for a while, so a member declared dead by mistake hears it and
// refutes); every push-pull interval one random member and we swap full state,
// which repairs whatever piggybacking missed. A join is a push-pull addressed to a
// seed by address only; a reconnect is a join through a member we dropped as dead.
#include <algorithm>
#include <iterator>
#include <limits>
#include <utility>

#include "lib/core/check.h"
#include "lib/core/limits.h"
#include "lib/core/membership/gossip.h"
#include "lib/core/membership/wire_budget.h"

namespace lockmesh::core {
namespace {

bool ValidAddress(const std::string& address) {
  return !address.empty() && address.size() <= kMemberAddressBytesMax;
}

}  // namespace

void Gossip::Piggyback(std::vector<MemberUpdate>& updates, WireSize size) {
  stats_.updates_piggybacked +=
      broadcasts_.Fill(config_.RetransmitLimit(live_members_), size, updates);
}

void Gossip::GossipTick() {
  next_gossip_us_ = now_.mono_us + config_.gossip_interval_us;
  if (broadcasts_.empty()) return;
  const std::vector<const Member*> targets =
      RandomMembers(config_.gossip_nodes, [&](const Member& m) {
        if (m.id == self_id_ || m.state == MemberState::kLeft) return false;
        if (m.state != MemberState::kDead) return true;
        return now_.mono_us - m.state_change_us <= config_.gossip_to_the_dead_us;
      });
  for (const Member* target : targets) {
    GossipMsg gossip;
    Piggyback(gossip.updates, WireSizeOf(gossip));
    if (gossip.updates.empty()) break;
    Send(target->id, target->info.address, std::move(gossip));
  }
}

void Gossip::PushPullTick() {
  next_push_pull_us_ = now_.mono_us + config_.PushPullIntervalUs(live_members_);
  if (left_) return;
  const std::vector<const Member*> peers = RandomMembers(
      1, [&](const Member& m) { return m.id != self_id_ && m.state == MemberState::kAlive; });
  if (!peers.empty()) {
    const NodeId peer = peers[0]->id;
    const std::string address = peers[0]->info.address;
    ++stats_.push_pulls;
    SendState(peer, address, /*join=*/false, /*reply=*/false);
  }
  MaybeReconnect();
}

// serf's reconnect: with probability (dropped dead members) / (live others), try to
// rejoin through one of them. Two sides of a long partition have dropped each other
// from their tables; without this they would never meet again.
void Gossip::MaybeReconnect() {
  if (reconnect_.empty()) return;
  const double others = std::max<double>(1, static_cast<double>(live_members_) - 1);
  if (!rng_.Chance(static_cast<double>(reconnect_.size()) / others)) return;
  auto it = reconnect_.begin();
  std::advance(it, static_cast<std::ptrdiff_t>(rng_.Uniform(reconnect_.size())));
  if (it->second.until_us <= now_.mono_us) {
    reconnect_.erase(it);
    return;
  }
  ++stats_.reconnects;
  const NodeId node = it->first;
  const std::string address = it->second.address;
  SendState(node, address, /*join=*/true, /*reply=*/false);
}

void Gossip::SendJoin() {
  for (const std::string& seed : seeds_) {
    ++stats_.joins_sent;
    SendState(/*to=*/0, seed, /*join=*/true, /*reply=*/false);
  }
}

// Our full state, ourselves first (a receiver answers to the address we give there),
// split into chunks that each fit a datagram. Dead and left members go along while
// they are still gossiped to, as in memberlist.
void Gossip::SendState(NodeId to, const std::string& address, bool join, bool reply) {
  std::vector<PushPullMsg> chunks(1, PushPullMsg{.join = join, .reply = reply});
  WireSize size = WireSizeOf(chunks.back());
  auto add = [&](MemberUpdate entry) {
    const WireSize entry_size = WireSizeOf(entry);
    if (!Fits(size + entry_size) || chunks.back().members.size() >= kGossipUpdatesPerMessageMax) {
      chunks.push_back(PushPullMsg{.join = join, .reply = reply});
      size = WireSizeOf(chunks.back());
    }
    size += entry_size;
    LM_CHECK(Fits(size));  // one member always fits (checked at construction)
    chunks.back().members.push_back(std::move(entry));
  };
  auto entry_of = [&](const Member& m) {
    return MemberUpdate{.state = m.state,
                        .node = m.id,
                        .incarnation = m.incarnation,
                        .from = m.state == MemberState::kLeft ? m.id : self_id_,
                        .info = m.info};
  };
  add(entry_of(members_.at(self_id_)));
  for (const auto& [id, m] : members_) {
    if (id == self_id_) continue;
    const bool gone = m.state == MemberState::kDead || m.state == MemberState::kLeft;
    if (gone && now_.mono_us - m.state_change_us > config_.gossip_to_the_dead_us) continue;
    add(entry_of(m));
  }
  LM_CHECK(chunks.size() <= std::numeric_limits<uint16_t>::max());
  const auto count = static_cast<uint16_t>(chunks.size());
  for (uint16_t i = 0; i < count; ++i) {
    chunks[i].chunk_index = i;
    chunks[i].chunk_count = count;
    Send(to, address, std::move(chunks[i]));
  }
}

void Gossip::OnPushPull(NodeId from, const PushPullMsg& m) {
  if (m.chunk_count == 0 || m.chunk_index >= m.chunk_count ||
      m.members.size() > kGossipUpdatesPerMessageMax) {
    ++stats_.dropped_malformed;
    return;
  }
  // The sender's own entry says where it is, even when we do not know it yet.
  std::string reply_address;
  for (const MemberUpdate& entry : m.members) {
    if (entry.node == from && ValidAddress(entry.info.address)) {
      reply_address = entry.info.address;
      break;
    }
  }
  for (const MemberUpdate& entry : m.members) MergeEntry(entry);
  if (m.reply) {
    joining_ = false;  // someone answered: we have the membership
    return;
  }
  // One full answer per exchange, to its first chunk; a lost chunk 0 costs one round.
  if (m.chunk_index != 0) return;
  if (reply_address.empty()) {
    if (const Member* known = Find(from)) reply_address = known->info.address;
  }
  if (reply_address.empty()) {
    ++stats_.dropped_unroutable;
    return;
  }
  ++stats_.push_pull_replies;
  SendState(from, reply_address, m.join, /*reply=*/true);
}

}  // namespace lockmesh::core
