// Gossip: failure detection (memberlist's probe, probeNode and the ping, ping-req, ack
// and nack handlers). One probe per (awareness-scaled) interval goes to the next
// member of a shuffled round-robin order. Without a direct ack within the probe
// timeout, k random alive members probe the target for us; without any ack by the end
// of the interval, the target becomes suspect. Lifeguard adds: nacks from those
// relays (so a probe that failed for lack of our own health is told apart), the
// awareness score fed by the outcome, and the suspicion carried to a suspect target.
#include <algorithm>
#include <utility>

#include "lib/core/check.h"
#include "lib/core/limits.h"
#include "lib/core/membership/gossip.h"
#include "lib/core/membership/wire_budget.h"

namespace lockmesh::core {
namespace {

bool DeadOrLeft(MemberState s) { return s == MemberState::kDead || s == MemberState::kLeft; }

bool ValidAddress(const std::string& address) {
  return !address.empty() && address.size() <= kMemberAddressBytesMax;
}

bool Contains(const std::vector<NodeId>& ids, NodeId id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

}  // namespace

void Gossip::ProbeTick() {
  const int64_t interval = ProbeIntervalUs();
  next_probe_us_ = now_.mono_us + interval;
  if (left_ || probe_) return;
  const Member* target = NextProbeTarget();
  if (target == nullptr) return;
  const int64_t timeout =
      config_.lifeguard ? awareness_.Scale(config_.probe_timeout_us) : config_.probe_timeout_us;
  Probe probe;
  probe.target = target->id;
  probe.address = target->info.address;
  probe.incarnation = target->incarnation;
  probe.seq = ++next_seq_;
  probe.direct_deadline_us = now_.mono_us + timeout;
  probe.end_us = now_.mono_us + interval;
  PingMsg ping{.seq = probe.seq, .source_address = self_info_.address};
  if (config_.lifeguard && target->state == MemberState::kSuspect) {
    // The buddy system: tell the suspect it is suspected, so it refutes at once
    // instead of waiting for the suspicion to reach it by gossip.
    ping.updates.push_back(MemberUpdate{.state = MemberState::kSuspect,
                                        .node = target->id,
                                        .incarnation = target->incarnation,
                                        .from = self_id_});
  }
  Piggyback(ping.updates, WireSizeOf(ping));
  ++stats_.probes;
  probe_ = std::move(probe);
  Send(probe_->target, probe_->address, std::move(ping));
}

// The next member in the probe order that is neither us nor dead or left; a pass
// that reaches the end of the order reshuffles it (and drops long-dead members).
const Member* Gossip::NextProbeTarget() {
  // A member that missed a suspect's refutation would declare a live member dead
  // when its own suspicion runs out. So, within two probe periods of that, it
  // probes the suspect itself first (once per suspicion): the probe carries the
  // suspicion, and the suspect's ack carries its refutation. A member that is
  // really gone fails this probe too, so detection is not delayed.
  if (config_.lifeguard) {
    for (auto it = final_checked_.begin(); it != final_checked_.end();) {
      it = suspicions_.contains(*it) ? std::next(it) : final_checked_.erase(it);
    }
    for (const auto& [node, suspicion] : suspicions_) {
      if (final_checked_.contains(node) ||
          suspicion.deadline_us() - now_.mono_us > 2 * ProbeIntervalUs()) {
        continue;
      }
      final_checked_.insert(node);
      const Member& m = members_.at(node);
      if (m.state == MemberState::kSuspect) return &m;
    }
  }
  // Each step advances the index or wraps it, so this covers one whole pass.
  for (std::size_t step = 0; step < 2 * probe_order_.size() + 2; ++step) {
    if (probe_index_ >= probe_order_.size()) {
      ResetProbeOrder();
      probe_index_ = 0;
      continue;
    }
    const Member& m = members_.at(probe_order_[probe_index_++]);
    if (m.id == self_id_ || DeadOrLeft(m.state)) continue;
    return &m;
  }
  return nullptr;
}

void Gossip::SendIndirectProbes() {
  Probe& probe = *probe_;
  probe.indirect_sent = true;
  const NodeId target = probe.target;
  const std::vector<const Member*> relays =
      RandomMembers(config_.indirect_checks, [&](const Member& m) {
        return m.id != self_id_ && m.id != target && m.state == MemberState::kAlive;
      });
  for (const Member* relay : relays) {
    PingReqMsg req{.seq = probe.seq,
                   .target = target,
                   .target_address = probe.address,
                   .source_address = self_info_.address,
                   .nack = config_.lifeguard};
    Piggyback(req.updates, WireSizeOf(req));
    probe.relays.push_back(relay->id);
    Send(relay->id, relay->info.address, std::move(req));
  }
  probe.expected_nacks = config_.lifeguard ? static_cast<int>(relays.size()) : 0;
  stats_.indirect_probes += relays.size();
}

void Gossip::EndProbe(bool acked) {
  LM_CHECK(probe_.has_value());
  const Probe probe = std::move(*probe_);
  probe_.reset();
  if (acked) {
    if (config_.lifeguard) awareness_.ApplyDelta(-1);
    return;
  }
  if (config_.lifeguard) {
    // Relays that answered with a nack heard nothing from the target either: the
    // target, not we, is the likely problem. Each missing nack counts against us; with
    // no relays to ask, any failed probe does.
    const int missed = probe.expected_nacks - static_cast<int>(probe.nacked.size());
    awareness_.ApplyDelta(probe.expected_nacks > 0 ? missed : 1);
  }
  ++stats_.probe_failures;
  SuspectNode(probe.target, probe.incarnation, self_id_);
}

void Gossip::RunProbeTimers() {
  if (!probe_) return;
  if (!probe_->indirect_sent && now_.mono_us >= probe_->direct_deadline_us) {
    // A node that slept through its own deadlines (a pause, a starved CPU) still gives
    // the relays their whole window: the delay was ours, not the target's.
    if (now_.mono_us >= probe_->end_us) {
      probe_->end_us = now_.mono_us + (probe_->end_us - probe_->direct_deadline_us);
    }
    SendIndirectProbes();
  }
  if (now_.mono_us >= probe_->end_us) EndProbe(false);
}

void Gossip::RunRelayTimers() {
  for (auto it = relays_.begin(); it != relays_.end();) {
    const Relay& relay = it->second;
    if (relay.deadline_us > now_.mono_us) {
      ++it;
      continue;
    }
    if (relay.nack) {
      NackMsg nack{.seq = relay.requester_seq};
      Piggyback(nack.updates, WireSizeOf(nack));
      ++stats_.nacks_sent;
      Send(relay.requester, relay.requester_address, std::move(nack));
    }
    it = relays_.erase(it);
  }
}

void Gossip::OnPing(NodeId from, const PingMsg& m) {
  if (!ValidAddress(m.source_address) || m.updates.size() > kGossipUpdatesPerMessageMax) {
    ++stats_.dropped_malformed;
    return;
  }
  // Updates first: a suspicion of us riding on the ping is refuted on the ack.
  ApplyUpdates(m.updates);
  AckMsg ack{.seq = m.seq};
  Piggyback(ack.updates, WireSizeOf(ack));
  Send(from, m.source_address, std::move(ack));
}

void Gossip::OnPingReq(NodeId from, const PingReqMsg& m) {
  if (!ValidAddress(m.source_address) || !ValidAddress(m.target_address) || m.target == 0 ||
      m.updates.size() > kGossipUpdatesPerMessageMax) {
    ++stats_.dropped_malformed;
    return;
  }
  if (m.target == self_id_) {
    ++stats_.dropped_misaddressed;
    return;
  }
  ApplyUpdates(m.updates);
  if (left_) {
    ++stats_.dropped_after_leave;
    return;
  }
  if (relays_.size() >= kIndirectProbesMax) {
    ++stats_.dropped_relay_full;
    return;
  }
  const uint32_t seq = ++next_seq_;
  relays_[seq] = Relay{.requester = from,
                       .requester_address = m.source_address,
                       .requester_seq = m.seq,
                       .target = m.target,
                       .deadline_us = now_.mono_us + config_.RelayTimeoutUs(),
                       .nack = m.nack};
  PingMsg ping{.seq = seq, .source_address = self_info_.address};
  Piggyback(ping.updates, WireSizeOf(ping));
  ++stats_.relayed_probes;
  Send(m.target, m.target_address, std::move(ping));
}

void Gossip::OnAck(NodeId from, const AckMsg& m) {
  if (m.updates.size() > kGossipUpdatesPerMessageMax) {
    ++stats_.dropped_malformed;
    return;
  }
  ApplyUpdates(m.updates);
  if (probe_ && m.seq == probe_->seq &&
      (from == probe_->target || Contains(probe_->relays, from))) {
    EndProbe(true);
    return;
  }
  if (auto it = relays_.find(m.seq); it != relays_.end() && from == it->second.target) {
    const Relay relay = std::move(it->second);
    relays_.erase(it);
    AckMsg forward{.seq = relay.requester_seq};
    Piggyback(forward.updates, WireSizeOf(forward));
    Send(relay.requester, relay.requester_address, std::move(forward));
    return;
  }
  ++stats_.unexpected_acks;
}

void Gossip::OnNack(NodeId from, const NackMsg& m) {
  if (m.updates.size() > kGossipUpdatesPerMessageMax) {
    ++stats_.dropped_malformed;
    return;
  }
  ApplyUpdates(m.updates);
  if (probe_ && m.seq == probe_->seq && Contains(probe_->relays, from) &&
      !Contains(probe_->nacked, from)) {
    probe_->nacked.push_back(from);
    ++stats_.nacks_received;
    return;
  }
  ++stats_.unexpected_nacks;
}

}  // namespace lockmesh::core
