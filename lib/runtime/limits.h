// File: runtime/limits.h
//
// Bounds of the runtime (the Asio driver and the public API): what the protocol core bounds
// is in lib/core/limits.h, what a scenario may ask of the simulator in sim/limits.h. The public
// headers state the ones a caller can meet (node.h, election.h, options.h). Names carry their
// units.
#pragma once

#include <cstddef>
#include <cstdint>

namespace lockmesh::runtime {

// Resources one AcquireAll takes (node.h).
inline constexpr std::size_t kAcquireAllResourcesMax = 64;
// The circuit breaker's cooldown doubles with each failed probe, up to this many times
// NodeOptions::breaker_cooldown.
inline constexpr int64_t kBreakerCooldownGrowthMax = 32;
// An election's name (election.h): it becomes part of a resource name and of a gossip tag key.
inline constexpr std::size_t kElectionNameBytesMax = 24;
// NodeOptions::cluster_name: sealed into every datagram's associated data.
inline constexpr std::size_t kClusterNameBytesMax = 64;

// Nonces remembered for replay detection (16 bytes each, plus the set's overhead: ~0.5 MB).
inline constexpr std::size_t kReplayWindowDatagrams = 16384;
// Peers with queued messages at once; more are sealed unbatched at once.
inline constexpr std::size_t kBatchPeersMax = 1024;
// Datagrams handed to the kernel by one sendmmsg call.
inline constexpr std::size_t kSendBatchDatagramsMax = 64;
// Dropped datagrams of one reason get a log record at the first and then at every this-many-th
// (lib/runtime/drop_log.h): a flood of bad datagrams costs a line per thousand.
inline constexpr uint64_t kDropLogEveryDatagrams = 1000;
// Acquire attempts that did not fit their timeout get a log record at the first and then at
// every this-many-th ("lease.attempt_too_slow").
inline constexpr uint64_t kSlowAttemptLogEvery = 100;

}  // namespace lockmesh::runtime
