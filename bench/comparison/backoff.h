// File: bench/comparison/backoff.h
//
// The retry policy of recipes that poll a contended lock (Redis, Redlock): exponential from
// LockOptions::backoff_min to backoff_max with full jitter (a uniform draw between zero and
// the current cap), the policy lockmesh's own retries use. The caller sleeps the returned
// time: there is no event to wait on, which is the recipe's cost being measured.
//
//   Backoff backoff(options);
//   while (!TryOnce()) std::this_thread::sleep_for(backoff.Next(time_left));
//
// One per caller thread; not thread-safe.
#pragma once

#include <algorithm>
#include <chrono>
#include <random>

#include "bench/comparison/system.h"

namespace lockmesh::bench::comparison {

class Backoff {
 public:
  explicit Backoff(const LockOptions& options)
      : min_(options.backoff_min),
        max_(options.backoff_max),
        cap_(min_),
        rng_(std::random_device{}()) {}

  // The next pause, never longer than `left` (the rest of the caller's wait).
  std::chrono::microseconds Next(std::chrono::microseconds left) {
    std::uniform_int_distribution<int64_t> draw(0, cap_.count());
    const std::chrono::microseconds pause(draw(rng_));
    cap_ = std::min(max_, cap_ * 2);
    return std::clamp(pause, std::chrono::microseconds(0), left);
  }
  // Back to the shortest cap, for the next acquire.
  void Reset() { cap_ = min_; }

 private:
  const std::chrono::microseconds min_, max_;
  std::chrono::microseconds cap_;
  std::mt19937_64 rng_;
};

}  // namespace lockmesh::bench::comparison
