// File: messages.h
//
// The core's protocol messages as plain values. lib/wire turns them into Cap'n
// Proto bytes and back; the core never sees bytes. Every message travels in an
// Envelope that carries the sender's identity, incarnation and HLC stamp, and
// the hash of the voter set the sender was configured with.
//
// Two families share the Envelope: lease messages (LeaseNode) and membership
// messages (Gossip, lib/core/membership). Each engine ignores the other's.
//
//   Envelope env{.from = a, .to = b, .body = AcquireMsg{...}};
//   if (IsGossipMessage(env.body)) gossip.OnMessage(env, now, gfx);
//   else lease_node.OnMessage(env, now, lfx);
//
// Plain values; thread-compatible.
#pragma once

#include <concepts>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "absl/strings/string_view.h"
#include "lib/core/membership/member.h"
#include "lib/core/types.h"

namespace lockmesh::core {

inline constexpr uint16_t kProtocolVersion = 1;

// Why a voter refused. Carried in replies so the proposer can decide what to do
// next (catch up its clock, wait for a release, back off).
enum class RefuseReason : uint8_t {
  kNone = 0,
  kQuarantine = 1,   // the voter restarted recently and accepts nothing yet
  kStaleBallot = 2,  // the ballot is not above what the voter has seen
  kHeld = 3,         // another owner holds a live lease
  kNoLease = 4,      // renew/release of a lease the voter does not hold
  kTableFull = 5,    // the voter's resource table is at its bound
  kBadRequest = 6,   // malformed fields (duration out of range, bad name)
  kNotVoter = 7,     // the receiver is not configured as a voter
};
inline constexpr int kRefuseReasonCount = 8;
absl::string_view RefuseReasonName(RefuseReason reason);

// Rule 2: ask a voter to accept `ballot` for `owner` for `duration_us`. `ticket` is the
// request's first ballot, kept across its retries: voters queue waiters by it (rule 10).
// 0 (a try-acquire, which will not wait for its turn, or an older sender): not queued.
struct AcquireMsg {
  std::string resource;
  Ballot ballot = 0;
  Owner owner;
  int64_t duration_us = 0;
  Ballot ticket = 0;
  // Rule 10, grant at release: the voter may accept this ballot later, when the lease ends.
  // The proposer sends true on every acquire now: a node that hears too few voters sends
  // them probes instead (docs/protocol.md, "Partial faults"). A voter given false only
  // tells the head and keeps the resource for it, as before grant at release.
  bool hears = false;
  friend bool operator==(const AcquireMsg&, const AcquireMsg&) = default;
};

// Rule 3: the voter's answer. On refusal, `highest_ballot` lets the proposer
// catch up, and `holder_remaining_us` (kHeld only) how long to expect to wait.
//
// `holder` and `holder_ballot` (kHeld by a live lease only) name the accept in the way, so
// that a proposer can clear one of its own that it does not know it has (its reply was
// lost). A reply to a Release that asked for one (`ack_wanted`) is a refusal with kNoLease:
// "no lease of (owner, ballot) here any more".
struct AcquireReplyMsg {
  std::string resource;
  Ballot ballot = 0;
  Owner owner;
  bool accepted = false;
  RefuseReason reason = RefuseReason::kNone;
  Ballot highest_ballot = 0;
  int64_t holder_remaining_us = 0;
  Owner holder;
  Ballot holder_ballot = 0;
  friend bool operator==(const AcquireReplyMsg&, const AcquireReplyMsg&) = default;
};

// Rule 6: extend a live lease that matches (owner, token) exactly. `round`
// tells one renewal's replies from an earlier one's.
struct RenewMsg {
  std::string resource;
  Ballot token = 0;
  Owner owner;
  int64_t duration_us = 0;
  uint32_t round = 0;
  friend bool operator==(const RenewMsg&, const RenewMsg&) = default;
};

struct RenewReplyMsg {
  std::string resource;
  Ballot token = 0;
  Owner owner;
  uint32_t round = 0;
  bool renewed = false;
  RefuseReason reason = RefuseReason::kNone;
  Ballot highest_ballot = 0;
  friend bool operator==(const RenewReplyMsg&, const RenewReplyMsg&) = default;
};

// Rules 5 and 7: clear a live lease that matches (owner, ballot) exactly. With `ack_wanted`
// (the partial accepts of a failed attempt, sent until confirmed) the voter answers with an
// AcquireReply refusing `ballot` as kNoLease.
//
// A release of kProbeBallot (no voter ever accepts ballot 0) clears nothing and is a probe:
// a proposer sends it, with ack_wanted, instead of an acquire to a voter it has not heard
// lately, so that a voter that hears us when we do not hear it never holds an accept we
// cannot learn of.
inline constexpr Ballot kProbeBallot = 0;
struct ReleaseMsg {
  std::string resource;
  Ballot ballot = 0;
  Owner owner;
  bool ack_wanted = false;
  // The owner's request still waits (its attempt failed and it will retry): the voter keeps
  // it queued by the ticket of the accept it clears (rule 10).
  bool still_waiting = false;
  friend bool operator==(const ReleaseMsg&, const ReleaseMsg&) = default;
};

// Rules 7 and 10: a voter tells the head of its waiters that the resource is free and kept
// for it for a moment.
struct ReleaseNoticeMsg {
  std::string resource;
  Ballot ballot = 0;  // the lease that ended
  friend bool operator==(const ReleaseNoticeMsg&, const ReleaseNoticeMsg&) = default;
};

// ---------------------------------------------------------------------------
// Membership (SWIM with Lifeguard; lib/core/membership/gossip.h). Every message
// but PushPull carries piggybacked member updates, least-sent first; the sender
// keeps each encoded message within kDatagramBytesMax.

// A direct probe. The receiver answers Ack{seq} to `source_address`. A probe to a
// suspect carries that suspicion first among its updates so it can refute at once.
struct PingMsg {
  uint32_t seq = 0;
  std::string source_address;
  std::vector<MemberUpdate> updates;
  friend bool operator==(const PingMsg&, const PingMsg&) = default;
};

// "Probe `target` for me": the receiver pings the target and relays its Ack{seq} to
// the requester at `source_address`, or sends Nack{seq} there if `nack` and the
// target stays silent for GossipConfig::RelayTimeoutUs() (Lifeguard).
struct PingReqMsg {
  uint32_t seq = 0;
  NodeId target = 0;
  std::string target_address;
  std::string source_address;
  bool nack = false;
  std::vector<MemberUpdate> updates;
  friend bool operator==(const PingReqMsg&, const PingReqMsg&) = default;
};

struct AckMsg {
  uint32_t seq = 0;
  std::vector<MemberUpdate> updates;
  friend bool operator==(const AckMsg&, const AckMsg&) = default;
};

// An indirect prober heard nothing from the target: evidence that the requester
// itself is healthy (its own probes get through to the prober).
struct NackMsg {
  uint32_t seq = 0;
  std::vector<MemberUpdate> updates;
  friend bool operator==(const NackMsg&, const NackMsg&) = default;
};

// Updates only, sent every gossip interval to a few random members.
struct GossipMsg {
  std::vector<MemberUpdate> updates;
  friend bool operator==(const GossipMsg&, const GossipMsg&) = default;
};

// One datagram of a full-state exchange (anti-entropy, and how a joiner learns
// the membership). The state is split into `chunk_count` chunks; each stands
// alone, so lost chunks cost only their own entries. A request (`reply` false)
// is answered with the receiver's full state when its chunk 0 arrives. A join
// request may be addressed by address only (Envelope::to == 0).
struct PushPullMsg {
  bool join = false;
  bool reply = false;
  uint16_t chunk_index = 0;
  uint16_t chunk_count = 1;
  std::vector<MemberUpdate> members;
  friend bool operator==(const PushPullMsg&, const PushPullMsg&) = default;
};

// New alternatives go at the end: the index is the message kind in stats.
using MessageBody =
    std::variant<AcquireMsg, AcquireReplyMsg, RenewMsg, RenewReplyMsg, ReleaseMsg, ReleaseNoticeMsg,
                 PingMsg, PingReqMsg, AckMsg, NackMsg, GossipMsg, PushPullMsg>;
inline constexpr int kMessageKindCount = std::variant_size_v<MessageBody>;
absl::string_view MessageKindName(std::size_t index);

// The membership alternatives of MessageBody.
template <typename T>
concept GossipBody =
    std::same_as<T, PingMsg> || std::same_as<T, PingReqMsg> || std::same_as<T, AckMsg> ||
    std::same_as<T, NackMsg> || std::same_as<T, GossipMsg> || std::same_as<T, PushPullMsg>;

// True for the membership messages (handled by Gossip, ignored by LeaseNode).
bool IsGossipMessage(const MessageBody& body);

struct Envelope {
  NodeId from = 0;
  uint64_t from_incarnation = 0;
  NodeId to = 0;                // 0 only for an address-only gossip join (PushPullMsg)
  uint64_t hlc = 0;             // sender's HLC when it sent
  uint64_t voter_set_hash = 0;  // must equal the receiver's (lease messages; 0 in gossip)
  MessageBody body;
  friend bool operator==(const Envelope&, const Envelope&) = default;
};

// An envelope and the address to send it to. Gossip addresses its peers by the
// address they advertise (MemberInfo::address), because a joiner knows only its
// seeds' addresses, not their NodeIds; `to_address` is routing for the driver and
// is never encoded. `envelope.to` is the receiver's NodeId when known, else 0.
struct Outgoing {
  std::string to_address;
  Envelope envelope;
  friend bool operator==(const Outgoing&, const Outgoing&) = default;
};

// One line describing a message, for traces.
std::string DescribeMessage(const MessageBody& body);

// The resource name of any lease message; empty for membership messages.
const std::string& ResourceOf(const MessageBody& body);

}  // namespace lockmesh::core
