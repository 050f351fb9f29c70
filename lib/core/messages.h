// File: messages.h
//
// The core's protocol messages as plain values. lib/wire turns them into Cap'n
// Proto bytes and back; the core never sees bytes. Every message travels in an
// Envelope that carries the sender's identity, incarnation and HLC stamp, and
// the hash of the voter set the sender was configured with.
#pragma once

#include <cstdint>
#include <string>
#include "absl/strings/string_view.h"
#include <variant>

#include "lib/core/types.h"

namespace lockmesh::core {

inline constexpr uint16_t kProtocolVersion = 1;

// Why a voter refused. Carried in replies so the proposer can decide what to do
// next (catch up its clock, wait for a release, back off).
enum class RefuseReason : uint8_t {
  kNone = 0,
  kQuarantine = 1,     // the voter restarted recently and accepts nothing yet
  kStaleBallot = 2,    // the ballot is not above what the voter has seen
  kHeld = 3,           // another owner holds a live lease
  kNoLease = 4,        // renew/release of a lease the voter does not hold
  kTableFull = 5,      // the voter's resource table is at its bound
  kBadRequest = 6,     // malformed fields (duration out of range, bad name)
  kNotVoter = 7,       // the receiver is not configured as a voter
};
inline constexpr int kRefuseReasonCount = 8;
absl::string_view RefuseReasonName(RefuseReason reason);

// Rule 2: ask a voter to accept `ballot` for `owner` for `duration_us`.
struct AcquireMsg {
  std::string resource;
  Ballot ballot = 0;
  Owner owner;
  int64_t duration_us = 0;
  friend bool operator==(const AcquireMsg&, const AcquireMsg&) = default;
};

// Rule 3: the voter's answer. On refusal, `highest_ballot` lets the proposer
// catch up, and `holder_remaining_us` (kHeld only) how long to expect to wait.
struct AcquireReplyMsg {
  std::string resource;
  Ballot ballot = 0;
  Owner owner;
  bool accepted = false;
  RefuseReason reason = RefuseReason::kNone;
  Ballot highest_ballot = 0;
  int64_t holder_remaining_us = 0;
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

// Rules 5 and 7: clear a live lease that matches (owner, ballot) exactly.
struct ReleaseMsg {
  std::string resource;
  Ballot ballot = 0;
  Owner owner;
  friend bool operator==(const ReleaseMsg&, const ReleaseMsg&) = default;
};

// Rule 7: a voter tells the waiters it recorded that the resource is free.
struct ReleaseNoticeMsg {
  std::string resource;
  Ballot ballot = 0;  // the lease that ended
  friend bool operator==(const ReleaseNoticeMsg&, const ReleaseNoticeMsg&) = default;
};

using MessageBody = std::variant<AcquireMsg, AcquireReplyMsg, RenewMsg, RenewReplyMsg, ReleaseMsg,
                                 ReleaseNoticeMsg>;
inline constexpr int kMessageKindCount = std::variant_size_v<MessageBody>;
absl::string_view MessageKindName(std::size_t index);

struct Envelope {
  NodeId from = 0;
  uint64_t from_incarnation = 0;
  NodeId to = 0;
  uint64_t hlc = 0;             // sender's HLC when it sent
  uint64_t voter_set_hash = 0;  // must equal the receiver's
  MessageBody body;
  friend bool operator==(const Envelope&, const Envelope&) = default;
};

// One line describing a message, for traces.
std::string DescribeMessage(const MessageBody& body);

// The resource name of any lease message.
const std::string& ResourceOf(const MessageBody& body);

}  // namespace lockmesh::core
