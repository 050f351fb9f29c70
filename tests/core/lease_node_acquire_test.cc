// Tests for acquiring through lib/core/lease_node.h (DESIGN.md rules 1, 2, 4, 5):
// one round trip for a voter in a 3-voter cluster, majorities of distinct
// voters, the attempt deadline, contention answered by the release notice, and
// the Release of partial or late accepts. Messages are delivered by hand.
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
using harness::FromNode;
using harness::Is;
using harness::OfKind;
using harness::OfKindTo;
using harness::TimedEvent;
using harness::ToNode;
using ::testing::HasSubstr;

constexpr int64_t kD = 5'000'000;
constexpr int64_t kWait = 20'000'000;

// The single event of `request` on `node`, which must be a grant.
TimedEvent ExpectGranted(Cluster& c, NodeId node, uint64_t request) {
  const std::vector<TimedEvent> events = c.EventsOf(node, request);
  EXPECT_EQ(events.size(), 1u);
  if (events.empty()) return {};
  EXPECT_EQ(events[0].event.kind, LeaseEvent::Kind::kGranted) << events[0].event.status;
  EXPECT_TRUE(c.IsHolding(node, request));
  return events[0];
}

// v2 (voter 1) holds "r" with voter 2's accept only: its acquire to v1 (voter 0) is lost.
// Then a millisecond passes, so that a later ballot is above v2's (HLC values of two nodes
// may tie). Returns v2's request.
uint64_t HoldAtV2WithoutV1(Cluster& c) {
  const NodeId v1 = c.voter(0), v2 = c.voter(1);
  absl::StatusOr<uint64_t> holder = c.Acquire(v2, "r", kD, 0);
  EXPECT_TRUE(holder.ok());
  c.Drop(ToNode(v1));
  c.DeliverAll();
  ExpectGranted(c, v2, *holder);
  c.Advance(1'000);
  return *holder;
}

TEST(LeaseNodeAcquire, AVoterNeedsOneRemoteAcceptInAThreeVoterCluster) {
  Cluster c(3);
  const NodeId a = c.voter(0), b = c.voter(1), d = c.voter(2);
  const int64_t t0 = c.now_us();
  absl::StatusOr<uint64_t> id = c.Acquire(a, "r", kD, kWait);
  ASSERT_TRUE(id.ok()) << id.status();
  // Exactly two messages leave: the acquire to each other voter.
  ASSERT_EQ(c.last().messages.size(), 2u);
  EXPECT_TRUE(c.last().events.empty());
  EXPECT_EQ(c.last().messages[0].to, b);
  EXPECT_EQ(c.last().messages[1].to, d);
  const AcquireMsg sent = As<AcquireMsg>(c.last().messages[0]);
  EXPECT_EQ(As<AcquireMsg>(c.last().messages[1]), sent);
  EXPECT_EQ(sent.resource, "r");
  EXPECT_EQ(sent.owner, (Owner{a, 1, *id}));
  EXPECT_EQ(sent.duration_us, kD);
  EXPECT_EQ(BallotPhysicalMs(sent.ballot), c.now(a).wall_ms);  // b = HLC now
  EXPECT_EQ(c.node(a).stats().messages_out, 2u);

  c.Advance(3'000);                   // the round trip takes 3 ms
  ASSERT_TRUE(c.Deliver(ToNode(b)));  // b accepts
  ASSERT_TRUE(c.Deliver(ToNode(a)));  // its accept reaches a: a majority with a's own
  const TimedEvent granted = ExpectGranted(c, a, *id);
  EXPECT_EQ(granted.event.token, sent.ballot);
  // Rule 4: the deadline counts from t0, before the first message left.
  EXPECT_EQ(granted.event.deadline_us, t0 + c.config(a).HolderDurationUs(kD));
  EXPECT_EQ(c.Pending(), 1u);  // the acquire to d was not needed

  // d's late accept of the granted ballot changes nothing and frees nothing.
  c.DeliverAll();
  EXPECT_EQ(c.events(a).size(), 1u);
  EXPECT_EQ(c.node(a).proposer().stats().stale_accepts_released, 0u);
  Voter::LeaseView view;
  ASSERT_TRUE(c.node(d).voter()->FindLive("r", c.now(d), &view));
  EXPECT_EQ(view.ballot, sent.ballot);
}

TEST(LeaseNodeAcquire, TheUnsafeNoClockMarginSwitchTrustsTheFullDuration) {
  Cluster::Options options;
  options.tweak = [](LeaseConfig& config) {
    config.unsafe.no_clock_margin = true;
    config.allow_unsafe = true;
  };
  Cluster c(options);
  const int64_t t0 = c.now_us();
  absl::StatusOr<uint64_t> id = c.Acquire(c.voter(0), "r", kD, kWait);
  c.DeliverAll();
  EXPECT_EQ(ExpectGranted(c, c.voter(0), *id).event.deadline_us, t0 + kD);
}

TEST(LeaseNodeAcquire, ANonVoterNeedsTwoRemoteAccepts) {
  Cluster c(3, 1);
  const NodeId n = c.non_voter(0);
  const int64_t t0 = c.now_us();
  absl::StatusOr<uint64_t> id = c.Acquire(n, "r", kD, kWait);
  ASSERT_TRUE(id.ok());
  ASSERT_EQ(c.last().messages.size(), 3u);
  EXPECT_EQ(c.Pending(OfKind<AcquireMsg>()), 3u);
  c.Deliver(ToNode(c.voter(0)));
  c.Deliver(ToNode(n));
  EXPECT_TRUE(c.events(n).empty());
  c.Advance(1'000);
  c.Deliver(ToNode(c.voter(1)));
  c.Deliver(ToNode(n));
  const TimedEvent granted = ExpectGranted(c, n, *id);
  EXPECT_EQ(granted.event.deadline_us, t0 + c.config(n).HolderDurationUs(kD));
}

TEST(LeaseNodeAcquire, AVoterNeedsTwoRemoteAcceptsInAFiveVoterCluster) {
  Cluster c(5);
  const NodeId a = c.voter(0);
  absl::StatusOr<uint64_t> id = c.Acquire(a, "r", kD, kWait);
  ASSERT_EQ(c.last().messages.size(), 4u);
  c.Deliver(ToNode(c.voter(3)));
  c.Deliver(ToNode(a));
  EXPECT_TRUE(c.events(a).empty());
  // Two voters stay silent; a majority of three still forms.
  c.Drop(ToNode(c.voter(1)));
  c.Drop(ToNode(c.voter(2)));
  c.Deliver(ToNode(c.voter(4)));
  c.Deliver(ToNode(a));
  ExpectGranted(c, a, *id);
}

TEST(LeaseNodeAcquire, DuplicateAcceptsOfOneVoterAreNotAMajority) {
  Cluster c(3, 1);
  const NodeId n = c.non_voter(0);
  absl::StatusOr<uint64_t> id = c.Acquire(n, "r", kD, kWait);
  c.Deliver(ToNode(c.voter(0)));
  const std::optional<Envelope> accept = c.Take(ToNode(n));
  ASSERT_TRUE(accept && As<AcquireReplyMsg>(*accept).accepted);
  c.Inject(*accept);
  c.Inject(*accept);  // a replayed datagram
  EXPECT_TRUE(c.events(n).empty());
  c.Deliver(ToNode(c.voter(2)));
  c.Deliver(ToNode(n));
  ExpectGranted(c, n, *id);
}

TEST(LeaseNodeAcquire, AcceptsAfterTheAttemptDeadlineDoNotGrant) {
  Cluster c(3, 1);
  const NodeId n = c.non_voter(0);
  const int64_t t0 = c.now_us();
  absl::StatusOr<uint64_t> id = c.Acquire(n, "r", kD, kWait);
  const Ballot ballot = As<AcquireMsg>(c.last().messages[0]).ballot;
  c.Deliver(ToNode(c.voter(0)));
  c.Deliver(ToNode(c.voter(1)));
  c.Drop(ToNode(c.voter(2)));
  // The accepts arrive once the attempt is over (a slow network).
  c.AdvanceTo(t0 + c.config(n).attempt_timeout_us);
  EXPECT_EQ(c.DeliverAll(ToNode(n)), 2);
  EXPECT_TRUE(c.events(n).empty());
  EXPECT_FALSE(c.IsHolding(n, *id));
  // Rule 5: the failed attempt frees what it got, until confirmed, and keeps its place in the
  // voters' queues (it will retry).
  c.Tick(n);
  ASSERT_EQ(c.last().messages.size(), 2u);
  for (const Envelope& m : c.last().messages) {
    ASSERT_TRUE(Is<ReleaseMsg>(m));
    EXPECT_EQ(As<ReleaseMsg>(m), (ReleaseMsg{"r", ballot, Owner{n, 1, *id}, true, true}));
  }
  EXPECT_EQ(c.last().messages[0].to, c.voter(0));
  EXPECT_EQ(c.last().messages[1].to, c.voter(1));
  c.DeliverAll(OfKind<ReleaseMsg>());
  Voter::LeaseView view;
  EXPECT_FALSE(c.node(c.voter(0)).voter()->FindLive("r", c.now(c.voter(0)), &view));
  // It tries again later and wins.
  c.RunFor(c.config(n).backoff_us_max);
  EXPECT_TRUE(c.IsHolding(n, *id));
}

TEST(LeaseNodeAcquire, UnansweredAcquiresAreResentToTheSilentVotersOnly) {
  Cluster c(3, 1);
  const NodeId n = c.non_voter(0);
  const int64_t t0 = c.now_us();
  absl::StatusOr<uint64_t> id = c.Acquire(n, "r", kD, kWait);
  const Ballot ballot = As<AcquireMsg>(c.last().messages[0]).ballot;
  c.Deliver(ToNode(c.voter(0)));
  c.Deliver(ToNode(n));
  c.Drop();
  EXPECT_EQ(c.node(n).NextTickUs(), t0 + c.config(n).retransmit_us);
  c.AdvanceTo(t0 + c.config(n).retransmit_us);
  c.Tick(n);
  // Only one voter heard lately, not a majority: the silent ones get a probe, not the
  // acquire (an accept whose answer cannot reach us would block everyone), and the acquire
  // follows each answer.
  ASSERT_EQ(c.last().messages.size(), 2u);
  EXPECT_EQ(c.last().messages[0].to, c.voter(1));
  EXPECT_EQ(c.last().messages[1].to, c.voter(2));
  EXPECT_EQ(As<ReleaseMsg>(c.last().messages[0]).ballot, kProbeBallot);
  c.DeliverAll(OfKind<ReleaseMsg>());
  c.Deliver(ToNode(n));
  ASSERT_EQ(c.last().messages.size(), 1u);
  EXPECT_EQ(c.last().messages[0].to, c.voter(1));
  EXPECT_EQ(As<AcquireMsg>(c.last().messages[0]).ballot, ballot);  // the same attempt
  EXPECT_EQ(c.node(n).proposer().stats().probes, 2u);
  c.DeliverAll();
  const TimedEvent granted = ExpectGranted(c, n, *id);
  EXPECT_EQ(granted.event.deadline_us, t0 + c.config(n).HolderDurationUs(kD));
}

TEST(LeaseNodeAcquire, AContendedWaiterGetsTheLeaseOnTheReleaseNotice) {
  Cluster c(3);
  const NodeId a = c.voter(0), b = c.voter(1);
  absl::StatusOr<uint64_t> first = c.Acquire(a, "r", kD, 0);
  c.DeliverAll();
  const TimedEvent held = ExpectGranted(c, a, *first);

  c.Advance(1'000);
  absl::StatusOr<uint64_t> second = c.Acquire(b, "r", kD, kWait);
  c.DeliverAll();
  EXPECT_TRUE(c.events(b).empty());
  EXPECT_EQ(c.node(b).proposer().stats().failed_attempts, 1u);
  // No polling: b's only timer covers a lost notice, after the holder's time.
  EXPECT_GE(c.node(b).NextTickUs(), held.at_us + kD);
  const std::size_t sent_by_b = c.CountSent(FromNode(b));
  c.RunFor(2'000'000);
  EXPECT_EQ(c.CountSent(FromNode(b)), sent_by_b);
  EXPECT_TRUE(c.events(b).empty());

  const int64_t released_at = c.now_us();
  ASSERT_TRUE(c.Release(a, *first).ok());
  c.DeliverAll();
  c.RunFor(100'000);
  const TimedEvent granted = ExpectGranted(c, b, *second);
  EXPECT_LE(granted.at_us - released_at, c.config(b).notice_jitter_us);
  EXPECT_GT(granted.event.token, held.event.token);
  EXPECT_EQ(c.node(b).proposer().stats().attempts, 2u);
}

// Rule 10: waiters queue by ticket. On release the voters name only the oldest waiter,
// which retries at once (no jitter: granted within one round trip of the notices); the
// later waiter and the holder's own next request send nothing until named in turn.
TEST(LeaseNodeAcquire, OnReleaseOnlyTheOldestWaiterIsNamedAndItRetriesAtOnce) {
  Cluster c(3, 1);
  const NodeId a = c.voter(0), b = c.voter(1), d = c.non_voter(0);
  absl::StatusOr<uint64_t> first = c.Acquire(a, "r", kD, 0);
  c.DeliverAll();
  ExpectGranted(c, a, *first);
  c.Advance(1'000);
  absl::StatusOr<uint64_t> older = c.Acquire(d, "r", kD, kWait);
  c.DeliverAll();
  c.Advance(1'000);
  absl::StatusOr<uint64_t> younger = c.Acquire(b, "r", kD, kWait);
  c.DeliverAll();
  // The holder's node has a next request queued behind its holding one.
  absl::StatusOr<uint64_t> a_next = c.Acquire(a, "r", kD, kWait);
  c.DeliverAll();
  c.Advance(1'000);

  auto acquires_by_b = [b](const Envelope& e) { return e.from == b && Is<AcquireMsg>(e); };
  const std::size_t asked_by_b = c.CountSent(acquires_by_b);
  ASSERT_TRUE(c.Release(a, *first).ok());
  c.DeliverAll();  // no time passes
  ExpectGranted(c, d, *older);
  EXPECT_EQ(c.CountSent(OfKindTo<ReleaseNoticeMsg>(b)), 0u);
  EXPECT_EQ(c.CountSent(acquires_by_b), asked_by_b);
  EXPECT_TRUE(c.events(b).empty());
  EXPECT_TRUE(c.EventsOf(a, *a_next).empty());  // parked like anyone's: its ticket is later
  EXPECT_EQ(c.node(d).proposer().stats().failed_attempts, 1u);

  ASSERT_TRUE(c.Release(d, *older).ok());
  c.DeliverAll();
  ExpectGranted(c, b, *younger);
  EXPECT_TRUE(c.EventsOf(a, *a_next).empty());
  ASSERT_TRUE(c.Release(b, *younger).ok());
  c.DeliverAll();
  ExpectGranted(c, a, *a_next);
}

TEST(LeaseNodeAcquire, TryAcquireOfAHeldResourceIsAborted) {
  Cluster c(3);
  const NodeId a = c.voter(0), b = c.voter(1);
  absl::StatusOr<uint64_t> first = c.Acquire(a, "r", kD, 0);
  c.DeliverAll();
  absl::StatusOr<uint64_t> second = c.Acquire(b, "r", kD, /*wait_us=*/0);
  c.DeliverAll();
  const std::vector<TimedEvent> events = c.EventsOf(b, *second);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].event.kind, LeaseEvent::Kind::kFailed);
  EXPECT_EQ(events[0].event.status.code(), absl::StatusCode::kAborted) << events[0].event.status;
  EXPECT_THAT(events[0].event.status.message(), HasSubstr("held"));
  EXPECT_EQ(c.node(b).proposer().open_requests(), 0u);
  // One attempt and no more.
  c.RunFor(2 * kD);
  EXPECT_EQ(c.CountSent(OfKind<AcquireMsg>()), 4u);
}

// Callers of one node trying a held resource in a loop: the try after a refused one waits out
// a short spacing (no acquire leaves at once), then asks like any try; a grant forgets it.
TEST(LeaseNodeAcquire, ATryAfterARefusedTryWaitsOutTheSpacing) {
  Cluster c(3);
  const NodeId a = c.voter(0), b = c.voter(1);
  absl::StatusOr<uint64_t> holder = c.Acquire(a, "r", kD, kWait);
  c.DeliverAll();
  ExpectGranted(c, a, *holder);
  absl::StatusOr<uint64_t> refused = c.Acquire(b, "r", kD, /*wait_us=*/0);
  c.DeliverAll();
  std::optional<TimedEvent> failed = c.LastEventOf(b, *refused);
  ASSERT_TRUE(failed.has_value());
  EXPECT_EQ(failed->event.status.code(), absl::StatusCode::kAborted) << failed->event.status;

  const std::size_t asked = c.CountSent(OfKind<AcquireMsg>());
  absl::StatusOr<uint64_t> spaced = c.Acquire(b, "r", kD, /*wait_us=*/0);
  ASSERT_TRUE(spaced.ok());
  c.DeliverAll();
  EXPECT_EQ(c.CountSent(OfKind<AcquireMsg>()), asked);  // nothing asked yet
  EXPECT_TRUE(c.EventsOf(b, *spaced).empty());
  EXPECT_EQ(c.node(b).proposer().stats().tries_spaced, 1u);

  // The holder lets go; the spaced try asks when its spacing ends (within the backoff
  // ceiling) and gets the lease.
  ASSERT_TRUE(c.Release(a, *holder).ok());
  c.DeliverAll();
  std::optional<TimedEvent> granted =
      c.RunUntilEventOf(b, *spaced, c.now_us() + c.config(b).backoff_us_max);
  ASSERT_TRUE(granted.has_value());
  EXPECT_EQ(granted->event.kind, LeaseEvent::Kind::kGranted) << granted->event.status;
  EXPECT_GT(c.CountSent(OfKind<AcquireMsg>()), asked);

  // Granted: the next try of it from this node is not held back.
  ASSERT_TRUE(c.Release(b, *spaced).ok());
  c.DeliverAll();
  absl::StatusOr<uint64_t> next = c.Acquire(b, "r", kD, /*wait_us=*/0);
  c.DeliverAll();
  ExpectGranted(c, b, *next);
  EXPECT_EQ(c.node(b).proposer().stats().tries_spaced, 1u);
}

// Silent voters are not contention: a wait that runs out because no majority answered ends
// Unavailable, so a caller (and the runtime's circuit breaker) can tell the two apart.
TEST(LeaseNodeAcquire, AWaitThatRunsOutWithoutAQuorumEndsUnavailable) {
  Cluster c(3);
  const NodeId a = c.voter(0), b = c.voter(1), d = c.voter(2);
  absl::StatusOr<uint64_t> request = c.Acquire(a, "r", kD, /*wait_us=*/1'500'000);
  ASSERT_TRUE(request.ok());
  for (int i = 0; i < 400 && c.EventsOf(a, *request).empty(); ++i) {
    c.Drop([&](const Envelope& e) { return e.to == b || e.to == d; });
    c.DeliverAll();
    c.Advance(10'000);
    c.TickDue();
  }
  const std::vector<TimedEvent> events = c.EventsOf(a, *request);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].event.kind, LeaseEvent::Kind::kFailed);
  EXPECT_EQ(events[0].event.status.code(), absl::StatusCode::kUnavailable)
      << events[0].event.status;
  EXPECT_THAT(events[0].event.status.message(), HasSubstr("wait limit"));
}

TEST(LeaseNodeAcquire, TheWaitLimitEndsARequestWithDeadlineExceeded) {
  Cluster c(3);
  const NodeId a = c.voter(0), b = c.voter(1);
  absl::StatusOr<uint64_t> first = c.Acquire(a, "r", kD, 0);
  c.DeliverAll();
  const int64_t asked_at = c.now_us();
  absl::StatusOr<uint64_t> second = c.Acquire(b, "r", kD, /*wait_us=*/2'000'000);
  c.RunFor(3'000'000);
  const std::vector<TimedEvent> events = c.EventsOf(b, *second);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].at_us, asked_at + 2'000'000);
  EXPECT_EQ(events[0].event.kind, LeaseEvent::Kind::kFailed);
  EXPECT_EQ(events[0].event.status.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(events[0].event.status.message(), HasSubstr("wait limit"));
  EXPECT_EQ(c.node(b).proposer().open_requests(), 0u);
  EXPECT_TRUE(c.IsHolding(a, *first));
}

TEST(LeaseNodeAcquire, AFailedAttemptReleasesItsPartialAccepts) {
  Cluster c(3, 1);
  const NodeId v1 = c.voter(0), v2 = c.voter(1), n = c.non_voter(0);
  const uint64_t holder = HoldAtV2WithoutV1(c);
  // n gets v1's accept and two refusals: a majority is impossible.
  absl::StatusOr<uint64_t> id = c.Acquire(n, "r", kD, kWait);
  const Ballot ballot = As<AcquireMsg>(c.last().messages[0]).ballot;
  c.DeliverAll(OfKind<AcquireMsg>());
  ASSERT_EQ(c.Pending(ToNode(n)), 3u);
  EXPECT_TRUE(As<AcquireReplyMsg>(c.network()[0]).accepted);
  EXPECT_EQ(As<AcquireReplyMsg>(c.network()[1]).reason, RefuseReason::kHeld);
  c.Deliver(ToNode(n));
  c.Deliver(ToNode(n));
  EXPECT_TRUE(c.last().messages.empty());  // a majority is still possible
  c.Deliver(ToNode(n));
  ASSERT_EQ(c.last().messages.size(), 1u);
  const Envelope& release = c.last().messages[0];
  EXPECT_EQ(release.to, v1);
  ASSERT_TRUE(Is<ReleaseMsg>(release));
  EXPECT_EQ(As<ReleaseMsg>(release), (ReleaseMsg{"r", ballot, Owner{n, 1, *id}, true, true}));
  c.DeliverAll();
  Voter::LeaseView view;
  EXPECT_FALSE(c.node(v1).voter()->FindLive("r", c.now(v1), &view));
  EXPECT_TRUE(c.IsHolding(v2, holder));
  // v1 confirmed: nothing is sent again.
  c.Advance(c.config(n).retransmit_us);
  c.Tick(n);
  EXPECT_EQ(c.CountSent(OfKind<ReleaseMsg>()), 1u);
}

// An accept whose reply was lost: the proposer does not know it has it, so once the request
// gives it up it releases every voter that did not refuse, and sends again until each
// confirms. Before, only the accepts whose replies arrived were released, once: this one
// would have blocked the resource at v1 for the whole lease duration. While the request is
// parked behind the holder, v1 may still answer (its accept then counts at release), so
// nothing goes to v1 until the request moves on.
TEST(LeaseNodeAcquire, AFailedAttemptsReleaseIsResentUntilConfirmed) {
  Cluster c(3, 1);
  const NodeId v1 = c.voter(0), n = c.non_voter(0);
  HoldAtV2WithoutV1(c);
  absl::StatusOr<uint64_t> id = c.Acquire(n, "r", kD, kWait);
  c.DeliverAll(OfKind<AcquireMsg>());
  ASSERT_TRUE(c.Take([&](const Envelope& e) { return e.from == v1 && e.to == n; }).has_value());
  c.DeliverAll(ToNode(n));  // two refusals: a majority is impossible
  EXPECT_EQ(c.node(n).proposer().stats().failed_attempts, 1u);
  Voter::LeaseView view;
  ASSERT_TRUE(c.node(v1).voter()->FindLive("r", c.now(v1), &view));
  EXPECT_EQ(view.owner, (Owner{n, 1, *id}));
  // Parked: v1's answer may still come, and counts if it does.
  c.Advance(c.config(n).retransmit_us);
  c.Tick(n);
  EXPECT_EQ(c.Pending(OfKindTo<ReleaseMsg>(v1)), 0u);
  // The caller gives up: v1 is released once a resend interval passes without its answer.
  ASSERT_TRUE(c.Release(n, *id).ok());
  EXPECT_EQ(c.Pending(OfKindTo<ReleaseMsg>(v1)), 0u);
  c.Advance(c.config(n).retransmit_us);
  c.Tick(n);
  // That release is lost too, and sent again.
  EXPECT_EQ(c.Drop(OfKindTo<ReleaseMsg>(v1)), 1);
  c.Advance(c.config(n).retransmit_us);
  c.Tick(n);
  EXPECT_EQ(c.Pending(OfKindTo<ReleaseMsg>(v1)), 1u);
  EXPECT_EQ(c.node(n).proposer().stats().releases_resent, 2u);
  c.DeliverAll();
  EXPECT_FALSE(c.node(v1).voter()->FindLive("r", c.now(v1), &view));
  c.Advance(c.config(n).retransmit_us);
  c.Tick(n);
  EXPECT_EQ(c.Pending(OfKind<ReleaseMsg>()), 0u);
}

// An acquire that reaches a voter after its owner released the ballot there, and whose
// accept is lost on the way back, leaves an accept its proposer does not know it has. The
// voter's refusal of the proposer's next ask names it, and the proposer clears it.
TEST(LeaseNodeAcquire, ARefusalNamingAnAcceptWeDidNotKnowOfClearsIt) {
  Cluster c(3, 1);
  const NodeId v1 = c.voter(0), n = c.non_voter(0);
  absl::StatusOr<uint64_t> first = c.Acquire(n, "r", kD, kWait);
  const std::optional<Envelope> slow = c.Take(OfKindTo<AcquireMsg>(v1));
  ASSERT_TRUE(slow.has_value());
  c.Drop();
  ASSERT_TRUE(c.Release(n, *first).ok());  // cancelled; its releases are confirmed
  c.DeliverAll();
  c.Inject(*slow);  // v1 had no entry for "r": it accepts
  ASSERT_EQ(c.Drop(ToNode(n)), 1);
  Voter::LeaseView view;
  ASSERT_TRUE(c.node(v1).voter()->FindLive("r", c.now(v1), &view));

  c.Advance(1'000);
  absl::StatusOr<uint64_t> second = c.Acquire(n, "r", kD, kWait);
  c.DeliverAll();
  EXPECT_FALSE(c.node(v1).voter()->FindLive("r", c.now(v1), &view) &&
               view.owner == (Owner{n, 1, *first}));
  EXPECT_EQ(c.node(n).proposer().stats().orphans_released, 1u);
  ExpectGranted(c, n, *second);
}

TEST(LeaseNodeAcquire, ALateAcceptOfAnAbandonedBallotIsReleased) {
  Cluster c(3, 1);
  const NodeId v1 = c.voter(0), n = c.non_voter(0);
  const int64_t t0 = c.now_us();
  absl::StatusOr<uint64_t> id = c.Acquire(n, "r", kD, kWait);
  const Ballot ballot = As<AcquireMsg>(c.last().messages[0]).ballot;
  c.Deliver(ToNode(v1));
  const std::optional<Envelope> late = c.Take(ToNode(n));
  ASSERT_TRUE(late.has_value());
  c.Drop();
  c.AdvanceTo(t0 + c.config(n).attempt_timeout_us);
  c.Tick(n);                               // the attempt gives up with nothing accepted
  EXPECT_TRUE(c.last().messages.empty());  // the silent voters may still answer
  EXPECT_EQ(c.node(n).proposer().stats().failed_attempts, 1u);

  c.Inject(*late);
  ASSERT_EQ(c.last().messages.size(), 1u);
  EXPECT_EQ(c.last().messages[0].to, v1);
  // The request still waits: v1 keeps it in line (still_waiting).
  EXPECT_EQ(As<ReleaseMsg>(c.last().messages[0]),
            (ReleaseMsg{"r", ballot, Owner{n, 1, *id}, true, true}));
  EXPECT_EQ(c.node(n).proposer().stats().stale_accepts_released, 1u);
  c.Deliver(OfKindTo<ReleaseMsg>(v1));
  Voter::LeaseView view;
  EXPECT_FALSE(c.node(v1).voter()->FindLive("r", c.now(v1), &view));
}

TEST(LeaseNodeAcquire, AStaleBallotCatchesUpAndTheTryAcquireWins) {
  Cluster c(3, 1);
  const NodeId v3 = c.voter(2), n = c.non_voter(0);
  // v3's wall clock runs 10 s ahead; its released lease leaves the voters'
  // floors above anything n's clock would pick.
  c.SetWallOffsetMs(v3, 10'000);
  absl::StatusOr<uint64_t> earlier = c.Acquire(v3, "x", kD, 0);
  c.DeliverAll();
  const Ballot earlier_token = ExpectGranted(c, v3, *earlier).event.token;
  ASSERT_TRUE(c.Release(v3, *earlier).ok());
  c.DeliverAll();

  absl::StatusOr<uint64_t> id = c.Acquire(n, "r", kD, /*wait_us=*/0);
  EXPECT_LT(As<AcquireMsg>(c.last().messages[0]).ballot, earlier_token);
  c.DeliverAll();
  const TimedEvent granted = ExpectGranted(c, n, *id);
  EXPECT_GT(granted.event.token, earlier_token);
  EXPECT_EQ(c.node(n).proposer().stats().attempts, 2u);
}

// Decide early: membership says voter d is down, and voter b refuses (b holds the lease).
// With one accept (a's own voter) and d silent, a majority is out of reach: the attempt ends
// at once, instead of at its deadline with the resource blocked by its accept until then.
TEST(LeaseNodeAcquire, AnAttemptThatCannotReachAMajorityEndsAtOnce) {
  Cluster c(3);
  const NodeId a = c.voter(0), b = c.voter(1), d = c.voter(2);
  absl::StatusOr<uint64_t> held = c.Acquire(b, "r", kD, 0);
  c.Drop(ToNode(a));
  c.DeliverAll();
  ExpectGranted(c, b, *held);

  c.node(a).SetLivenessHint([d](NodeId v) { return v != d; });
  c.Advance(1'000);
  absl::StatusOr<uint64_t> id = c.Acquire(a, "r", kD, kWait);
  c.Drop(ToNode(d));
  c.DeliverAll(ToNode(b));
  c.DeliverAll(ToNode(a));  // b's refusal; no time passes
  EXPECT_EQ(c.node(a).proposer().stats().failed_attempts, 1u);
  EXPECT_EQ(c.node(a).proposer().stats().attempts_ended_early, 1u);
  Voter::LeaseView view;
  EXPECT_FALSE(c.node(a).voter()->FindLive("r", c.now(a), &view));  // its accept is freed
  EXPECT_TRUE(c.events(a).empty());
}

// Without a liveness hint a silent voter may still accept: the attempt waits for it.
TEST(LeaseNodeAcquire, WithoutAHintASilentVoterStillCounts) {
  Cluster c(3);
  const NodeId a = c.voter(0), b = c.voter(1), d = c.voter(2);
  absl::StatusOr<uint64_t> held = c.Acquire(b, "r", kD, 0);
  c.Drop(ToNode(a));
  c.DeliverAll();
  ExpectGranted(c, b, *held);
  c.Advance(1'000);
  ASSERT_TRUE(c.Acquire(a, "r", kD, kWait).ok());
  c.Drop(ToNode(d));
  c.DeliverAll(ToNode(b));
  c.DeliverAll(ToNode(a));
  EXPECT_EQ(c.node(a).proposer().stats().failed_attempts, 0u);
}

// Unanswered acquires are resent after a few measured round trips (here 2 ms), not after
// the configured ceiling (retransmit_us, 200 ms), so a lost message costs milliseconds.
TEST(LeaseNodeAcquire, ResendsFollowTheMeasuredRoundTrip) {
  Cluster c(3, 1);
  const NodeId n = c.non_voter(0);
  absl::StatusOr<uint64_t> first = c.Acquire(n, "r", kD, kWait);
  c.Advance(1'000);
  c.DeliverAll(OfKind<AcquireMsg>());
  c.Advance(1'000);
  c.DeliverAll();
  ExpectGranted(c, n, *first);
  EXPECT_EQ(c.node(n).proposer().stats().round_trip_us, 2'000);
  ASSERT_TRUE(c.Release(n, *first).ok());
  c.DeliverAll();

  ASSERT_TRUE(c.Acquire(n, "s", kD, kWait).ok());
  EXPECT_EQ(c.Drop(OfKind<AcquireMsg>()), 3);
  c.Advance(10'000);
  c.Tick(n);
  // Resent (as probes: no voter answered, so none is heard lately).
  EXPECT_EQ(c.Pending(OfKind<ReleaseMsg>()), 3u);
  EXPECT_LT(10'000, c.config(n).retransmit_us);
}

}  // namespace
}  // namespace lockmesh::core
