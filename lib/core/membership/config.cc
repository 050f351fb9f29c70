#include "lib/core/membership/config.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace lockmesh::core {
namespace {

absl::Status Invalid(absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("gossip config: ", what));
}

absl::Status CheckRange(absl::string_view name, int64_t value, int64_t lo, int64_t hi) {
  if (value < lo || value > hi) {
    return Invalid(absl::StrCat(name, " must be in [", lo, ", ", hi, "], got ", value));
  }
  return absl::OkStatus();
}

// Above this many members the push-pull period grows (memberlist's
// pushPullScaleThreshold): full-state exchanges cost O(n) each.
constexpr std::size_t kPushPullScaleThreshold = 32;

}  // namespace

GossipConfig GossipConfig::Lan() { return GossipConfig{}; }

GossipConfig GossipConfig::Wan() {
  GossipConfig c = Lan();
  c.suspicion_mult = 6;
  c.push_pull_interval_us = 60'000'000;
  c.probe_timeout_us = 3'000'000;
  c.probe_interval_us = 5'000'000;
  c.gossip_nodes = 4;
  c.gossip_interval_us = 500'000;
  c.gossip_to_the_dead_us = 60'000'000;
  return c;
}

GossipConfig GossipConfig::Local() {
  GossipConfig c = Lan();
  c.indirect_checks = 1;
  c.retransmit_mult = 2;
  c.suspicion_mult = 3;
  c.push_pull_interval_us = 15'000'000;
  c.probe_timeout_us = 200'000;
  c.probe_interval_us = 1'000'000;
  c.gossip_interval_us = 100'000;
  c.gossip_to_the_dead_us = 15'000'000;
  return c;
}

absl::Status GossipConfig::Validate() const {
  const struct {
    absl::string_view name;
    int64_t value, lo, hi;
  } ranges[] = {
      {"probe_interval_us", probe_interval_us, kGossipPeriodUsMin, kGossipPeriodUsMax},
      {"probe_timeout_us", probe_timeout_us, kGossipPeriodUsMin / 10, kGossipPeriodUsMax},
      {"indirect_checks", indirect_checks, 0, kIndirectChecksMax},
      {"suspicion_mult", suspicion_mult, 1, kSuspicionMultMax},
      {"suspicion_max_timeout_mult", suspicion_max_timeout_mult, 1, kSuspicionMultMax},
      {"retransmit_mult", retransmit_mult, 1, kRetransmitMultMax},
      {"gossip_interval_us", gossip_interval_us, kGossipPeriodUsMin, kGossipPeriodUsMax},
      {"gossip_nodes", gossip_nodes, 1, kGossipNodesMax},
      {"gossip_to_the_dead_us", gossip_to_the_dead_us, 0, kDeadRetentionUsMax},
      {"awareness_max", awareness_max, 1, kAwarenessMultiplierMax},
      {"dead_reclaim_us", dead_reclaim_us, 0, kDeadRetentionUsMax},
      {"reconnect_timeout_us", reconnect_timeout_us, 0, kDeadRetentionUsMax},
      {"join_retry_us", join_retry_us, kGossipPeriodUsMin, kGossipPeriodUsMax},
      {"tags_max", static_cast<int64_t>(tags_max), 0, static_cast<int64_t>(kMemberTagsMax)},
      {"tags_bytes_max", static_cast<int64_t>(tags_bytes_max), 0,
       static_cast<int64_t>(kMemberTagsBytesMax)},
  };
  for (const auto& r : ranges) {
    if (absl::Status s = CheckRange(r.name, r.value, r.lo, r.hi); !s.ok()) return s;
  }
  if (probe_timeout_us >= probe_interval_us) {
    return Invalid(absl::StrCat("probe_timeout_us (", probe_timeout_us,
                                ") must be below probe_interval_us (", probe_interval_us,
                                "): indirect probes run in the rest of the interval"));
  }
  if (push_pull_interval_us != 0) {
    if (absl::Status s = CheckRange("push_pull_interval_us (or 0 for off)", push_pull_interval_us,
                                    kGossipPeriodUsMin, kPushPullIntervalUsMax);
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

int64_t GossipConfig::SuspicionTimeoutMinUs(std::size_t members) const {
  const double scale = std::max(1.0, std::log10(std::max(1.0, static_cast<double>(members))));
  const auto scale_milli = static_cast<int64_t>(scale * 1000);
  return suspicion_mult * scale_milli * probe_interval_us / 1000;
}

int64_t GossipConfig::SuspicionTimeoutMaxUs(std::size_t members) const {
  return suspicion_max_timeout_mult * SuspicionTimeoutMinUs(members);
}

int GossipConfig::SuspicionConfirmationsExpected(std::size_t members) const {
  const int k = suspicion_mult - 2;
  if (!lifeguard || k < 1 || static_cast<int64_t>(members) - 2 < k) return 0;
  return k;
}

int GossipConfig::RetransmitLimit(std::size_t members) const {
  const double scale = std::ceil(std::log10(static_cast<double>(members) + 1));
  return retransmit_mult * static_cast<int>(scale);
}

int64_t GossipConfig::RelayTimeoutUs() const {
  return std::max<int64_t>(
      1, std::min(probe_timeout_us, probe_interval_us - probe_timeout_us) * 4 / 5);
}

int64_t GossipConfig::PushPullIntervalUs(std::size_t members) const {
  if (members <= kPushPullScaleThreshold) return push_pull_interval_us;
  const double mult = std::ceil(std::log2(static_cast<double>(members)) -
                                std::log2(static_cast<double>(kPushPullScaleThreshold))) +
                      1.0;
  return static_cast<int64_t>(mult) * push_pull_interval_us;
}

}  // namespace lockmesh::core
