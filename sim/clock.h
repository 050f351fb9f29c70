// File: sim/clock.h
//
// A simulated node's two clocks as functions of true (simulated) time:
// piecewise linear, with a rate that faults may change (drift) and a wall-clock
// offset that faults may jump. The monotonic clock never jumps.
#pragma once

#include <cmath>
#include <cstdint>

#include "lib/core/types.h"

namespace lockmesh::sim {

class SimClock {
 public:
  SimClock() = default;
  SimClock(int64_t wall_offset_us, int64_t mono_start_us) {
    base_wall_us_ = wall_offset_us;
    base_mono_us_ = mono_start_us;
  }

  int64_t MonoUs(int64_t true_us) const { return base_mono_us_ + Scaled(true_us - base_true_us_); }
  int64_t WallMs(int64_t true_us) const {
    return (base_wall_us_ + Scaled(true_us - base_true_us_)) / 1000;
  }
  core::Now NowAt(int64_t true_us) const { return {MonoUs(true_us), WallMs(true_us)}; }

  // The first true time at or after `from_true_us` at which MonoUs() >= mono_us.
  int64_t TrueTimeAt(int64_t mono_us, int64_t from_true_us) const {
    if (MonoUs(from_true_us) >= mono_us) return from_true_us;
    const double delta = static_cast<double>(mono_us - base_mono_us_) / rate_;
    int64_t t = base_true_us_ + static_cast<int64_t>(std::ceil(delta));
    while (MonoUs(t) < mono_us) ++t;  // absorbs rounding
    return t > from_true_us ? t : from_true_us;
  }

  // Rate error in parts per million (+1000: runs 0.1% fast).
  void SetDriftPpm(int64_t true_us, int64_t ppm) {
    Rebase(true_us);
    drift_ppm_ = ppm;
    rate_ = 1.0 + static_cast<double>(ppm) / 1e6;
  }
  void JumpWall(int64_t true_us, int64_t delta_us) {
    Rebase(true_us);
    base_wall_us_ += delta_us;
  }
  int64_t drift_ppm() const { return drift_ppm_; }

 private:
  int64_t Scaled(int64_t dt) const {
    return drift_ppm_ == 0 ? dt : static_cast<int64_t>(std::floor(static_cast<double>(dt) * rate_));
  }
  void Rebase(int64_t true_us) {
    const int64_t mono = MonoUs(true_us);
    base_wall_us_ += Scaled(true_us - base_true_us_);
    base_mono_us_ = mono;
    base_true_us_ = true_us;
  }

  int64_t base_true_us_ = 0;
  int64_t base_mono_us_ = 0;
  int64_t base_wall_us_ = 0;
  int64_t drift_ppm_ = 0;
  double rate_ = 1.0;
};

}  // namespace lockmesh::sim
