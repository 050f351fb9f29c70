// File: config.h
//
// Timing and membership settings of the lease protocol, and the validation that
// refuses settings which would break the safety inequalities of DESIGN.md.
//
//   LeaseConfig config;
//   config.voters = {a, b, c};
//   config.self = a;
//   if (absl::Status s = config.Validate(); !s.ok()) { ... refuse to start ... }
//
// Plain value type; not thread-safe to mutate while a node uses it.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "lib/core/types.h"

namespace lockmesh::core {

// Switches that break one safety rule on purpose. They exist so the simulator
// (and its users) can watch the checker catch what Redlock-style locking gets
// wrong. Validate() refuses them unless `allow_unsafe` is set.
struct UnsafeSwitches {
  bool no_quarantine = false;    // a restarted voter accepts at once, floor 0
  bool overwrite_lease = false;  // a voter overwrites another owner's live lease
  bool no_clock_margin = false;  // the holder uses D instead of D_P
  bool any() const { return no_quarantine || overwrite_lease || no_clock_margin; }
};

struct LeaseConfig {
  NodeId self = 0;
  // The voter set; identical on every node (its hash travels in every message).
  std::vector<NodeId> voters;

  // rho: bound on any monotonic clock's rate error, in parts per million.
  int64_t rho_ppm = 1000;
  // D_max and the smallest D a request may ask for.
  int64_t lease_duration_us_max = 30'000'000;
  int64_t lease_duration_us_min = 100'000;
  // D_Q: restart quarantine. Must be >= D_max * (1 + rho) / (1 - rho).
  int64_t quarantine_us = 31'000'000;

  // An attempt gives up after this long even if D_P is longer.
  int64_t attempt_timeout_us = 1'000'000;
  // Unanswered acquire/renew messages are sent again after this long.
  int64_t retransmit_us = 200'000;
  // Full-jitter exponential backoff between failed attempts.
  int64_t backoff_us_min = 10'000;
  int64_t backoff_us_max = 2'000'000;
  // When a holder is known, a waiter retries after the holder's remaining time
  // plus this slack, in case the release notice is lost.
  int64_t held_retry_slack_us = 50'000;
  // Spread for retries that could collide: after a stale-ballot refusal, and after a release
  // notice when the waiter window is off (every waiter is then told). A waiter named by the
  // voters retries at once.
  int64_t notice_jitter_us = 25'000;
  // Rule 10 (designated successor): when a lease ends, a voter names the waiter with the
  // earliest ticket and keeps the resource for it this long (0: off, every waiter is told),
  // refusing later tickets as "held"; a head that does not come is skipped and the next one
  // named. Must cover a notice and a round trip; at most kWaiterPriorityUsMax. Each head that
  // does not come costs one window: a term of the liveness bound (docs/protocol.md).
  int64_t waiter_priority_us = 100'000;
  // Rule 10, grant at release: with the window on, a voter accepts the head's recent refused
  // acquire as the lease ends (one message to the head instead of a notice and a round
  // trip). Off: the head is told and asks again. Safe either way (rule 3 decides).
  bool grant_at_release = true;

  UnsafeSwitches unsafe;
  bool allow_unsafe = false;

  // Timing presets, beside GossipConfig's of the same names: the defaults suit a LAN; Wan()
  // tolerates long, lossy paths; Local() suits loopback and test clusters. Only timing
  // fields differ from a default LeaseConfig.
  static LeaseConfig Lan();
  static LeaseConfig Wan();
  static LeaseConfig Local();

  // Returns OK, or InvalidArgument naming the first broken rule.
  absl::Status Validate() const;

  // D_P = D * (1 - rho) / (1 + rho): how long the proposer may trust a grant of
  // duration D on its own clock.
  int64_t HolderDurationUs(int64_t duration_us) const;
  // D_max * (1 + rho) / (1 - rho), rounded up: the least safe quarantine.
  int64_t QuarantineUsMin() const;
  int Majority() const { return static_cast<int>(voters.size() / 2 + 1); }
  bool IsVoter(NodeId id) const;
  // Index of `id` in `voters`, or -1.
  int VoterIndex(NodeId id) const;
  // Order-independent FNV-1a hash of the voter set, stable across processes.
  uint64_t VoterSetHash() const;
};

// A stable 64-bit id for a node name (FNV-1a); identical on every platform.
NodeId NodeIdFromName(absl::string_view name);

}  // namespace lockmesh::core
