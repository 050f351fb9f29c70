// File: membership/gossip.h
//
// One node's gossip membership: SWIM failure detection with the Lifeguard
// refinements, piggybacked dissemination and push-pull anti-entropy, after
// hashicorp/memberlist. Sans-IO exactly like LeaseNode: it never reads a clock,
// touches a socket, sleeps or draws unseeded randomness. The driver calls one input
// method at a time, then sends `fx.messages` (each to its `to_address`), hands
// `fx.events` to whoever watches membership, and calls OnTick() again at NextTickUs().
//
//   Rng rng(seed);
//   Gossip gossip(GossipConfig::Lan(), {.name = "node-a", .address = "10.0.0.1:7946"},
//                 /*incarnation=*/0, now, rng);
//   GossipEffects fx;
//   gossip.Join({"10.0.0.2:7946"}, now, fx);   // seeds by address: NodeIds unknown yet
//   for (Outgoing& m : fx.messages) transport.SendTo(m.to_address, Encode(m.envelope));
//   ... gossip.OnMessage(incoming, now, fx); gossip.OnTick(now, fx); ...
//   if (gossip.LooksAlive(voter)) { ... ask it first ... }
//
// Addressing: every outgoing message names the receiver's advertised address
// (Outgoing::to_address, never encoded) and its NodeId in `envelope.to`, except a
// join, which goes to a seed address with `envelope.to == 0`. A receiver accepts
// `to == 0` only for a join push-pull request; anything else not addressed to it is
// dropped. Replies go to the address the request names (PingMsg::source_address, the
// requester's own entry in a push-pull), so a node can answer one it does not know.
//
// Membership is a hint for leases (who looks alive, where members are); lease safety
// never depends on it. Bad input (unknown members, stale incarnations, oversized or
// malformed updates, messages from itself) is counted in stats() and dropped.
// Every table and queue is bounded by lib/core/limits.h, and only ordered containers
// are iterated, so a seed replays a simulation exactly.
//
// Not thread-safe. `rng` must outlive the Gossip; `config` is copied.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "lib/core/hlc.h"
#include "lib/core/membership/awareness.h"
#include "lib/core/membership/broadcast_queue.h"
#include "lib/core/membership/config.h"
#include "lib/core/membership/member.h"
#include "lib/core/membership/suspicion.h"
#include "lib/core/messages.h"
#include "lib/core/random.h"
#include "lib/core/types.h"

namespace lockmesh::core {

// A change in this node's view of another member (never of itself).
struct MemberEvent {
  enum class Kind : uint8_t {
    kJoined,   // new, or back from dead or left
    kSuspect,  // missed a probe; dead after the suspicion timeout unless it refutes
    kAlive,    // a suspect refuted the suspicion (higher incarnation)
    kDead,     // declared failed
    kLeft,     // left gracefully
    kUpdated,  // its address, voter flag or tags changed
  };
  Kind kind = Kind::kJoined;
  NodeId node = 0;
  uint64_t incarnation = 0;
  MemberInfo info;
};
absl::string_view MemberEventKindName(MemberEvent::Kind kind);

// What one input produced. The driver sends every message and then clears it.
struct GossipEffects {
  std::vector<Outgoing> messages;
  std::vector<MemberEvent> events;
  void Clear() {
    messages.clear();
    events.clear();
  }
};

// One member as this node sees it.
struct Member {
  NodeId id = 0;
  MemberInfo info;
  uint64_t incarnation = 0;
  MemberState state = MemberState::kAlive;
  int64_t state_change_us = 0;  // when `state` last changed, on this node's monotonic clock
};

struct GossipStats {
  uint64_t messages_in = 0;
  uint64_t messages_out = 0;
  // Input dropped whole.
  uint64_t dropped_not_gossip = 0;    // a lease message handed to Gossip
  uint64_t dropped_from_self = 0;     // from our own NodeId (or from NodeId 0)
  uint64_t dropped_misaddressed = 0;  // `to` is neither us nor (for a join) 0
  uint64_t dropped_malformed = 0;     // bad address, chunk numbers, too many updates
  uint64_t dropped_unroutable = 0;    // a push-pull request whose sender's address we lack
  uint64_t dropped_relay_full = 0;    // ping-req beyond kIndirectProbesMax
  uint64_t dropped_after_leave = 0;   // ping-req after Leave()
  uint64_t unexpected_acks = 0;       // no probe waits for it (late, duplicate, stray)
  uint64_t unexpected_nacks = 0;
  // Updates dropped one by one.
  uint64_t malformed_updates = 0;       // fails ValidateMemberUpdate
  uint64_t unknown_member_updates = 0;  // suspect/dead/left about a member we do not know
  uint64_t stale_updates = 0;           // an incarnation we have already seen beaten
  uint64_t address_conflicts = 0;       // a live member's name claimed from another address
  uint64_t table_full = 0;              // a new member beyond kMembersMax
  // Protocol activity.
  uint64_t probes = 0;
  uint64_t probe_failures = 0;   // probes without any ack: the target became suspect
  uint64_t indirect_probes = 0;  // ping-reqs sent
  uint64_t relayed_probes = 0;   // ping-reqs served for others
  uint64_t nacks_sent = 0;
  uint64_t nacks_received = 0;
  uint64_t suspicions = 0;         // members this node began to suspect
  uint64_t confirmations = 0;      // independent confirmations counted
  uint64_t deaths_declared = 0;    // suspicions this node timed out into dead
  uint64_t refutations = 0;        // times this node refuted a suspicion or death of itself
  uint64_t push_pulls = 0;         // exchanges this node started
  uint64_t push_pull_replies = 0;  // full-state replies sent
  uint64_t joins_sent = 0;         // join requests (one per seed per attempt)
  uint64_t reconnects = 0;         // rejoin attempts through a dropped dead member
  uint64_t updates_piggybacked = 0;
};

class Gossip {
 public:
  // REQUIRES: config.Validate().ok(); ValidateMemberInfo(self).ok() with tags within
  // config.tags_max and config.tags_bytes_max; incarnation <= kIncarnationMax. A node
  // that restarts may start at incarnation 0: if others still hold an older life of it
  // as dead, it learns so (push-pull) and refutes with a higher incarnation.
  Gossip(const GossipConfig& config, MemberInfo self, uint64_t incarnation, Now now, Rng& rng);

  // Sends a join request (a push-pull of this node's state) to each seed address, and
  // repeats it every join_retry_us until one answers with its state; the rest of the
  // cluster learns of this node by gossip. Seeds equal to our own address are skipped
  // (a first node may list itself). InvalidArgument for no seeds, more than
  // kJoinSeedsMax, or an empty or oversized address; FailedPrecondition after Leave().
  absl::Status Join(const std::vector<std::string>& seeds, Now now, GossipEffects& fx);

  // Announces a graceful leave: a `left` update with a higher incarnation, gossiped
  // until its retransmissions are done (then NextTickUs() is INT64_MAX). The node stops
  // probing and exchanging state but still answers pings. Idempotent.
  void Leave(Now now, GossipEffects& fx);

  // Publishes a new voter flag and tags: bumps our incarnation and gossips the new
  // state (others report kUpdated). InvalidArgument for tags beyond the config or
  // limits.h bounds; FailedPrecondition after Leave().
  absl::Status UpdateMeta(bool voter, Tags tags, Now now, GossipEffects& fx);

  // A membership message from a peer. Anything else is counted and dropped.
  void OnMessage(const Envelope& message, Now now, GossipEffects& fx);

  // Runs every timer due at `now`: probe stages, relayed probes, suspicion
  // timeouts, gossip, push-pull, join retries, reconnects.
  void OnTick(Now now, GossipEffects& fx);

  // Monotonic time at which OnTick() is next needed; INT64_MAX only after Leave() once
  // nothing is left to send. Calling OnTick() earlier or more often is harmless.
  int64_t NextTickUs() const;

  // ---- queries (hints for leases; never a basis for safety) ----

  // True when the member is alive or suspect in our view, not dead or gone (we are, until
  // we leave).
  bool LooksAlive(NodeId node) const;
  // `voters` reordered: alive first, then suspect, then dead, left or unknown; stable
  // within each group.
  std::vector<NodeId> LiveFirst(const std::vector<NodeId>& voters) const;
  // The member (ourselves included), or nullptr when unknown.
  const Member* Find(NodeId node) const;
  // Every member we know, ourselves included, ordered by NodeId.
  std::vector<Member> Members() const;
  // Alive and suspect members, ourselves included: the cluster size `n` of every
  // formula in GossipConfig.
  std::size_t LiveMembers() const { return live_members_; }
  // The running suspicion of `node`, or nullptr.
  const Suspicion* FindSuspicion(NodeId node) const;

  NodeId id() const { return self_id_; }
  const MemberInfo& self() const { return self_info_; }
  uint64_t incarnation() const { return incarnation_; }
  // Lifeguard's local health score, 0 (healthy) .. awareness_max - 1.
  int awareness() const { return awareness_.score(); }
  // The probe interval as currently stretched by awareness.
  int64_t ProbeIntervalUs() const;
  bool joining() const { return joining_; }
  bool left() const { return left_; }
  const BroadcastQueue& broadcasts() const { return broadcasts_; }
  const GossipConfig& config() const { return config_; }
  const GossipStats& stats() const { return stats_; }

 private:
  // Our own probe of one member, from ping to verdict.
  struct Probe {
    NodeId target = 0;
    std::string address;
    uint64_t incarnation = 0;  // the target's, when the probe began
    uint32_t seq = 0;
    int64_t direct_deadline_us = 0;  // then ping-reqs go out
    int64_t end_us = 0;              // then, without an ack, the target is suspect
    bool indirect_sent = false;
    std::vector<NodeId> relays;  // members asked to probe for us
    std::vector<NodeId> nacked;  // relays that sent a nack
    int expected_nacks = 0;
  };
  // A probe run for another member (ping-req).
  struct Relay {
    NodeId requester = 0;
    std::string requester_address;
    uint32_t requester_seq = 0;
    NodeId target = 0;
    int64_t deadline_us = 0;
    bool nack = false;
  };
  // A dead member dropped from the table, kept to try rejoining through it.
  struct Reconnect {
    std::string address;
    int64_t until_us = 0;
  };

  // gossip.cc: plumbing.
  void Begin(Now now, GossipEffects& fx);
  void Send(NodeId to, const std::string& address, MessageBody body);
  void Emit(MemberEvent::Kind kind, const Member& member);
  MemberUpdate SelfUpdate() const;
  std::vector<const Member*> RandomMembers(int k, absl::FunctionRef<bool(const Member&)> filter);

  // state.cc: the member table and the rules of incarnations.
  void ApplyUpdates(const std::vector<MemberUpdate>& updates);
  void ApplyUpdate(const MemberUpdate& update);
  void MergeEntry(const MemberUpdate& entry);
  void AliveNode(const MemberUpdate& update);
  void AliveAboutSelf(const MemberUpdate& update);
  void AddMember(const MemberUpdate& update);
  void SuspectNode(NodeId node, uint64_t incarnation, NodeId from);
  void DeadNode(NodeId node, uint64_t incarnation, NodeId from, bool left);
  // The member a suspect or dead update accuses, or nullptr when it is unknown or
  // the update is about an older incarnation (both counted).
  Member* MemberForAccusation(NodeId node, uint64_t incarnation);
  void PushSelfUpdate();
  void Refute(uint64_t accused_incarnation);
  void SetState(Member& member, MemberState state);
  bool EvictOneDead();
  void ResetProbeOrder();
  void ExpireSuspicions();

  // probe.cc: failure detection.
  void ProbeTick();
  const Member* NextProbeTarget();
  void SendIndirectProbes();
  void EndProbe(bool acked);
  void RunProbeTimers();
  void RunRelayTimers();
  void OnPing(NodeId from, const PingMsg& m);
  void OnPingReq(NodeId from, const PingReqMsg& m);
  void OnAck(NodeId from, const AckMsg& m);
  void OnNack(NodeId from, const NackMsg& m);

  // dissemination.cc: piggybacking, gossip, push-pull, join.
  void Piggyback(std::vector<MemberUpdate>& updates, WireSize size);
  void GossipTick();
  void PushPullTick();
  void MaybeReconnect();
  void SendJoin();
  void SendState(NodeId to, const std::string& address, bool join, bool reply);
  void OnPushPull(NodeId from, const PushPullMsg& m);

  const GossipConfig config_;
  Rng& rng_;
  const NodeId self_id_;
  MemberInfo self_info_;
  uint64_t incarnation_;
  Hlc hlc_;
  Awareness awareness_;

  absl::btree_map<NodeId, Member> members_;  // ourselves included
  std::size_t live_members_ = 0;             // alive or suspect, ourselves included
  // memberlist's node list: every member, probed round-robin, reshuffled per pass.
  std::vector<NodeId> probe_order_;
  std::size_t probe_index_ = 0;
  absl::btree_map<NodeId, Suspicion> suspicions_;
  // Suspicions whose suspect we already probed before the timeout (see NextProbeTarget).
  absl::btree_set<NodeId> final_checked_;
  BroadcastQueue broadcasts_;
  std::optional<Probe> probe_;
  absl::btree_map<uint32_t, Relay> relays_;
  absl::btree_map<NodeId, Reconnect> reconnect_;
  uint32_t next_seq_ = 0;

  std::vector<std::string> seeds_;
  bool joining_ = false;
  bool left_ = false;
  int64_t next_probe_us_ = 0;
  int64_t next_gossip_us_ = 0;
  int64_t next_push_pull_us_ = 0;
  int64_t next_join_us_ = 0;

  // The input being handled (set by Begin).
  Now now_;
  GossipEffects* fx_ = nullptr;
  GossipStats stats_;
};

}  // namespace lockmesh::core
