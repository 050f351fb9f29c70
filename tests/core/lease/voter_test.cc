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

TEST_F(VoterTest, ReleaseTellsEachRecordedWaiterOnce) {
  Acquire(10, kA, B(1), 0);
  Acquire(20, kB, B(2), 10);
  Acquire(30, kC, B(3), 20);
  Acquire(20, kB, B(4), 30);  // asks again: still one waiter entry
  const RecordingOutbox out = Release(kA, B(1), 40);
  EXPECT_EQ(NoticesTo(out), (std::vector<NodeId>{20, 30}));
  for (const auto& [to, body] : out.sent) EXPECT_EQ(std::get<ReleaseNoticeMsg>(body).ballot, B(1));
  EXPECT_EQ(v().stats().notices_sent, 2u);
  EXPECT_EQ(v().stats().releases, 1u);
  // Kept for the waiters it told (waiter priority), then dropped with nothing more to say.
  const int64_t reserved_until = 40 + config_.waiter_priority_us;
  EXPECT_EQ(v().resource_count(), 1u);
  EXPECT_EQ(v().NextTickUs(), reserved_until);
  EXPECT_TRUE(Tick(reserved_until).sent.empty());
  EXPECT_EQ(v().resource_count(), 0u);
  EXPECT_EQ(v().NextTickUs(), kNever);
}

// Fairness across nodes: the holder's node must not hand the lease straight to its next
// local request ahead of the waiters that were told of the release.
TEST_F(VoterTest, AnEndedLeaseIsKeptForTheToldWaitersForAMoment) {
  Acquire(10, kA, B(1), 0);
  Acquire(20, kB, B(2), 10);  // refused as held: a waiter
  Release(kA, B(1), 40);
  // The holder's node asks again at once: refused as held for the rest of the window, and
  // told when the window ends.
  const AcquireReplyMsg again = Acquire(10, Owner{10, 1, 2}, B(3), 50);
  EXPECT_FALSE(again.accepted);
  EXPECT_EQ(again.reason, RefuseReason::kHeld);
  EXPECT_EQ(again.holder_remaining_us, 40 + config_.waiter_priority_us - 50);
  EXPECT_EQ(v().stats().reserved_refusals, 1u);
  // The told waiter takes it; the window is over.
  EXPECT_TRUE(Acquire(20, kB, B(4), 60).accepted);
  EXPECT_EQ(v().NextTickUs(), 60 + kD);
  // When it ends, the holder's node (now a waiter) is told, and the resource kept for it.
  const RecordingOutbox out = Release(kB, B(4), 70);
  EXPECT_EQ(NoticesTo(out), std::vector<NodeId>{10});
  EXPECT_TRUE(Acquire(10, Owner{10, 1, 2}, B(5), 80).accepted);
}

TEST_F(VoterTest, AnUnusedReservationEndsAndTellsWhoAskedMeanwhile) {
  Acquire(10, kA, B(1), 0);
  Acquire(20, kB, B(2), 10);
  Release(kA, B(1), 40);
  EXPECT_EQ(Acquire(30, kC, B(3), 50).reason, RefuseReason::kHeld);
  const RecordingOutbox out = Tick(40 + config_.waiter_priority_us);
  EXPECT_EQ(NoticesTo(out), std::vector<NodeId>{30});
  EXPECT_EQ(v().resource_count(), 0u);
  EXPECT_TRUE(Acquire(30, kC, B(4), 40 + config_.waiter_priority_us + 1).accepted);
}

TEST_F(VoterTest, WaiterPriorityZeroFreesTheResourceAtOnce) {
  config_.waiter_priority_us = 0;
  Acquire(10, kA, B(1), 0);
  Acquire(20, kB, B(2), 10);
  Release(kA, B(1), 40);
  EXPECT_EQ(v().resource_count(), 0u);
  EXPECT_TRUE(Acquire(30, kC, B(3), 50).accepted);
}

TEST_F(VoterTest, ExpiryTellsTheWaiters) {
  Acquire(10, kA, B(1), 0);
  Acquire(20, kB, B(2), 10);
  EXPECT_TRUE(Tick(kD - 1).sent.empty());
  EXPECT_EQ(v().resource_count(), 1u);
  const RecordingOutbox out = Tick(kD);
  EXPECT_EQ(NoticesTo(out), std::vector<NodeId>{20});
  EXPECT_EQ(v().stats().expiries, 1u);
  EXPECT_EQ(v().resource_count(), 1u);  // kept for node 20 for waiter_priority_us
  EXPECT_TRUE(Tick(kD + config_.waiter_priority_us).sent.empty());
  EXPECT_EQ(v().resource_count(), 0u);
}

TEST_F(VoterTest, WaitersBeyondTheBoundAreNotRemembered) {
  Acquire(10, kA, B(1), 0);
  const int extra = 5;
  for (int i = 0; i < static_cast<int>(kWaitersPerResourceMax) + extra; ++i) {
    Acquire(100 + i, Owner{static_cast<NodeId>(100 + i), 1, 1}, B(2 + i), 10);
  }
  EXPECT_EQ(v().stats().waiters_dropped, static_cast<uint64_t>(extra));
  EXPECT_EQ(Release(kA, B(1), 20).sent.size(), kWaitersPerResourceMax);
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
