// Gossip membership on every simulated node: joining, routing by advertised
// address, the membership account, and the liveness hint the lease proposer
// uses to choose whom to ask first.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "lib/core/check.h"
#include "lib/wire/codec.h"
#include "sim/simulation.h"
#include "sim/simulation_internal.h"

namespace lockmesh::sim {
namespace {

// Seeds: the first three nodes, as an operator would list a few stable hosts.
constexpr int kSeeds = 3;

}  // namespace

const core::Gossip* Simulation::GossipOf(int node) const {
  const Node& n = *nodes_[node];
  return n.up ? n.gossip.get() : nullptr;
}

void Simulation::StartGossip(Node& node) {
  core::MemberInfo self{
      .name = node.Name(), .address = node.Name(), .voter = node.index < scenario_.voters};
  node.gossip = std::make_unique<core::Gossip>(scenario_.GossipSettings(), std::move(self),
                                               node.incarnation, node.Now(now_), *node.rng);
  core::Gossip* gossip = node.gossip.get();
  node.core->SetLivenessHint([gossip](core::NodeId id) { return gossip->LooksAlive(id); });
  std::vector<std::string> seeds;
  for (int i = 0; i < std::min(kSeeds, scenario_.Nodes()); ++i) {
    if (i != node.index) seeds.push_back(absl::StrCat("n", i));
  }
  if (seeds.empty()) return;  // a cluster of one
  core::GossipEffects fx;
  LM_CHECK(gossip->Join(seeds, node.Now(now_), fx).ok());
  AfterGossip(node, fx);
}

void Simulation::DeliverGossip(Node& node, const core::Envelope& envelope) {
  if (!node.gossip) return;
  core::GossipEffects fx;
  node.gossip->OnMessage(envelope, node.Now(now_), fx);
  AfterGossip(node, fx);
}

void Simulation::AfterGossip(Node& node, core::GossipEffects& fx) {
  for (const core::Outgoing& out : fx.messages) {
    auto to = index_of_address_.find(out.to_address);
    if (to == index_of_address_.end()) {
      ++stats_.unroutable;
      continue;
    }
    SendDatagram(node, to->second, out.envelope);
  }
  for (const core::MemberEvent& event : fx.events) {
    Hash(static_cast<uint64_t>(event.kind) << 48 ^ event.node);
    if (member_observer_) member_observer_(now_, node.index, event);
    // Small clusters get the membership story; large ones only deaths and leaves.
    const bool rare = event.kind == core::MemberEvent::Kind::kDead ||
                      event.kind == core::MemberEvent::Kind::kLeft;
    if ((scenario_.Nodes() <= 10 && event.kind != core::MemberEvent::Kind::kJoined) || rare) {
      auto who = index_of_.find(event.node);
      Say(node.Name(), " sees ",
          who == index_of_.end() ? absl::StrCat(event.node) : nodes_[who->second]->Name(), " ",
          core::MemberEventKindName(event.kind));
    }
  }
  Reschedule(node);
}

}  // namespace lockmesh::sim
