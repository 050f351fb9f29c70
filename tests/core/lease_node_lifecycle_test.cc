// Tests for the life of a held lease through lib/core/lease_node.h (DESIGN.md
// rules 6 and 7): renewal with and without a majority, expiry at the deadline,
// release, cancelling a request, and the per-resource local queue.
#include <cstdint>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/core/lease_node.h"
#include "tests/core/cluster_harness.h"

namespace lockmesh::core {
namespace {

using harness::As;
using harness::Cluster;
using harness::OfKind;
using harness::TimedEvent;
using harness::ToNode;
using ::testing::HasSubstr;

constexpr int64_t kD = 5'000'000;
constexpr int64_t kWait = 20'000'000;

// Acquires "r" on `node` with every message delivered; returns the grant.
TimedEvent Hold(Cluster& c, NodeId node, uint64_t* request) {
  absl::StatusOr<uint64_t> id = c.Acquire(node, "r", kD, kWait);
  EXPECT_TRUE(id.ok()) << id.status();
  *request = id.value_or(0);
  c.DeliverAll();
  std::optional<TimedEvent> last = c.LastEventOf(node, *request);
  EXPECT_TRUE(last && last->event.kind == LeaseEvent::Kind::kGranted);
  return last.value_or(TimedEvent{});
}

bool VoterHolds(Cluster& c, NodeId voter, int64_t* until_us = nullptr) {
  Voter::LeaseView view;
  if (!c.node(voter).voter()->FindLive("r", c.now(voter), &view)) return false;
  if (until_us != nullptr) *until_us = view.until_us;
  return true;
}

TEST(LeaseNodeLifecycle, RenewWithAMajorityMovesTheDeadlineAndKeepsTheToken) {
  Cluster c(3);
  const NodeId a = c.voter(0), b = c.voter(1);
  uint64_t id = 0;
  const TimedEvent granted = Hold(c, a, &id);
  c.Advance(2'000'000);
  const int64_t t1 = c.now_us();
  ASSERT_TRUE(c.Renew(a, id).ok());
  ASSERT_EQ(c.last().messages.size(), 2u);
  const RenewMsg sent = As<RenewMsg>(c.last().messages[0]);
  EXPECT_EQ(sent.token, granted.event.token);
  EXPECT_EQ(sent.owner, (Owner{a, 1, id}));
  EXPECT_EQ(sent.duration_us, kD);  // 0 asks for the acquired duration
  c.Advance(2'000);
  c.DeliverAll();
  const std::optional<TimedEvent> renewed = c.LastEventOf(a, id);
  ASSERT_TRUE(renewed.has_value());
  EXPECT_EQ(renewed->event.kind, LeaseEvent::Kind::kRenewed);
  EXPECT_EQ(renewed->event.token, granted.event.token);
  // Rule 6: from t1, read before the renewal left.
  EXPECT_EQ(renewed->event.deadline_us, t1 + c.config(a).HolderDurationUs(kD));
  ASSERT_EQ(c.node(a).Holdings(c.now(a)).size(), 1u);
  EXPECT_EQ(c.node(a).Holdings(c.now(a))[0].deadline_us, renewed->event.deadline_us);
  EXPECT_EQ(c.node(a).Holdings(c.now(a))[0].token, granted.event.token);
  int64_t until = 0;
  ASSERT_TRUE(VoterHolds(c, b, &until));
  EXPECT_EQ(until, t1 + 2'000 + kD);
}

TEST(LeaseNodeLifecycle, RenewForANewDuration) {
  Cluster c(3);
  const NodeId a = c.voter(0);
  uint64_t id = 0;
  Hold(c, a, &id);
  const int64_t t1 = c.now_us();
  ASSERT_TRUE(c.Renew(a, id, 10'000'000).ok());
  EXPECT_EQ(As<RenewMsg>(c.last().messages[0]).duration_us, 10'000'000);
  c.DeliverAll();
  EXPECT_EQ(c.LastEventOf(a, id)->event.deadline_us, t1 + c.config(a).HolderDurationUs(10'000'000));
}

TEST(LeaseNodeLifecycle, RenewRefusedByAMajorityKeepsTheOldDeadline) {
  Cluster c(3);
  const NodeId a = c.voter(0), b = c.voter(1), d = c.voter(2);
  // a holds with b's accept only; then b's record is cleared by a replayed release.
  absl::StatusOr<uint64_t> id = c.Acquire(a, "r", kD, 0);
  c.Drop(ToNode(d));
  c.DeliverAll();
  const TimedEvent granted = *c.LastEventOf(a, *id);
  ASSERT_EQ(granted.event.kind, LeaseEvent::Kind::kGranted);
  c.Inject(Envelope{a, 1, b, c.node(a).hlc() + 1, c.config(a).VoterSetHash(),
                    ReleaseMsg{"r", granted.event.token, Owner{a, 1, *id}}});
  ASSERT_FALSE(VoterHolds(c, b));

  c.Advance(1'000'000);
  ASSERT_TRUE(c.Renew(a, *id).ok());
  c.DeliverAll();
  const std::optional<TimedEvent> failed = c.LastEventOf(a, *id);
  ASSERT_TRUE(failed.has_value());
  EXPECT_EQ(failed->event.kind, LeaseEvent::Kind::kRenewFailed);
  EXPECT_EQ(failed->event.deadline_us, granted.event.deadline_us);
  EXPECT_EQ(c.node(a).proposer().stats().renewals_failed, 1u);
  EXPECT_TRUE(c.IsHolding(a, *id));  // until the old deadline, and not after
  c.RunUntil(granted.event.deadline_us);
  EXPECT_EQ(c.LastEventOf(a, *id)->event.kind, LeaseEvent::Kind::kExpired);
}

TEST(LeaseNodeLifecycle, AnUnansweredRenewalIsResentThenFailsAtItsTimeout) {
  Cluster c(3);
  const NodeId a = c.voter(0);
  uint64_t id = 0;
  const TimedEvent granted = Hold(c, a, &id);
  const int64_t t1 = c.now_us();
  ASSERT_TRUE(c.Renew(a, id).ok());
  const uint32_t round = As<RenewMsg>(c.last().messages[0]).round;
  EXPECT_TRUE(c.Renew(a, id).ok());  // the renewal in flight answers for both
  EXPECT_TRUE(c.last().messages.empty());
  c.Drop();
  c.AdvanceTo(t1 + c.config(a).retransmit_us);
  c.Tick(a);
  ASSERT_EQ(c.last().messages.size(), 2u);  // only the remote voters had not answered
  EXPECT_EQ(As<RenewMsg>(c.last().messages[1]).round, round);
  c.Drop();
  c.AdvanceTo(t1 + c.config(a).attempt_timeout_us);
  c.Tick(a);
  const std::optional<TimedEvent> failed = c.LastEventOf(a, id);
  EXPECT_EQ(failed->event.kind, LeaseEvent::Kind::kRenewFailed);
  EXPECT_EQ(failed->event.deadline_us, granted.event.deadline_us);
}

TEST(LeaseNodeLifecycle, TheLeaseExpiresAtItsDeadline) {
  Cluster c(3);
  const NodeId a = c.voter(0), b = c.voter(1);
  uint64_t id = 0;
  const TimedEvent granted = Hold(c, a, &id);
  const int64_t deadline = granted.event.deadline_us;
  EXPECT_EQ(c.node(a).NextTickUs(), deadline);
  c.AdvanceTo(deadline - 1);
  c.Tick(a);
  EXPECT_TRUE(c.IsHolding(a, id));
  EXPECT_EQ(c.events(a).size(), 1u);
  c.AdvanceTo(deadline);
  EXPECT_FALSE(c.IsHolding(a, id));  // no longer trusted, even before the tick
  c.Tick(a);
  const TimedEvent expired = *c.LastEventOf(a, id);
  EXPECT_EQ(expired.event.kind, LeaseEvent::Kind::kExpired);
  EXPECT_EQ(expired.event.token, granted.event.token);
  EXPECT_EQ(expired.event.deadline_us, deadline);
  EXPECT_TRUE(c.node(a).Holdings(c.now(a)).empty());
  EXPECT_EQ(c.node(a).proposer().open_requests(), 0u);
  EXPECT_EQ(c.node(a).proposer().held_leases(), 0u);
  EXPECT_FALSE(c.Renew(a, id).ok());
  // The voters keep the lease a little longer: the clock margin.
  EXPECT_TRUE(VoterHolds(c, b));
}

TEST(LeaseNodeLifecycle, ReleaseEmitsReleasedThenFreesEveryVoter) {
  Cluster c(3);
  const NodeId a = c.voter(0), b = c.voter(1), d = c.voter(2);
  uint64_t id = 0;
  const TimedEvent granted = Hold(c, a, &id);
  ASSERT_TRUE(c.Release(a, id).ok());
  ASSERT_EQ(c.last().events.size(), 1u);
  EXPECT_EQ(c.last().events[0].kind, LeaseEvent::Kind::kReleased);
  EXPECT_EQ(c.last().events[0].token, granted.event.token);
  EXPECT_FALSE(c.IsHolding(a, id));
  ASSERT_EQ(c.last().messages.size(), 2u);
  EXPECT_EQ(c.last().messages[0].to, b);
  EXPECT_EQ(c.last().messages[1].to, d);
  for (const Envelope& m : c.last().messages) {
    EXPECT_EQ(As<ReleaseMsg>(m), (ReleaseMsg{"r", granted.event.token, Owner{a, 1, id}}));
  }
  EXPECT_FALSE(VoterHolds(c, a));  // its own voter at once
  EXPECT_TRUE(VoterHolds(c, b));
  c.DeliverAll();
  EXPECT_FALSE(VoterHolds(c, b));
  EXPECT_FALSE(VoterHolds(c, d));
  EXPECT_EQ(c.Release(a, id).code(), absl::StatusCode::kNotFound);
}

TEST(LeaseNodeLifecycle, CancellingAWaitingRequestFailsItWithCancelled) {
  Cluster c(3);
  const NodeId a = c.voter(0), b = c.voter(1);
  uint64_t first = 0;
  Hold(c, a, &first);
  absl::StatusOr<uint64_t> second = c.Acquire(b, "r", kD, kWait);
  c.DeliverAll();
  ASSERT_TRUE(c.events(b).empty());
  ASSERT_TRUE(c.Release(b, *second).ok());
  EXPECT_TRUE(c.last().messages.empty());  // nothing accepted, nothing to free
  const std::optional<TimedEvent> failed = c.LastEventOf(b, *second);
  ASSERT_TRUE(failed.has_value());
  EXPECT_EQ(failed->event.kind, LeaseEvent::Kind::kFailed);
  EXPECT_EQ(failed->event.status.code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(c.node(b).proposer().open_requests(), 0u);
  // The release notices that follow find nobody waiting.
  ASSERT_TRUE(c.Release(a, first).ok());
  c.RunFor(kD);
  EXPECT_EQ(c.events(b).size(), 1u);
}

TEST(LeaseNodeLifecycle, CancellingDuringAnAttemptReleasesEveryVoter) {
  Cluster c(3, 1);
  const NodeId n = c.non_voter(0);
  absl::StatusOr<uint64_t> id = c.Acquire(n, "r", kD, kWait);
  const Ballot ballot = As<AcquireMsg>(c.last().messages[0]).ballot;
  c.Deliver(ToNode(c.voter(0)));  // one voter already accepted
  ASSERT_TRUE(c.Release(n, *id).ok());
  EXPECT_EQ(c.LastEventOf(n, *id)->event.status.code(), absl::StatusCode::kCancelled);
  ASSERT_EQ(c.last().messages.size(), 3u);
  for (const Envelope& m : c.last().messages) {
    EXPECT_EQ(As<ReleaseMsg>(m), (ReleaseMsg{"r", ballot, Owner{n, 1, *id}, true}));
  }
  c.DeliverAll();  // acquires still in flight are accepted, then freed
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(VoterHolds(c, c.voter(i))) << i;
}

TEST(LeaseNodeLifecycle, RequestsForOneResourceOnOneNodeRunOneAfterAnother) {
  Cluster c(3);
  const NodeId a = c.voter(0);
  uint64_t first = 0;
  const TimedEvent granted = Hold(c, a, &first);
  absl::StatusOr<uint64_t> second = c.Acquire(a, "r", kD, kWait);
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(c.last().messages.empty());
  EXPECT_TRUE(c.last().events.empty());
  c.RunFor(1'000'000);
  EXPECT_EQ(c.CountSent(OfKind<AcquireMsg>()), 2u);  // the second sent nothing yet
  // Another resource is not held up.
  ASSERT_TRUE(c.Acquire(a, "s", kD, kWait).ok());
  EXPECT_EQ(c.last().messages.size(), 2u);
  c.DeliverAll();

  ASSERT_TRUE(c.Release(a, first).ok());
  c.DeliverAll();
  const std::optional<TimedEvent> next = c.LastEventOf(a, *second);
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->event.kind, LeaseEvent::Kind::kGranted);
  EXPECT_GT(next->event.token, granted.event.token);
  // One attempt: its acquire reached each voter after the release.
  EXPECT_EQ(c.node(a).proposer().stats().failed_attempts, 0u);
}

TEST(LeaseNodeLifecycle, ATryAcquireBehindALocalHolderIsRefusedAtOnce) {
  Cluster c(3);
  const NodeId a = c.voter(0);
  uint64_t first = 0;
  Hold(c, a, &first);
  // Another request of the same node holds it: a try-acquire does not queue.
  absl::StatusOr<uint64_t> second = c.Acquire(a, "r", kD, /*wait_us=*/0);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kAborted);
  // Once released, the next try-acquire wins: our Release reached each voter
  // before the new Acquire.
  ASSERT_TRUE(c.Release(a, first).ok());
  absl::StatusOr<uint64_t> third = c.Acquire(a, "r", kD, /*wait_us=*/0);
  ASSERT_TRUE(third.ok());
  c.DeliverAll();
  const std::optional<TimedEvent> next = c.LastEventOf(a, *third);
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->event.kind, LeaseEvent::Kind::kGranted) << next->event.status;
}

TEST(LeaseNodeLifecycle, AQueuedRequestCanRunOutOfTimeInTheQueue) {
  Cluster c(3);
  const NodeId a = c.voter(0);
  uint64_t first = 0;
  Hold(c, a, &first);
  const int64_t asked_at = c.now_us();
  absl::StatusOr<uint64_t> second = c.Acquire(a, "r", kD, 1'000'000);
  c.RunFor(2'000'000);
  const std::vector<TimedEvent> events = c.EventsOf(a, *second);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].at_us, asked_at + 1'000'000);
  EXPECT_EQ(events[0].event.status.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(events[0].event.status.message(), HasSubstr("queue"));
  EXPECT_TRUE(c.IsHolding(a, first));
  EXPECT_EQ(c.CountSent(OfKind<AcquireMsg>()), 2u);
}

TEST(LeaseNodeLifecycle, AnExpiredHolderReleasesSoTheQueuedRequestNeedNotWaitOutTheMargin) {
  Cluster c(3);
  const NodeId a = c.voter(0);
  uint64_t first = 0;
  const TimedEvent granted = Hold(c, a, &first);
  absl::StatusOr<uint64_t> second = c.Acquire(a, "r", kD, kWait);
  c.RunUntil(granted.event.deadline_us + 100'000);
  // At its deadline the holder stops trusting the lease and clears it at the
  // voters (exact match), so the queued request is granted at once instead of
  // after the voters' own expiry at t0 + D.
  const std::optional<TimedEvent> next = c.LastEventOf(a, *second);
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->event.kind, LeaseEvent::Kind::kGranted);
  EXPECT_GE(next->at_us, granted.event.deadline_us);
  EXPECT_LT(next->at_us, granted.at_us + kD);
}

}  // namespace
}  // namespace lockmesh::core
