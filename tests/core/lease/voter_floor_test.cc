// Tests for lib/core/lease/voter.h, the ballot floor and the bounds (DESIGN.md
// rules 3(b) and 8): the restart quarantine, tokens that never go backwards once
// an entry is gone, the next tick, the table bound, and the two unsafe switches.
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "lib/core/limits.h"
#include "tests/core/lease/voter_fixture.h"

namespace lockmesh::core::voter_testing {
namespace {

TEST_F(VoterTest, QuarantineRefusesEverythingThenRaisesTheFloor) {
  const int64_t q = config_.quarantine_us;
  Make(/*quarantine=*/true, At(0));
  EXPECT_TRUE(v().InQuarantine(At(0)));
  EXPECT_EQ(v().NextTickUs(), q);
  EXPECT_EQ(Acquire(10, kA, B(100'000), 0).reason, RefuseReason::kQuarantine);
  EXPECT_EQ(Acquire(10, kA, B(100'000), q - 1).reason, RefuseReason::kQuarantine);
  EXPECT_EQ(Renew(10, kA, B(100'000), q - 1).reason, RefuseReason::kQuarantine);
  EXPECT_EQ(v().resource_count(), 0u);
  EXPECT_EQ(v().stats().refusals[static_cast<int>(RefuseReason::kQuarantine)], 3u);

  Tick(q);
  EXPECT_FALSE(v().InQuarantine(At(q)));
  EXPECT_EQ(v().NextTickUs(), kNever);
  // The floor is the HLC at the end of the quarantine: at least the wall time then.
  const Ballot floor = v().floor();
  EXPECT_GE(floor, B(q / 1000));
  EXPECT_EQ(floor, hlc_.last());
  // A ballot from before (a proposer with an old clock) is refused, and told the floor.
  const AcquireReplyMsg stale = Acquire(10, kA, B(q / 1000 - 1), q);
  EXPECT_EQ(stale.reason, RefuseReason::kStaleBallot);
  EXPECT_EQ(stale.highest_ballot, floor);
  EXPECT_EQ(Acquire(10, kA, floor, q).reason, RefuseReason::kStaleBallot);
  EXPECT_TRUE(Acquire(10, kA, floor + 1, q).accepted);
}

TEST_F(VoterTest, QuarantineAlsoEndsOnAMessageWithoutATick) {
  const int64_t q = config_.quarantine_us;
  Make(/*quarantine=*/true, At(0));
  EXPECT_EQ(Acquire(10, kA, B(q / 1000 - 1), q).reason, RefuseReason::kStaleBallot);
  EXPECT_GE(v().floor(), B(q / 1000));
}

TEST_F(VoterTest, TokensNeverGoBackwardsAfterTheEntryIsGone) {
  Acquire(10, kA, B(10), 0);
  Release(kA, B(10), 100);
  EXPECT_EQ(v().resource_count(), 0u);
  EXPECT_EQ(v().floor(), B(10));
  // A replay of the old acquire, or any ballot not above it, is refused.
  EXPECT_EQ(Acquire(10, kA, B(10), 200).reason, RefuseReason::kStaleBallot);
  const AcquireReplyMsg lower = Acquire(20, kB, B(9), 200);
  EXPECT_EQ(lower.reason, RefuseReason::kStaleBallot);
  EXPECT_EQ(lower.highest_ballot, B(10));
  // The floor is global: it covers resources this voter never saw.
  EXPECT_EQ(Acquire(20, kB, B(9), 200, kD, "other").reason, RefuseReason::kStaleBallot);
  EXPECT_TRUE(Acquire(20, kB, B(10, 1), 200).accepted);
  // The same after an expiry collected by a tick.
  Tick(200 + kD);
  EXPECT_EQ(v().resource_count(), 0u);
  EXPECT_EQ(v().floor(), B(10, 1));
  EXPECT_EQ(Acquire(30, kC, B(10, 1), 200 + kD).reason, RefuseReason::kStaleBallot);
}

TEST_F(VoterTest, NextTickReportsTheEarliestDeadline) {
  EXPECT_EQ(v().NextTickUs(), kNever);
  Acquire(10, kA, B(1), 0, 3'000'000, "x");
  Acquire(10, kA, B(2), 0, 2'000'000, "y");
  EXPECT_EQ(v().NextTickUs(), 2'000'000);
  Tick(2'000'000);
  EXPECT_EQ(v().NextTickUs(), 3'000'000);
  Tick(3'000'000);
  EXPECT_EQ(v().NextTickUs(), kNever);
}

TEST_F(VoterTest, TheResourceTableIsBounded) {
  for (std::size_t i = 0; i < kVoterResourcesMax; ++i) {
    RecordingOutbox out;
    v().OnAcquire(10, AcquireMsg{absl::StrCat("r", i), B(1, i), kA, kD}, At(0), out);
  }
  EXPECT_EQ(v().resource_count(), kVoterResourcesMax);
  EXPECT_EQ(Acquire(10, kA, B(100), 0, kD, "one-more").reason, RefuseReason::kTableFull);
  EXPECT_TRUE(Acquire(10, kA, B(101), 0, kD, "r0").accepted);  // known entries still work
}

TEST_F(VoterTest, UnsafeOverwriteLeaseDoesOverwrite) {
  config_.unsafe.overwrite_lease = true;
  config_.allow_unsafe = true;
  Acquire(10, kA, B(1), 0);
  EXPECT_TRUE(Acquire(20, kB, B(2), 100).accepted);
  Voter::LeaseView view;
  ASSERT_TRUE(Live(100, &view));
  EXPECT_EQ(view.owner, kB);
  // Ballots must still rise.
  EXPECT_EQ(Acquire(10, kA, B(2), 100).reason, RefuseReason::kStaleBallot);
}

TEST_F(VoterTest, UnsafeNoQuarantineAcceptsAtOnce) {
  config_.unsafe.no_quarantine = true;
  config_.allow_unsafe = true;
  Make(/*quarantine=*/true, At(0));
  EXPECT_FALSE(v().InQuarantine(At(0)));
  EXPECT_EQ(v().NextTickUs(), kNever);
  EXPECT_EQ(v().floor(), 0u);
  EXPECT_TRUE(Acquire(10, kA, B(-1'000'000), 0).accepted);  // even a ballot from long ago
}

}  // namespace
}  // namespace lockmesh::core::voter_testing
