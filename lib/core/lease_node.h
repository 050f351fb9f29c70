// File: lease_node.h
//
// One node's lease protocol state machine: a proposer, a voter when the node is
// in the voter set, and the HLC they share. Sans-IO: it never reads a clock,
// touches a socket or draws unseeded randomness. The driver calls one input
// method at a time and then sends `effects.messages`, hands `effects.events` to
// callers, and calls OnTick() again at NextTickUs().
//
//   Rng rng(seed);
//   LeaseNode node(config, incarnation, StartMode::kRestart, now, rng);
//   Effects fx;
//   auto id = node.Acquire("orders", {.duration_us = 5'000'000, .wait_us = 1'000'000}, now, fx);
//   for (Envelope& m : fx.messages) transport.Send(std::move(m));
//   ... node.OnMessage(incoming, now, fx); node.OnTick(now, fx); ...
//
// Messages a node addresses to itself (its proposer asking its own voter) never
// reach `effects`: they are delivered inside the same call, after the handler
// that sent them returns.
//
// Not thread-safe. `config` and `rng` must outlive the node.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <utility>

#include "absl/status/statusor.h"
#include "lib/core/config.h"
#include "lib/core/hlc.h"
#include "lib/core/lease/events.h"
#include "lib/core/lease/proposer.h"
#include "lib/core/lease/voter.h"
#include "lib/core/random.h"

namespace lockmesh::core {

enum class StartMode : uint8_t {
  // The first start of a brand-new cluster: there is no earlier life whose
  // leases could still be trusted, so no quarantine.
  kBootstrap,
  // Any other start: memory of earlier leases is gone, so a voter quarantines.
  kRestart,
};

struct NodeStats {
  uint64_t messages_in = 0;
  uint64_t messages_out = 0;
  uint64_t dropped_voter_set_mismatch = 0;
  uint64_t dropped_misaddressed = 0;
  uint64_t dropped_not_voter = 0;
  uint64_t dropped_clock_ahead = 0;  // a stamp or ballot over kClockAheadMsMax ahead of us
  uint64_t ignored_gossip = 0;       // membership messages belong to Gossip, not here
};

class LeaseNode {
 public:
  // REQUIRES: config.Validate().ok().
  LeaseNode(const LeaseConfig& config, uint64_t incarnation, StartMode mode, Now now, Rng& rng);

  void OnMessage(const Envelope& message, Now now, Effects& fx);
  void OnTick(Now now, Effects& fx);

  absl::StatusOr<uint64_t> Acquire(std::string resource, AcquireOptions options, Now now,
                                   Effects& fx);
  absl::Status Renew(uint64_t request, int64_t duration_us, Now now, Effects& fx);
  absl::Status Release(uint64_t request, Now now, Effects& fx);

  // Membership's liveness view, a hint for whom to ask first (see Proposer).
  void SetLivenessHint(std::function<bool(NodeId)> looks_alive) {
    proposer_.SetLivenessHint(std::move(looks_alive));
  }

  // Monotonic time at which OnTick() is next needed; INT64_MAX when idle.
  int64_t NextTickUs() const;

  std::vector<Holding> Holdings(Now now) const { return proposer_.Holdings(now); }
  bool IsHolding(uint64_t request, Now now) const { return proposer_.IsHolding(request, now); }

  NodeId id() const { return config_.self; }
  uint64_t incarnation() const { return incarnation_; }
  const LeaseConfig& config() const { return config_; }
  const Voter* voter() const { return voter_ ? &*voter_ : nullptr; }
  const Proposer& proposer() const { return proposer_; }
  const NodeStats& stats() const { return stats_; }
  uint64_t hlc() const { return hlc_.last(); }

 private:
  class Router;
  void Dispatch(NodeId from, const MessageBody& body, Now now, Router& out);
  void DrainLocal(Now now, Router& out);
  bool TooFarAhead(const Envelope& message, Now now) const;

  const LeaseConfig& config_;
  const uint64_t incarnation_;
  const uint64_t voter_set_hash_;
  Hlc hlc_;
  std::optional<Voter> voter_;
  Proposer proposer_;
  std::deque<MessageBody> local_;  // messages to ourselves, delivered in order
  NodeStats stats_;
};

}  // namespace lockmesh::core
