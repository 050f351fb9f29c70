// File: hlc.h
//
// A hybrid logical clock (Kulkarni et al.): a 64-bit value that never goes
// backwards, follows wall time when wall time moves forward, and exceeds every
// stamp the node has observed. Ballots and fencing tokens are HLC readings.
//
//   Hlc hlc;
//   Ballot b = hlc.Tick(now.wall_ms);   // a fresh, strictly larger value
//   hlc.Observe(msg.hlc, now.wall_ms);  // catch up with a peer
//
// Not thread-safe; owned by one core node.
#pragma once

#include <cstdint>

#include "lib/core/types.h"

namespace lockmesh::core {

class Hlc {
 public:
  // Returns a value strictly greater than every value returned or observed so
  // far, with physical part max(wall_ms, last physical).
  uint64_t Tick(int64_t wall_ms);

  // Merges a remote stamp so that the next Tick() exceeds it.
  void Observe(uint64_t remote, int64_t wall_ms);

  // Raises the clock to at least `floor` without ticking.
  void RaiseTo(uint64_t floor) {
    if (floor > last_) last_ = floor;
  }

  uint64_t last() const { return last_; }

 private:
  uint64_t last_ = 0;
};

}  // namespace lockmesh::core
