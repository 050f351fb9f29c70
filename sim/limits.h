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

// The timeline page (`run --html`, sim/timeline.h) keeps the first this many of
// each kind of record (so it shows the start of a long run in full) and says on
// the page how many more it left out: enough for any scenario file's story,
// while a day-long run still gives a page a browser opens (a few MB at most).
inline constexpr int64_t kTimelineLeasesMax = 10'000;        // leases held
inline constexpr int64_t kTimelineWaitsMax = 10'000;         // waits for a grant
inline constexpr int64_t kTimelineSpansMax = 2'000;          // stretches a node was down or paused
inline constexpr int64_t kTimelineFaultsMax = 2'000;         // faults applied
inline constexpr int64_t kTimelineNetworkStatesMax = 1'000;  // changes of who reaches whom
inline constexpr int64_t kTimelineWritesMax = 20'000;        // fenced writes accepted
// Refused and lost operations are few and are the point of the store lane: a
// cap of their own, so that accepted writes never crowd them out.
inline constexpr int64_t kTimelineRefusalsMax = 2'000;

}  // namespace lockmesh::sim
