// File: lockmesh/metrics.h
//
// A snapshot of one node's counters: cheap enough to be always on (plain counters bumped on
// the node's executor, copied out under a lock), so an embedder may poll it every second.
//
//   lockmesh::Metrics m = node->GetMetrics();
//   std::printf("p99 acquire %.1f ms, %llu lost leases\n",
//               m.acquire_latency.Percentile(0.99) / 1000.0, m.leases_lost);
//
// Plain value type; thread-compatible.
#pragma once

#include <array>
#include <cstdint>

namespace lockmesh {

// Latencies in log-spaced buckets: bucket i counts values in [Bound(i-1), Bound(i)) µs, with
// Bound(i) = 64 µs * 2^(i/2) rounded (two buckets per doubling, ~41% wide), from 64 µs to
// ~68 s; the last bucket takes everything larger.
struct Histogram {
  static constexpr int kBuckets = 42;
  std::array<uint64_t, kBuckets> counts{};
  uint64_t count = 0;
  uint64_t sum_us = 0;
  uint64_t max_us = 0;

  // Upper bound of bucket i in µs (the last is UINT64_MAX).
  static uint64_t Bound(int i);
  void Record(uint64_t us);
  // The upper bound of the bucket holding quantile q in [0, 1] (0 when empty; max_us for
  // the last bucket): an over-estimate by at most one bucket width.
  uint64_t Percentile(double q) const;
};

// What the node's socket carried: datagrams, the protocol messages batched into them, and the
// received datagrams dropped before decoding, by reason. The transport keeps these; Metrics
// has them as its own fields.
struct DatagramCounters {
  uint64_t datagrams_sent = 0;
  uint64_t datagrams_received = 0;
  uint64_t bytes_sent = 0;
  uint64_t bytes_received = 0;
  uint64_t messages_sent = 0;
  uint64_t messages_received = 0;
  uint64_t send_errors = 0;  // the socket refused a datagram (buffer full, unreachable)
  // Dropped datagrams, by reason.
  uint64_t dropped_oversized = 0;        // over 1400 bytes
  uint64_t dropped_truncated = 0;        // shorter than a sealed frame
  uint64_t dropped_unknown_version = 0;  // frame, batch or message version not spoken here
  uint64_t dropped_unknown_key = 0;      // sealed with a key this node does not hold
  uint64_t dropped_unauthenticated = 0;  // wrong key, wrong cluster name, altered bytes
  uint64_t dropped_replayed = 0;         // a datagram seen already (within the replay window)
  uint64_t dropped_malformed = 0;        // opened, but not a well-formed batch or message
};

// Why a received datagram is dropped: the one list of DatagramCounters' drop reasons, with the
// name the log record and the Prometheus label use and what it means.
struct DatagramDropReason {
  const char* name;
  const char* meaning;
  uint64_t DatagramCounters::*counter;
};
inline constexpr DatagramDropReason kDatagramDropReasons[] = {
    {"oversized", "over the datagram size bound", &DatagramCounters::dropped_oversized},
    {"truncated", "shorter than a sealed frame", &DatagramCounters::dropped_truncated},
    {"unknown_version", "a frame, batch or message version not spoken here",
     &DatagramCounters::dropped_unknown_version},
    {"unknown_key", "sealed with a key this node does not hold",
     &DatagramCounters::dropped_unknown_key},
    {"unauthenticated", "failed to open: wrong key, wrong cluster name or altered bytes",
     &DatagramCounters::dropped_unauthenticated},
    {"replayed", "seen already within the replay window", &DatagramCounters::dropped_replayed},
    {"malformed", "opened, but not a well-formed batch or message",
     &DatagramCounters::dropped_malformed},
};

// The datagram counters are fields of Metrics (m.datagrams_sent, m.dropped_replayed, ...).
struct Metrics : DatagramCounters {
  // Acquire requests, from the call to the grant.
  Histogram acquire_latency;
  uint64_t acquires_started = 0;
  uint64_t acquires_succeeded = 0;
  uint64_t acquires_failed = 0;     // no quorum, contended (try-acquire), refused
  uint64_t acquires_timed_out = 0;  // the wait limit passed
  uint64_t acquires_cancelled = 0;
  // Protocol attempts (each request makes one or more).
  uint64_t attempts = 0;
  uint64_t attempts_failed = 0;
  // Of attempts_failed: refused because another owner held the lease, so the request was
  // queued at the voters until its turn (contention, not a fault).
  uint64_t attempts_queued = 0;
  // Leases granted at release: the voters accepted a queued request's ballot as the
  // previous lease ended, with no further round trip.
  uint64_t grants_at_release = 0;
  // Attempts that ran as long as an attempt may with voters still silent: a round trip that
  // does not fit the attempt timeout (LeaseConfig presets, NodeOptions::timing), or voters
  // down. Each is also logged ("lease.attempt_too_slow", rate-limited).
  uint64_t attempts_too_slow = 0;
  // Probes sent instead of acquires to voters not heard from lately (a node that may not be
  // hearing its voters asks them to answer before it asks them to accept).
  uint64_t probes = 0;
  // How leases ended.
  uint64_t releases = 0;  // by hand: Release() or the guard's destruction
  uint64_t expiries = 0;  // the deadline passed (hold cap, renewal off)
  uint64_t renewals = 0;
  uint64_t renewals_failed = 0;
  uint64_t leases_lost = 0;  // reported lost before the deadline
  uint64_t leases_held = 0;  // now

  // Circuit breaker.
  bool breaker_open = false;
  uint64_t breaker_opens = 0;
  uint64_t breaker_rejections = 0;  // requests failed at once while open
  uint64_t breaker_deferrals = 0;   // requests made to wait for the cooldown

  // Members by state, this node included.
  uint64_t members_alive = 0;
  uint64_t members_suspect = 0;
  uint64_t members_dead = 0;
  uint64_t members_left = 0;

  // Messages dropped by the protocol after decoding.
  uint64_t dropped_voter_set_mismatch = 0;  // the sender has another voter set: misconfigured
  uint64_t dropped_misaddressed = 0;
  uint64_t dropped_unroutable = 0;  // no address known for the receiver

  // Restart quarantine of this node's voter (false for non-voters).
  bool voter = false;
  bool quarantined = false;
  int64_t quarantine_remaining_ms = 0;
};

}  // namespace lockmesh
