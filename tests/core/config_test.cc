// Tests for lib/core/config.h: Validate() refuses every setting that breaks a
// safety inequality of DESIGN.md (rule 9) and says why; the derived durations
// round in the safe direction; the voter-set hash and node ids are stable.
#include "lib/core/config.h"

#include <cstdint>
#include <vector>

#include "absl/numeric/int128.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/core/limits.h"

namespace lockmesh::core {
namespace {

using ::testing::HasSubstr;

LeaseConfig ThreeVoters() {
  LeaseConfig config;
  config.voters = {1, 2, 3};
  config.self = 1;
  return config;
}

// Expects InvalidArgument whose message contains `why`.
void ExpectRefused(const LeaseConfig& config, const char* why) {
  const absl::Status status = config.Validate();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(status.message(), HasSubstr(why));
}

TEST(ConfigValidate, AcceptsTheDefaultsWithThreeVoters) {
  EXPECT_TRUE(ThreeVoters().Validate().ok()) << ThreeVoters().Validate();
}

TEST(ConfigValidate, AcceptsANonVoterSelf) {
  LeaseConfig config = ThreeVoters();
  config.self = 99;
  EXPECT_TRUE(config.Validate().ok());
}

// The waiter-priority window is a term of the liveness bound: it is capped.
TEST(ConfigValidate, RefusesAWaiterWindowPastItsBound) {
  LeaseConfig config = ThreeVoters();
  config.waiter_priority_us = kWaiterPriorityUsMax;
  EXPECT_TRUE(config.Validate().ok());
  config.waiter_priority_us = kWaiterPriorityUsMax + 1;
  ExpectRefused(config, "waiter_priority_us must be at most");
}

TEST(ConfigValidate, RefusesAnEmptyVoterSet) {
  LeaseConfig config = ThreeVoters();
  config.voters.clear();
  ExpectRefused(config, "empty");
}

TEST(ConfigValidate, RefusesDuplicateVoters) {
  LeaseConfig config = ThreeVoters();
  config.voters = {1, 2, 1};
  ExpectRefused(config, "twice");
}

TEST(ConfigValidate, RefusesMoreThanTheVoterBound) {
  LeaseConfig config = ThreeVoters();
  config.voters.clear();
  for (NodeId id = 1; id <= kVotersMax; ++id) config.voters.push_back(id);
  EXPECT_TRUE(config.Validate().ok());
  config.voters.push_back(kVotersMax + 1);
  ExpectRefused(config, "at most");
}

TEST(ConfigValidate, RefusesRhoOutOfRange) {
  LeaseConfig config = ThreeVoters();
  config.rho_ppm = -1;
  ExpectRefused(config, "rho_ppm");
  config.rho_ppm = kRhoPpmMax + 1;
  ExpectRefused(config, "rho_ppm");
  // Both ends of the range are fine once the quarantine follows.
  for (int64_t rho : {int64_t{0}, kRhoPpmMax}) {
    config.rho_ppm = rho;
    config.quarantine_us = config.QuarantineUsMin();
    EXPECT_TRUE(config.Validate().ok()) << "rho_ppm " << rho;
  }
}

TEST(ConfigValidate, RefusesAQuarantineBelowTheBoundAndSaysWhy) {
  LeaseConfig config = ThreeVoters();
  config.quarantine_us = config.QuarantineUsMin() - 1;
  const absl::Status status = config.Validate();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("quarantine_us"));
  EXPECT_THAT(status.message(), HasSubstr("D_max * (1 + rho) / (1 - rho)"));
  EXPECT_THAT(status.message(), HasSubstr(absl::StrCat(config.QuarantineUsMin())));
  EXPECT_THAT(status.message(), HasSubstr("still trusts"));
  config.quarantine_us = config.QuarantineUsMin();
  EXPECT_TRUE(config.Validate().ok());
}

TEST(ConfigValidate, QuarantineBoundFollowsRhoAndDurationMax) {
  LeaseConfig config = ThreeVoters();
  config.rho_ppm = kRhoPpmMax;  // 10%: 30 s * 1.1 / 0.9 = 36.67 s > the default 31 s
  ExpectRefused(config, "quarantine_us");
  config.rho_ppm = 1000;
  config.lease_duration_us_max = 40'000'000;
  ExpectRefused(config, "quarantine_us");
}

TEST(ConfigValidate, RefusesBadLeaseDurations) {
  LeaseConfig config = ThreeVoters();
  config.lease_duration_us_min = kLeaseDurationUsMin - 1;
  ExpectRefused(config, "lease durations");
  config = ThreeVoters();
  config.lease_duration_us_max = kLeaseDurationUsMax + 1;
  config.quarantine_us = config.QuarantineUsMin();
  ExpectRefused(config, "lease durations");
  config = ThreeVoters();
  config.lease_duration_us_min = config.lease_duration_us_max + 1;
  ExpectRefused(config, "lease durations");
  config = ThreeVoters();
  config.lease_duration_us_min = config.lease_duration_us_max;  // min == max is fine
  EXPECT_TRUE(config.Validate().ok());
}

TEST(ConfigValidate, RefusesNonPositiveAttemptTimeoutOrRetransmit) {
  for (int64_t bad : {int64_t{0}, int64_t{-1}}) {
    LeaseConfig config = ThreeVoters();
    config.attempt_timeout_us = bad;
    ExpectRefused(config, "attempt_timeout_us");
    config = ThreeVoters();
    config.retransmit_us = bad;
    ExpectRefused(config, "retransmit_us");
  }
}

TEST(ConfigValidate, RefusesBadBackoff) {
  LeaseConfig config = ThreeVoters();
  config.backoff_us_min = 0;
  ExpectRefused(config, "backoff");
  config = ThreeVoters();
  config.backoff_us_max = config.backoff_us_min - 1;
  ExpectRefused(config, "backoff");
  config = ThreeVoters();
  config.backoff_us_max = config.backoff_us_min;
  EXPECT_TRUE(config.Validate().ok());
}

TEST(ConfigValidate, RefusesNegativeSlackOrJitter) {
  LeaseConfig config = ThreeVoters();
  config.held_retry_slack_us = -1;
  ExpectRefused(config, "held_retry_slack_us");
  config = ThreeVoters();
  config.notice_jitter_us = -1;
  ExpectRefused(config, "notice_jitter_us");
  config = ThreeVoters();
  config.held_retry_slack_us = 0;
  config.notice_jitter_us = 0;
  EXPECT_TRUE(config.Validate().ok());
}

TEST(ConfigValidate, RefusesEachUnsafeSwitchWithoutAllowUnsafe) {
  for (int which = 0; which < 3; ++which) {
    LeaseConfig config = ThreeVoters();
    config.unsafe.no_quarantine = which == 0;
    config.unsafe.overwrite_lease = which == 1;
    config.unsafe.no_clock_margin = which == 2;
    ASSERT_TRUE(config.unsafe.any());
    ExpectRefused(config, "allow_unsafe");
    config.allow_unsafe = true;
    EXPECT_TRUE(config.Validate().ok()) << "switch " << which;
  }
  LeaseConfig config = ThreeVoters();
  config.allow_unsafe = true;  // allowing without using is harmless
  EXPECT_TRUE(config.Validate().ok());
}

TEST(ConfigDerived, HolderDurationRoundsDown) {
  LeaseConfig config = ThreeVoters();  // rho = 1000 ppm
  // 1000 * 0.999 / 1.001 = 998.0019...
  EXPECT_EQ(config.HolderDurationUs(1000), 998);
  // 30 s * 0.999 / 1.001 = 29'940'059.94...
  EXPECT_EQ(config.HolderDurationUs(30'000'000), 29'940'059);
  // Exact quotients stay exact: 1001 * 999000 / 1001000 = 999.
  EXPECT_EQ(config.HolderDurationUs(1001), 999);
  config.rho_ppm = 0;
  EXPECT_EQ(config.HolderDurationUs(30'000'000), 30'000'000);
  // The largest inputs do not overflow.
  config.rho_ppm = kRhoPpmMax;
  EXPECT_EQ(config.HolderDurationUs(kLeaseDurationUsMax), 2'945'454'545);
}

TEST(ConfigDerived, HolderDurationIsNeverMoreThanAsked) {
  LeaseConfig config = ThreeVoters();
  for (int64_t rho : {int64_t{1}, int64_t{1000}, int64_t{77'777}, kRhoPpmMax}) {
    config.rho_ppm = rho;
    for (int64_t d = kLeaseDurationUsMin; d < kLeaseDurationUsMax; d = d * 3 + 7) {
      const int64_t dp = config.HolderDurationUs(d);
      EXPECT_LT(dp, d);
      // Rounded down by less than one microsecond.
      EXPECT_GT((absl::int128(dp) + 1) * (1'000'000 + rho), absl::int128(d) * (1'000'000 - rho));
    }
  }
}

TEST(ConfigDerived, NoClockMarginUsesTheFullDuration) {
  LeaseConfig config = ThreeVoters();
  config.unsafe.no_clock_margin = true;
  EXPECT_EQ(config.HolderDurationUs(1000), 1000);
}

TEST(ConfigDerived, QuarantineMinRoundsUp) {
  LeaseConfig config = ThreeVoters();
  // 30 s * 1.001 / 0.999 = 30'060'060.06...
  EXPECT_EQ(config.QuarantineUsMin(), 30'060'061);
  config.rho_ppm = 0;
  EXPECT_EQ(config.QuarantineUsMin(), 30'000'000);
  // 999 * 1.001 / 0.999 = 1001 exactly: no rounding.
  config.rho_ppm = 1000;
  config.lease_duration_us_max = 999;
  EXPECT_EQ(config.QuarantineUsMin(), 1001);
  config.rho_ppm = kRhoPpmMax;
  config.lease_duration_us_max = kLeaseDurationUsMax;
  EXPECT_EQ(config.QuarantineUsMin(), 4'400'000'000);
}

TEST(ConfigDerived, MajorityAndVoterIndex) {
  LeaseConfig config;
  const int expected[] = {0, 1, 2, 2, 3, 3, 4, 4, 5, 5};
  for (NodeId n = 1; n <= kVotersMax; ++n) {
    config.voters.push_back(n * 10);
    EXPECT_EQ(config.Majority(), expected[n]) << n << " voters";
  }
  EXPECT_EQ(config.VoterIndex(10), 0);
  EXPECT_EQ(config.VoterIndex(30), 2);
  EXPECT_EQ(config.VoterIndex(31), -1);
  EXPECT_TRUE(config.IsVoter(90));
  EXPECT_FALSE(config.IsVoter(0));
}

TEST(ConfigDerived, VoterSetHashIsOrderIndependent) {
  LeaseConfig a, b;
  a.voters = {1, 2, 3};
  b.voters = {3, 1, 2};
  EXPECT_EQ(a.VoterSetHash(), b.VoterSetHash());
  b.self = 3;  // the hash is of the set, not of who asks
  EXPECT_EQ(a.VoterSetHash(), b.VoterSetHash());
}

TEST(ConfigDerived, VoterSetHashDiffersForDifferentSets) {
  const std::vector<std::vector<NodeId>> sets = {{1, 2, 3}, {1, 2, 4},     {1, 2}, {1, 2, 3, 4},
                                                 {2, 3, 4}, {0x100, 2, 3}, {}};
  for (std::size_t i = 0; i < sets.size(); ++i) {
    for (std::size_t j = i + 1; j < sets.size(); ++j) {
      LeaseConfig a, b;
      a.voters = sets[i];
      b.voters = sets[j];
      EXPECT_NE(a.VoterSetHash(), b.VoterSetHash()) << i << " vs " << j;
    }
  }
}

TEST(ConfigDerived, NodeIdFromNameIsStable) {
  // FNV-1a 64; pinned so that ids never change between releases or platforms.
  EXPECT_EQ(NodeIdFromName(""), 0xcbf29ce484222325ULL);
  EXPECT_EQ(NodeIdFromName("a"), 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(NodeIdFromName("node-1"), 0xe696ecc2207879c3ULL);
  EXPECT_EQ(NodeIdFromName("lockmesh"), 0x1769883f6582d5abULL);
  EXPECT_NE(NodeIdFromName("node-1"), NodeIdFromName("node-2"));
}

}  // namespace
}  // namespace lockmesh::core
