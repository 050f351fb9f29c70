#include "lib/core/config.h"

#include <algorithm>

#include "absl/numeric/int128.h"
#include "absl/strings/str_cat.h"
#include "lib/core/limits.h"

namespace lockmesh::core {
namespace {

constexpr uint64_t kFnvOffset = 0xcbf29ce484222325ULL;
constexpr uint64_t kFnvPrime = 0x100000001b3ULL;

uint64_t FnvBytes(uint64_t h, const void* data, std::size_t n) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < n; ++i) h = (h ^ p[i]) * kFnvPrime;
  return h;
}

absl::Status Invalid(absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("lease config: ", what));
}

}  // namespace

NodeId NodeIdFromName(absl::string_view name) {
  return FnvBytes(kFnvOffset, name.data(), name.size());
}

LeaseConfig LeaseConfig::Lan() { return LeaseConfig(); }

LeaseConfig LeaseConfig::Wan() {
  LeaseConfig c;
  c.retransmit_us = 500'000;
  c.attempt_timeout_us = 3'000'000;
  c.backoff_us_min = 50'000;
  c.backoff_us_max = 5'000'000;
  c.waiter_priority_us = 500'000;
  return c;
}

LeaseConfig LeaseConfig::Local() {
  LeaseConfig c;
  c.retransmit_us = 50'000;
  c.attempt_timeout_us = 500'000;
  c.backoff_us_min = 5'000;
  c.backoff_us_max = 1'000'000;
  c.held_retry_slack_us = 20'000;
  c.waiter_priority_us = 50'000;
  return c;
}

int64_t LeaseConfig::HolderDurationUs(int64_t duration_us) const {
  if (unsafe.no_clock_margin) return duration_us;
  // Rounded down: the holder may only ever trust less.
  const absl::int128 num = absl::int128(duration_us) * (1'000'000 - rho_ppm);
  return static_cast<int64_t>(num / (1'000'000 + rho_ppm));
}

int64_t LeaseConfig::QuarantineUsMin() const {
  const absl::int128 num = absl::int128(lease_duration_us_max) * (1'000'000 + rho_ppm);
  const absl::int128 den = 1'000'000 - rho_ppm;
  return static_cast<int64_t>((num + den - 1) / den);
}

bool LeaseConfig::IsVoter(NodeId id) const { return VoterIndex(id) >= 0; }

int LeaseConfig::VoterIndex(NodeId id) const {
  auto it = std::find(voters.begin(), voters.end(), id);
  return it == voters.end() ? -1 : static_cast<int>(it - voters.begin());
}

uint64_t LeaseConfig::VoterSetHash() const {
  std::vector<NodeId> sorted = voters;
  std::sort(sorted.begin(), sorted.end());
  uint64_t h = kFnvOffset;
  for (NodeId id : sorted) h = FnvBytes(h, &id, sizeof id);
  return h;
}

absl::Status LeaseConfig::Validate() const {
  if (voters.empty()) return Invalid("the voter set is empty");
  if (voters.size() > kVotersMax) {
    return Invalid(absl::StrCat("at most ", kVotersMax, " voters, got ", voters.size()));
  }
  std::vector<NodeId> sorted = voters;
  std::sort(sorted.begin(), sorted.end());
  if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) {
    return Invalid("the voter set names a node twice");
  }
  if (rho_ppm < 0 || rho_ppm > kRhoPpmMax) {
    return Invalid(absl::StrCat("rho_ppm must be in [0, ", kRhoPpmMax, "], got ", rho_ppm));
  }
  if (lease_duration_us_min < kLeaseDurationUsMin || lease_duration_us_max > kLeaseDurationUsMax ||
      lease_duration_us_min > lease_duration_us_max) {
    return Invalid(absl::StrCat("lease durations must satisfy ", kLeaseDurationUsMin,
                                " <= min <= max <= ", kLeaseDurationUsMax, " us"));
  }
  if (quarantine_us < QuarantineUsMin()) {
    return Invalid(absl::StrCat("quarantine_us ", quarantine_us,
                                " is below D_max * (1 + rho) / (1 - rho) = ", QuarantineUsMin(),
                                " us: a restarted voter could grant a lease that a holder "
                                "still trusts"));
  }
  if (attempt_timeout_us <= 0 || retransmit_us <= 0) {
    return Invalid("attempt_timeout_us and retransmit_us must be positive");
  }
  if (backoff_us_min <= 0 || backoff_us_max < backoff_us_min) {
    return Invalid("backoff must satisfy 0 < backoff_us_min <= backoff_us_max");
  }
  if (held_retry_slack_us < 0 || notice_jitter_us < 0 || waiter_priority_us < 0) {
    return Invalid(
        "held_retry_slack_us, notice_jitter_us and waiter_priority_us must not be negative");
  }
  if (waiter_priority_us > kWaiterPriorityUsMax) {
    return Invalid(absl::StrCat("waiter_priority_us must be at most ", kWaiterPriorityUsMax,
                                " us (it adds to the liveness bound), got ", waiter_priority_us));
  }
  if (unsafe.any() && !allow_unsafe) {
    return Invalid("unsafe switches are set but allow_unsafe is not (simulation only)");
  }
  return absl::OkStatus();
}

}  // namespace lockmesh::core
