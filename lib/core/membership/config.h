// File: membership/config.h
//
// Settings of gossip membership (SWIM with Lifeguard), their validation, and the
// timeouts derived from them. The presets copy hashicorp/memberlist's
// DefaultLANConfig (the default), DefaultWANConfig and DefaultLocalConfig.
//
//   GossipConfig config = GossipConfig::Lan();
//   config.lifeguard = false;  // plain SWIM, for comparison runs
//   if (absl::Status s = config.Validate(); !s.ok()) { ... refuse to start ... }
//   int64_t t = config.SuspicionTimeoutMinUs(/*members=*/50);
//
// Plain value type; thread-compatible.
#pragma once

#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"
#include "lib/core/limits.h"

namespace lockmesh::core {

struct GossipConfig {
  // Failure detection: one probe per interval; the direct ack is awaited for the
  // timeout, then k indirect probes run until the interval ends. Lifeguard scales
  // both by the awareness multiplier (memberlist scales only the interval).
  int64_t probe_interval_us = 1'000'000;
  int64_t probe_timeout_us = 500'000;
  int indirect_checks = 3;

  // Suspicion timeout: min = suspicion_mult * max(1, log10(n)) * probe_interval,
  // max = suspicion_max_timeout_mult * min (Lifeguard starts at max and shrinks
  // towards min as independent confirmations arrive).
  int suspicion_mult = 4;
  int suspicion_max_timeout_mult = 6;

  // Each update is sent at most retransmit_mult * ceil(log10(n + 1)) times.
  int retransmit_mult = 4;

  // Every gossip interval, pending updates go to gossip_nodes random members.
  int64_t gossip_interval_us = 200'000;
  int gossip_nodes = 3;
  // Dead members still receive gossip (so a wrongly declared one can refute) and
  // dead or left members stay in push-pull state and the table for this long.
  int64_t gossip_to_the_dead_us = 30'000'000;

  // Full-state exchange with one random member; scaled up above 32 members
  // (memberlist's pushPullScale). 0 switches push-pull off (joins still use it).
  int64_t push_pull_interval_us = 30'000'000;

  // Lifeguard local health: the probe interval and timeout are multiplied by
  // (score + 1) with score in [0, awareness_max - 1].
  int awareness_max = 8;

  // A dead member's name may be taken over by a new address after this long;
  // 0 never (memberlist's DeadNodeReclaimTime). A left member's always may.
  int64_t dead_reclaim_us = 0;

  // After a dead member is dropped from the table it is remembered this long, and
  // every push-pull round may try to rejoin through it (serf's reconnect), so that
  // two sides of a healed partition find each other again. 0 switches it off.
  int64_t reconnect_timeout_us = 86'400'000'000;

  // A join is repeated to the seeds at this interval until one of them answers.
  int64_t join_retry_us = 1'000'000;

  // All Lifeguard refinements: awareness, shrinking suspicion timeouts and their
  // confirmations, nacks, and carrying a suspicion to the suspect (buddy). Off
  // gives plain SWIM: fixed interval and timeout, fixed suspicion timeout = min.
  bool lifeguard = true;

  // Bounds on this node's own tags (UpdateMeta, construction), within limits.h.
  std::size_t tags_max = kMemberTagsMax;
  std::size_t tags_bytes_max = kMemberTagsBytesMax;

  // memberlist's DefaultLANConfig: the default.
  static GossipConfig Lan();
  // memberlist's DefaultWANConfig: slower probes, longer timeouts.
  static GossipConfig Wan();
  // memberlist's DefaultLocalConfig: loopback or a very fast network.
  static GossipConfig Local();

  // Returns OK, or InvalidArgument naming the first setting out of bounds.
  absl::Status Validate() const;

  // The suspicion timeouts for a cluster of `members` (memberlist's
  // suspicionTimeout; the node scale is truncated to thousandths as there).
  int64_t SuspicionTimeoutMinUs(std::size_t members) const;
  int64_t SuspicionTimeoutMaxUs(std::size_t members) const;
  // Independent confirmations that shrink a suspicion to its minimum:
  // suspicion_mult - 2, or 0 when fewer than that many members could confirm
  // (members - 2) or Lifeguard is off.
  int SuspicionConfirmationsExpected(std::size_t members) const;
  // How many times one update is sent: retransmit_mult * ceil(log10(members + 1)).
  int RetransmitLimit(std::size_t members) const;
  // How long a relay (ping-req) waits for the target before it nacks: 80% of
  // min(probe_timeout, probe_interval - probe_timeout). memberlist waits a whole probe
  // timeout, so with its defaults the nack arrives just after the requester's probe
  // ended and is never counted (Lifeguard paper, footnote 5).
  int64_t RelayTimeoutUs() const;
  // The push-pull period for `members` (0 when push-pull is off).
  int64_t PushPullIntervalUs(std::size_t members) const;
};

}  // namespace lockmesh::core
