// File: types.h
//
// Small value types shared by every part of the core: node identity, lease
// owner, ballot/token, and the time pair each input carries.
#pragma once

#include <cstdint>
#include <string>

#include "absl/strings/str_format.h"

namespace lockmesh::core {

// A node's identity: stable across restarts (a hash of its configured name).
using NodeId = uint64_t;

// A ballot is a hybrid-logical-clock value: physical milliseconds in the high
// 48 bits, a logical counter in the low 16. The winning ballot of an attempt is
// the grant's fencing token.
using Ballot = uint64_t;

inline constexpr int kHlcLogicalBits = 16;
inline constexpr uint64_t kHlcLogicalMask = (uint64_t{1} << kHlcLogicalBits) - 1;

inline constexpr int64_t BallotPhysicalMs(Ballot b) {
  return static_cast<int64_t>(b >> kHlcLogicalBits);
}

// Who holds (or asks for) a lease: a node in one incarnation, and the request
// within it. Voters compare all three fields; a restarted node is a new owner.
struct Owner {
  NodeId node = 0;
  uint64_t incarnation = 0;
  uint64_t request = 0;

  friend bool operator==(const Owner&, const Owner&) = default;
  std::string ToString() const { return absl::StrFormat("%x/%d/%d", node, incarnation, request); }
};

// The two clocks of every input. `mono_us` is the node's monotonic clock
// (durations and deadlines); `wall_ms` its wall clock (only the HLC reads it).
struct Now {
  int64_t mono_us = 0;
  int64_t wall_ms = 0;
};

}  // namespace lockmesh::core
