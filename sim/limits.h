// File: sim/limits.h
//
// Bounds of a scenario (the simulator's input). A scenario file beyond them is
// refused with the limit named, so that a typo cannot hang a run or trip an
// invariant. Names carry their units.
#pragma once

#include <cstdint>

namespace lockmesh::sim {

// The longest virtual run, and so the longest duration any directive takes: a
// day of virtual time (about a minute and a quarter for the benchmark's 5 voters
// with 10 busy clients, README "Numbers": long, but not a hang).
inline constexpr int64_t kScenarioDurationUsMax = 86'400'000'000;

// The largest clock rate error a scenario may set, either way: a clock running
// at half or one and a half times true time. Far beyond any rho a configuration
// may state (lib/core/limits.h), and a clock that still moves forward.
inline constexpr int64_t kDriftPpmMax = 500'000;

}  // namespace lockmesh::sim
