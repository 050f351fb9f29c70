// File: membership/member.h
//
// The value types of gossip membership that travel on the wire: who a member is
// (MemberInfo: name, address, voter flag, user tags), what state it is in
// (MemberState), and one member's state as a sender knows it (MemberUpdate), plus
// the checks that keep every one of them inside the bounds of lib/core/limits.h.
//
//   MemberInfo self{.name = "node-a", .address = "10.0.0.1:7946", .voter = true};
//   self.tags["zone"] = "eu-1";
//   if (absl::Status s = ValidateMemberInfo(self); !s.ok()) { ... refuse to start ... }
//   NodeId id = NodeIdFromName(self.name);  // a member's identity is its name's hash
//
// Plain values; thread-compatible.
#pragma once

#include <cstdint>
#include <string>

#include "absl/container/btree_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "lib/core/types.h"

namespace lockmesh::core {

// Ordered so that iteration (and therefore encoding) is the same everywhere.
using Tags = absl::btree_map<std::string, std::string>;

// Where a member stands in one node's view. The values are the wire's.
enum class MemberState : uint8_t {
  kAlive = 0,
  kSuspect = 1,  // missed a probe; declared dead after the suspicion timeout unless it refutes
  kDead = 2,     // declared failed by another member
  kLeft = 3,     // announced its own graceful leave
};
inline constexpr int kMemberStateCount = 4;
absl::string_view MemberStateName(MemberState state);

// What a member publishes about itself. `address` is opaque to the core: the
// runtime (host:port) or the simulator maps it to a destination.
struct MemberInfo {
  std::string name;
  std::string address;
  bool voter = false;
  Tags tags;
  friend bool operator==(const MemberInfo&, const MemberInfo&) = default;
};

// One member's state as the sender knows it: a piggybacked update or one entry of a
// push-pull exchange. `from` is the member that declared a suspicion or death (the
// member itself for kLeft). `info` is required for kAlive and may be empty otherwise.
struct MemberUpdate {
  MemberState state = MemberState::kAlive;
  NodeId node = 0;
  uint64_t incarnation = 0;
  NodeId from = 0;
  MemberInfo info;
  friend bool operator==(const MemberUpdate&, const MemberUpdate&) = default;
};

// InvalidArgument unless the tags fit kMemberTagsMax, kMemberTagKeyBytesMax (keys
// non-empty), kMemberTagValueBytesMax and kMemberTagsBytesMax.
absl::Status ValidateTags(const Tags& tags);

// InvalidArgument unless the name and address are non-empty and within their byte
// bounds and the tags are valid.
absl::Status ValidateMemberInfo(const MemberInfo& info);

// The bounds the codec enforces on every update, in both directions: a known state,
// an incarnation <= kIncarnationMax, and name, address and tags within their byte
// bounds (each may be empty). Says nothing about whether the update makes sense.
absl::Status CheckMemberUpdateBounds(const MemberUpdate& update);

// CheckMemberUpdateBounds plus the meaning the gossip core relies on: a non-zero
// node; for kAlive a valid MemberInfo whose name hashes to `node`; for kSuspect and
// kDead a non-zero accuser; for kLeft `from == node`; any info present names `node`.
absl::Status ValidateMemberUpdate(const MemberUpdate& update);

// "alive node-a@3" style text for traces.
std::string DescribeUpdate(const MemberUpdate& update);

}  // namespace lockmesh::core
