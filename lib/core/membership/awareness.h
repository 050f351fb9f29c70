// File: membership/awareness.h
//
// Lifeguard's local health awareness (memberlist's awareness.go): a score in
// [0, max - 1] that rises when this node looks slow to itself (a probe that got
// neither ack nor the expected nacks, a suspicion about itself to refute) and falls
// with every successful probe. Timeouts and the probe interval are multiplied by
// score + 1, so a node that is itself the problem accuses others more slowly.
//
//   Awareness awareness(config.awareness_max);
//   awareness.ApplyDelta(+1);                       // missed nack
//   int64_t interval = awareness.Scale(config.probe_interval_us);
//
// Plain value; not thread-safe.
#pragma once

#include <algorithm>
#include <cstdint>

namespace lockmesh::core {

class Awareness {
 public:
  // REQUIRES: max >= 1.
  explicit Awareness(int max) : max_(max) {}

  void ApplyDelta(int delta) { score_ = std::clamp(score_ + delta, 0, max_ - 1); }
  int score() const { return score_; }
  int64_t Scale(int64_t us) const { return us * (score_ + 1); }

 private:
  int max_;
  int score_ = 0;
};

}  // namespace lockmesh::core
