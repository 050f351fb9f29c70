// File: random.h
//
// The core's only source of randomness: a small seeded generator
// (xoshiro256**), owned by whoever drives the core. The simulator derives one
// per node from its run seed, so a seed replays a run bit for bit; the runtime
// seeds it from libsodium.
#pragma once

#include <cstdint>

namespace lockmesh::core {

class Rng {
 public:
  explicit Rng(uint64_t seed);

  uint64_t Next();
  // Uniform in [0, bound); 0 when bound is 0.
  uint64_t Uniform(uint64_t bound);
  // Uniform in [lo, hi].
  int64_t Between(int64_t lo, int64_t hi);
  // True with probability p.
  bool Chance(double p);
  // Uniform in [0, 1).
  double Unit();

 private:
  uint64_t s_[4];
};

// SplitMix64 step: derives independent seeds from one seed.
uint64_t SplitMix64(uint64_t& state);

}  // namespace lockmesh::core
