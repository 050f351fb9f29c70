// Tests for lib/core/lease/voter.h, the acceptor (DESIGN.md rules 3, 6, 7): what
// it accepts, what it refuses and why, how it tells waiters, and how it renews
// and releases only an exact match.
#include <cstdint>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "lib/core/limits.h"
#include "tests/core/lease/voter_fixture.h"

namespace lockmesh::core::voter_testing {
namespace {

TEST_F(VoterTest, AcceptsAFreshBallotAndRecordsTheLease) {
  const AcquireReplyMsg reply = Acquire(10, kA, B(1), 1000);
  EXPECT_TRUE(reply.accepted);
  EXPECT_EQ(reply.highest_ballot, B(1));
  Voter::LeaseView view;
  ASSERT_TRUE(Live(1000, &view));
  EXPECT_EQ(view.ballot, B(1));
  EXPECT_EQ(view.owner, kA);
  EXPECT_EQ(view.until_us, 1000 + kD);
  EXPECT_EQ(v().stats().accepts, 1u);
  EXPECT_EQ(v().resource_count(), 1u);
  EXPECT_EQ(v().NextTickUs(), 1000 + kD);
}

TEST_F(VoterTest, RefusesABallotNotAboveTheHighestAndCarriesIt) {
  Acquire(10, kA, B(5), 0);
  // The same owner with a lower ballot: stale, and no holder time (it is its own lease).
  AcquireReplyMsg reply = Acquire(10, kA, B(4), 100);
  EXPECT_EQ(reply.reason, RefuseReason::kStaleBallot);
  EXPECT_EQ(reply.highest_ballot, B(5));
  EXPECT_EQ(reply.holder_remaining_us, 0);
  // Another owner with an equal ballot while the lease is live: "held" wins over
  // "stale", so the asker waits for the release notice with the holder's time.
  reply = Acquire(20, kB, B(5), 100);
  EXPECT_EQ(reply.reason, RefuseReason::kHeld);
  EXPECT_EQ(reply.highest_ballot, B(5));
  EXPECT_EQ(reply.holder_remaining_us, kD - 100);
  EXPECT_EQ(v().stats().refusals[static_cast<int>(RefuseReason::kStaleBallot)], 1u);
  EXPECT_EQ(v().stats().refusals[static_cast<int>(RefuseReason::kHeld)], 1u);
  Voter::LeaseView view;
  ASSERT_TRUE(Live(100, &view));
  EXPECT_EQ(view.owner, kA);
}

TEST_F(VoterTest, RefusesAnotherOwnerWhileTheLeaseIsLive) {
  Acquire(10, kA, B(1), 0);
  const AcquireReplyMsg reply = Acquire(20, kB, B(2), 1'500'000);
  EXPECT_EQ(reply.reason, RefuseReason::kHeld);
  EXPECT_EQ(reply.highest_ballot, B(1));
  EXPECT_EQ(reply.holder_remaining_us, kD - 1'500'000);
  Voter::LeaseView view;
  ASSERT_TRUE(Live(1'500'000, &view));
  EXPECT_EQ(view.owner, kA);
  EXPECT_EQ(view.ballot, B(1));
  // A different request or incarnation of the same node is a different owner.
  EXPECT_EQ(Acquire(10, Owner{10, 1, 2}, B(3), 0).reason, RefuseReason::kHeld);
  EXPECT_EQ(Acquire(10, Owner{10, 2, 1}, B(4), 0).reason, RefuseReason::kHeld);
  EXPECT_EQ(v().stats().refusals[static_cast<int>(RefuseReason::kHeld)], 3u);
}

TEST_F(VoterTest, AcceptsAHigherBallotOfTheSameOwner) {
  Acquire(10, kA, B(1), 0);
  EXPECT_TRUE(Acquire(10, kA, B(2), 1'000'000, 2'000'000).accepted);
  Voter::LeaseView view;
  ASSERT_TRUE(Live(1'000'000, &view));
  EXPECT_EQ(view.ballot, B(2));
  EXPECT_EQ(view.until_us, 3'000'000);
  EXPECT_EQ(v().NextTickUs(), 3'000'000);  // the old expiry is gone from the index
}

TEST_F(VoterTest, AcceptsAnotherOwnerOnceTheLeaseExpired) {
  Acquire(10, kA, B(1), 0);
  // Expired but not yet collected by a tick.
  EXPECT_TRUE(Acquire(20, kB, B(2), kD).accepted);
  Voter::LeaseView view;
  ASSERT_TRUE(Live(kD, &view));
  EXPECT_EQ(view.owner, kB);
  EXPECT_EQ(v().NextTickUs(), 2 * kD);
  // And after a tick collected the entry.
  Tick(2 * kD);
  EXPECT_EQ(v().resource_count(), 0u);
  EXPECT_TRUE(Acquire(30, kC, B(3), 2 * kD).accepted);
}

TEST_F(VoterTest, DuplicateAcquireIsAnsweredWithoutChange) {
  Acquire(10, kA, B(1), 0);
  const AcquireReplyMsg reply = Acquire(10, kA, B(1), 2'000'000);
  EXPECT_TRUE(reply.accepted);
  EXPECT_EQ(reply.highest_ballot, B(1));
  Voter::LeaseView view;
  ASSERT_TRUE(Live(2'000'000, &view));
  EXPECT_EQ(view.until_us, kD);  // not extended by the duplicate
  EXPECT_EQ(v().stats().accepts, 2u);
}

TEST_F(VoterTest, RefusesMalformedRequests) {
  EXPECT_EQ(Acquire(10, kA, B(1), 0, kD, "").reason, RefuseReason::kBadRequest);
  EXPECT_EQ(Acquire(10, kA, B(1), 0, kD, std::string(kResourceBytesMax + 1, 'x')).reason,
            RefuseReason::kBadRequest);
  EXPECT_EQ(Acquire(10, kA, B(1), 0, config_.lease_duration_us_min - 1).reason,
            RefuseReason::kBadRequest);
  EXPECT_EQ(Acquire(10, kA, B(1), 0, config_.lease_duration_us_max + 1).reason,
            RefuseReason::kBadRequest);
  EXPECT_EQ(v().resource_count(), 0u);
  EXPECT_EQ(v().floor(), 0u);
  // The bounds themselves are fine.
  EXPECT_TRUE(Acquire(10, kA, B(1), 0, kD, std::string(kResourceBytesMax, 'x')).accepted);
  EXPECT_TRUE(Acquire(10, kA, B(2), 0, config_.lease_duration_us_min).accepted);
  EXPECT_TRUE(Acquire(10, kA, B(3), 0, config_.lease_duration_us_max, "s").accepted);
  Acquire(10, kA, B(4), 0);
  EXPECT_EQ(Renew(10, kA, B(4), 0, config_.lease_duration_us_max + 1).reason,
            RefuseReason::kBadRequest);
  EXPECT_EQ(Renew(10, kA, B(4), 0, config_.lease_duration_us_min - 1).reason,
            RefuseReason::kBadRequest);
}

TEST_F(VoterTest, RenewExtendsOnlyAnExactLiveMatch) {
  Acquire(10, kA, B(1), 0);
  EXPECT_EQ(Renew(10, kA, B(2), 1000).reason, RefuseReason::kNoLease);               // wrong token
  EXPECT_EQ(Renew(20, kB, B(1), 1000).reason, RefuseReason::kNoLease);               // wrong owner
  EXPECT_EQ(Renew(10, Owner{10, 2, 1}, B(1), 1000).reason, RefuseReason::kNoLease);  // incarnation
  Voter::LeaseView view;
  ASSERT_TRUE(Live(1000, &view));
  EXPECT_EQ(view.until_us, kD);

  const RenewReplyMsg ok = Renew(10, kA, B(1), 1'000'000);
  EXPECT_TRUE(ok.renewed);
  EXPECT_EQ(ok.highest_ballot, B(1));
  ASSERT_TRUE(Live(1'000'000, &view));
  EXPECT_EQ(view.until_us, 1'000'000 + kD);
  EXPECT_EQ(view.ballot, B(1));  // the token does not change
  EXPECT_EQ(v().NextTickUs(), 1'000'000 + kD);
  EXPECT_EQ(v().stats().renewals, 1u);
}

TEST_F(VoterTest, RenewOfAnExpiredOrUnknownLeaseIsRefused) {
  EXPECT_EQ(Renew(10, kA, B(1), 0).reason, RefuseReason::kNoLease);
  Acquire(10, kA, B(1), 0);
  EXPECT_EQ(Renew(10, kA, B(1), kD).reason, RefuseReason::kNoLease);  // expired, not collected
  Tick(kD);
  const RenewReplyMsg gone = Renew(10, kA, B(1), kD);
  EXPECT_EQ(gone.reason, RefuseReason::kNoLease);
  EXPECT_EQ(gone.highest_ballot, B(1));  // the floor
}

TEST_F(VoterTest, RenewNeverShortens) {
  Acquire(10, kA, B(1), 0, 10'000'000);
  EXPECT_TRUE(Renew(10, kA, B(1), 1'000'000, config_.lease_duration_us_min).renewed);
  Voter::LeaseView view;
  ASSERT_TRUE(Live(1'000'000, &view));
  EXPECT_EQ(view.until_us, 10'000'000);
  EXPECT_TRUE(Renew(10, kA, B(1), 6'000'000, 10'000'000).renewed);
  EXPECT_TRUE(Renew(10, kA, B(1), 6'500'000, 1'000'000).renewed);  // a late duplicate
  ASSERT_TRUE(Live(6'500'000, &view));
  EXPECT_EQ(view.until_us, 16'000'000);
  EXPECT_EQ(v().NextTickUs(), 16'000'000);
  EXPECT_TRUE(Tick(10'000'000).sent.empty());
  EXPECT_TRUE(Live(10'000'000, &view));
}

TEST_F(VoterTest, ReleaseClearsOnlyAnExactLiveMatch) {
  Acquire(10, kA, B(1), 0);
  Acquire(20, kB, B(2), 0);  // a waiter, so a wrongful clear would show as a notice
  EXPECT_TRUE(Release(kA, B(2), 10).sent.empty());
  EXPECT_TRUE(Release(kB, B(1), 10).sent.empty());
  EXPECT_TRUE(Release(Owner{10, 1, 2}, B(1), 10).sent.empty());
  Voter::LeaseView view;
  ASSERT_TRUE(Live(10, &view));
  EXPECT_EQ(view.owner, kA);
  EXPECT_EQ(v().stats().releases, 0u);
  // An expired lease is left to the tick.
  EXPECT_TRUE(Release(kA, B(1), kD).sent.empty());
  EXPECT_EQ(v().resource_count(), 1u);
  EXPECT_EQ(NoticesTo(Tick(kD)), std::vector<NodeId>{20});
}

}  // namespace
}  // namespace lockmesh::core::voter_testing
