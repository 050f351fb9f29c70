// File: limits.h
//
// Every bound of the lease core in one place. A table, queue or message that is
// not bounded here is a bug. Names carry their units.
#pragma once

#include <cstddef>
#include <cstdint>

namespace lockmesh::core {

// Voters: 3 to 7 is the normal case; larger sets only add latency.
inline constexpr std::size_t kVotersMax = 9;

// A resource name is bytes; the bound keeps every lease message well inside one
// datagram (1400 bytes) with room for batching.
inline constexpr std::size_t kResourceBytesMax = 256;

// Resources a voter tracks at once (live leases plus entries with waiters).
inline constexpr std::size_t kVoterResourcesMax = 65536;

// Waiters a voter remembers per resource for release notices. Waiters past the
// bound are not remembered; they fall back to their retry timer.
inline constexpr std::size_t kWaitersPerResourceMax = 32;

// Requests (queued, attempting, holding) one node keeps at once.
inline constexpr std::size_t kRequestsMax = 4096;

// Lease durations accepted by any configuration.
inline constexpr int64_t kLeaseDurationUsMin = 10'000;             // 10 ms
inline constexpr int64_t kLeaseDurationUsMax = 3'600'000'000;      // 1 hour

// Largest clock rate error bound a configuration may state (10%).
inline constexpr int64_t kRhoPpmMax = 100'000;

// The wire format's datagram budget.
inline constexpr std::size_t kDatagramBytesMax = 1400;

// Cap'n Proto reader limits: a lease message is a few hundred bytes.
inline constexpr uint64_t kWireTraversalWordsMax = 1024;
inline constexpr int kWireNestingMax = 8;

}  // namespace lockmesh::core
