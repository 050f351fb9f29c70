// Tests for progress under partial faults (docs/protocol.md, "Progress under faults"): a
// node that does not hear its voters probes instead of leaving accepts it cannot learn of,
// an attempt that cannot reach a majority from the answers and the voters heard lately ends
// at once, and attempts whose voters stay silent back the timers off, up to the configured
// attempt timeout, where they are counted (the loud signal). Messages are delivered by hand.
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "lib/core/lease_node.h"
#include "lib/core/limits.h"
#include "tests/core/cluster_harness.h"

namespace lockmesh::core {
namespace {

using harness::As;
using harness::Cluster;
using harness::Is;
using harness::kStartMonoUs;
using harness::OfKind;
using harness::OfKindTo;
using harness::ToNode;

constexpr int64_t kD = 5'000'000;
constexpr int64_t kWait = 20'000'000;

// Grants `resource` to non-voter `n` over 1 ms links, so it measures a 2 ms round trip and
// hears every voter, then releases it.
void MeasureRoundTrip(Cluster& c, NodeId n) {
  absl::StatusOr<uint64_t> id = c.Acquire(n, "warm", kD, kWait);
  ASSERT_TRUE(id.ok());
  c.Advance(1'000);
  c.DeliverAll(OfKind<AcquireMsg>());
  c.Advance(1'000);
  c.DeliverAll();
  ASSERT_TRUE(c.IsHolding(n, *id));
  ASSERT_TRUE(c.Release(n, *id).ok());
  c.DeliverAll();
}

bool AnyVoterHolds(Cluster& c, const std::string& resource) {
  for (int i = 0; i < 3; ++i) {
    Voter::LeaseView view;
    if (c.node(c.voter(i)).voter()->FindLive(resource, c.now(c.voter(i)), &view)) return true;
  }
  return false;
}

// Its inbound cut: the voters hear it and accept, it never learns. After the first attempt
// it sends probes only, so no voter holds a later attempt's accept (which would keep the
// resource from everyone until its release), and the first attempt's accepts are released.
TEST(LeaseNodeFaults, ANodeThatHearsNoVoterProbesInsteadOfAcquiring) {
  Cluster c(3, 1);
  const NodeId n = c.non_voter(0);
  MeasureRoundTrip(c, n);
  absl::StatusOr<uint64_t> id = c.Acquire(n, "r", kD, kWait);
  ASSERT_TRUE(id.ok());
  while (c.now_us() < kStartMonoUs + kWait / 2) {
    c.DeliverAll(OfKind<AcquireMsg>());
    c.DeliverAll(OfKind<ReleaseMsg>());
    c.Drop(ToNode(n));  // the way back is cut
    c.AdvanceTo(c.node(n).NextTickUs());
    c.Tick(n);
  }
  EXPECT_GT(c.node(n).proposer().stats().probes, 0u);
  // Every acquire left in the first attempt's first send, before anything was overdue.
  EXPECT_EQ(c.CountSent(OfKind<AcquireMsg>()), 3u + 3u);  // the warm-up's and the first
  c.DeliverAll(OfKind<ReleaseMsg>());
  EXPECT_FALSE(AnyVoterHolds(c, "r"));
}

// Voter 2 went silent (crashed, or its answers cannot reach us). Voter 0 refuses (held),
// voter 1 accepts: with voter 2 not counted on, no majority is possible, and the attempt
// ends at once instead of waiting for its deadline.
TEST(LeaseNodeFaults, AnAttemptEndsAtOnceWhenTheVotersHeardCannotMakeAMajority) {
  Cluster c(3, 1);
  const NodeId n = c.non_voter(0);
  const NodeId v0 = c.voter(0), v1 = c.voter(1), v2 = c.voter(2);
  MeasureRoundTrip(c, n);
  // Voter 2 leaves an acquire unanswered, for longer than a resend interval.
  absl::StatusOr<uint64_t> warm = c.Acquire(n, "s", kD, kWait);
  c.Drop(ToNode(v2));
  c.DeliverAll();
  ASSERT_TRUE(c.IsHolding(n, *warm));
  c.Advance(100'000);
  // Voter 0's own node holds an accept of voter 0 alone for "r".
  ASSERT_TRUE(c.Acquire(v0, "r", kD, kWait).ok());
  c.Drop(ToNode(v1));
  c.Drop(ToNode(v2));

  absl::StatusOr<uint64_t> id = c.Acquire(n, "r", kD, kWait);
  c.Drop(ToNode(v2));
  c.DeliverAll(ToNode(v0));
  c.DeliverAll(ToNode(v1));
  EXPECT_EQ(c.Pending(ToNode(n)), 2u);
  c.DeliverAll(ToNode(n));
  EXPECT_EQ(c.node(n).proposer().stats().attempts_ended_early, 1u);
  EXPECT_EQ(c.node(n).proposer().stats().failed_attempts, 1u);
  EXPECT_FALSE(c.IsHolding(n, *id));
}

// No answer at all: the first attempt runs the configured attempt timeout (no round trip is
// measured yet) and is counted as too slow. After a measured 2 ms round trip an attempt is
// much shorter; attempts that end with voters silent double it until it reaches the
// configured timeout again, and only those are counted.
TEST(LeaseNodeFaults, SilentVotersBackTheAttemptOffAndTheLongestAttemptIsCounted) {
  Cluster c(3, 1);
  const NodeId n = c.non_voter(0);
  ASSERT_TRUE(c.Acquire(n, "r", kD, kWait).ok());
  c.Drop();
  c.AdvanceTo(kStartMonoUs + c.config(n).attempt_timeout_us);
  c.Tick(n);
  EXPECT_EQ(c.node(n).proposer().stats().failed_attempts, 1u);
  EXPECT_EQ(c.node(n).proposer().stats().attempts_too_slow, 1u);

  Cluster d(3, 1);
  const NodeId m = d.non_voter(0);
  MeasureRoundTrip(d, m);
  ASSERT_TRUE(d.Acquire(m, "r", kD, kWait).ok());
  const ProposerStats& stats = d.node(m).proposer().stats();
  int64_t started = d.now_us();
  uint64_t attempts = stats.attempts;
  std::vector<int64_t> lengths;  // of each attempt that failed, start to deadline
  while (stats.attempts_too_slow == 0 && d.now_us() < kStartMonoUs + kWait) {
    d.Drop();
    const uint64_t failed = stats.failed_attempts;
    d.AdvanceTo(d.node(m).NextTickUs());
    d.Tick(m);
    if (stats.failed_attempts != failed) lengths.push_back(d.now_us() - started);
    if (stats.attempts != attempts) {
      attempts = stats.attempts;
      started = d.now_us();
    }
  }
  ASSERT_GE(lengths.size(), 3u);
  EXPECT_LT(lengths.front(), d.config(m).attempt_timeout_us / 4);
  for (std::size_t i = 1; i < lengths.size(); ++i) EXPECT_GT(lengths[i], lengths[i - 1]);
  EXPECT_EQ(stats.attempts_too_slow, 1u);
}

// Two voters of three are gone. A request whose wait runs out between attempts leaves our
// own voter keeping the resource for its turn (its failed attempts were released as still
// waiting), and nothing tells that voter the request is over. The node's next requests
// must still end "no quorum" (what the circuit breaker counts), not "contended" by their
// own predecessor, which would also keep them from the resource for a lease.
TEST(LeaseNodeFaults, WithAMajorityGoneEachRequestInARowEndsNoQuorum) {
  Cluster c(3);
  const NodeId v0 = c.voter(0), v1 = c.voter(1), v2 = c.voter(2);
  auto gone = [&](const Envelope& e) { return e.to == v1 || e.to == v2; };
  MeasureRoundTrip(c, v0);
  for (int i = 0; i < 10; ++i) {
    absl::StatusOr<uint64_t> id = c.Acquire(v0, "r", kD, 100'000 + 7'000 * i);
    ASSERT_TRUE(id.ok());
    while (!c.LastEventOf(v0, *id)) {
      c.Drop(gone);
      c.DeliverAll();
      c.AdvanceTo(c.node(v0).NextTickUs());
      c.Tick(v0);
    }
    const LeaseEvent end = c.LastEventOf(v0, *id)->event;
    EXPECT_EQ(end.kind, LeaseEvent::Kind::kFailed) << i;
    EXPECT_EQ(end.status.code(), absl::StatusCode::kUnavailable) << i << ": " << end.status;
  }
}

// A release lost on its way keeps that voter from the next holders for a whole lease. To a
// voter something had to be resent to lately, a held lease's release asks for an answer and
// is resent until it comes; to the others it goes once, unanswered (the hot path).
TEST(LeaseNodeFaults, OnALossyLinkAHeldLeasesReleaseIsResentUntilConfirmed) {
  Cluster c(5, 1);
  const NodeId n = c.non_voter(0);
  MeasureRoundTrip(c, n);
  absl::StatusOr<uint64_t> id = c.Acquire(n, "r", kD, kWait);
  ASSERT_TRUE(id.ok());
  // Voters 2, 3 and 4 lose the first acquire: it is resent to them.
  for (int i = 2; i < 5; ++i) c.Drop(OfKindTo<AcquireMsg>(c.voter(i)));
  c.DeliverAll();
  ASSERT_FALSE(c.IsHolding(n, *id));
  c.AdvanceTo(c.node(n).NextTickUs());
  c.Tick(n);
  c.DeliverAll();
  ASSERT_TRUE(c.IsHolding(n, *id));

  ASSERT_TRUE(c.Release(n, *id).ok());
  for (int i = 0; i < 5; ++i) {
    const std::vector<Envelope> sent = [&] {
      std::vector<Envelope> out;
      for (const Envelope& e : c.network()) {
        if (e.to == c.voter(i) && Is<ReleaseMsg>(e)) out.push_back(e);
      }
      return out;
    }();
    ASSERT_EQ(sent.size(), 1u) << i;
    EXPECT_EQ(As<ReleaseMsg>(sent[0]).ack_wanted, i >= 2) << i;
  }
  // The release to voter 4 is lost: it is resent, until voter 4 answers.
  c.Drop(OfKindTo<ReleaseMsg>(c.voter(4)));
  c.DeliverAll();
  Voter::LeaseView view;
  EXPECT_TRUE(c.node(c.voter(4)).voter()->FindLive("r", c.now(c.voter(4)), &view));
  const uint64_t resent = c.node(n).proposer().stats().releases_resent;
  c.AdvanceTo(c.node(n).NextTickUs());
  c.Tick(n);
  EXPECT_EQ(c.node(n).proposer().stats().releases_resent, resent + 1);
  c.DeliverAll();
  EXPECT_FALSE(c.node(c.voter(4)).voter()->FindLive("r", c.now(c.voter(4)), &view));
  EXPECT_EQ(c.node(n).NextTickUs(), std::numeric_limits<int64_t>::max());

  // Voter 4 crashes: it answers nothing for many resend intervals, so a release to it goes
  // once; resending it for a whole lease would be for nothing.
  id = c.Acquire(n, "r", kD, kWait);
  ASSERT_TRUE(id.ok());
  c.Drop(ToNode(c.voter(4)));
  c.DeliverAll();
  ASSERT_TRUE(c.IsHolding(n, *id));
  c.Advance(kSilentVoterRetransmits * kRetransmitUsMin * 64);
  ASSERT_TRUE(c.Release(n, *id).ok());
  for (const Envelope& e : c.network()) {
    if (Is<ReleaseMsg>(e)) {
      // Voters 2 and 3 are still on lossy links; 0 and 1 never were.
      EXPECT_EQ(As<ReleaseMsg>(e).ack_wanted, e.to == c.voter(2) || e.to == c.voter(3)) << e.to;
    }
  }
}

// A parked waiter is granted at release by one message from each voter. On a lossy link every
// one of them may be lost: the voters then hold the resource for a ballot nobody counts, and
// before the parked request asked again it sat out its fallback timer (the holder's
// remaining time, about a lease) while every other waiter was refused. It asks the voters on
// lossy links again for its ballot, so it is granted within a few resend intervals; on clean
// links it sends nothing while parked (LeaseNodeAcquire.AContendedWaiterGets...).
TEST(LeaseNodeFaults, OnALossyLinkAParkedRequestAsksAgainForItsBallot) {
  Cluster c(5, 1);
  const NodeId a = c.voter(0), n = c.non_voter(0);
  MeasureRoundTrip(c, n);
  absl::StatusOr<uint64_t> held = c.Acquire(a, "r", kD, kWait);
  ASSERT_TRUE(held.ok());
  c.DeliverAll();
  ASSERT_TRUE(c.IsHolding(a, *held));

  absl::StatusOr<uint64_t> waiting = c.Acquire(n, "r", kD, kWait);
  ASSERT_TRUE(waiting.ok());
  // The acquires are lost and resent: every link of n is lossy from now on.
  EXPECT_EQ(c.Drop(OfKind<AcquireMsg>()), 5);
  c.DeliverAll();
  c.AdvanceTo(c.node(n).NextTickUs());
  c.Tick(n);
  c.DeliverAll();
  ASSERT_FALSE(c.IsHolding(n, *waiting));
  const uint64_t attempts = c.node(n).proposer().stats().attempts;
  const uint64_t sent_before = c.CountSent(harness::FromNode(n));

  // The holder releases; every voter accepts the parked ballot at once, and every accept to n
  // is lost.
  c.Advance(1'000);
  ASSERT_TRUE(c.Release(a, *held).ok());
  c.DeliverAll(OfKind<ReleaseMsg>());
  EXPECT_EQ(c.Drop(OfKindTo<AcquireReplyMsg>(n)), 5);
  ASSERT_FALSE(c.IsHolding(n, *waiting));

  const int64_t released_at = c.now_us();
  std::optional<harness::TimedEvent> granted = c.RunUntilEventOf(n, *waiting, released_at + kD);
  ASSERT_TRUE(granted.has_value());
  EXPECT_EQ(granted->event.kind, LeaseEvent::Kind::kGranted);
  // Within a few resend intervals (the link's round trip is 2 ms), on the parked ballot.
  EXPECT_LE(granted->at_us - released_at, 16 * kRetransmitUsMin) << granted->at_us - released_at;
  EXPECT_EQ(c.node(n).proposer().stats().attempts, attempts);
  EXPECT_GT(c.CountSent(harness::FromNode(n)), sent_before);
}

// Membership calls voter 1 down and voter 2 has left an acquire unanswered past a resend
// interval: each hint alone leaves a majority, the two together do not. The attempt must
// not end early on both at once: voter 2 is only slow, and its accept wins it.
TEST(LeaseNodeFaults, TwoHintsTogetherDoNotEndAnAttemptTheVotersWouldWin) {
  Cluster c(3, 1);
  const NodeId n = c.non_voter(0);
  const NodeId v1 = c.voter(1), v2 = c.voter(2);
  MeasureRoundTrip(c, n);
  c.node(n).SetLivenessHint([v1](NodeId v) { return v != v1; });
  absl::StatusOr<uint64_t> id = c.Acquire(n, "r", kD, kWait);
  ASSERT_TRUE(id.ok());
  std::optional<Envelope> slow = c.Take(OfKindTo<AcquireMsg>(v2));
  ASSERT_TRUE(slow.has_value());
  // Voter 0 accepts over the same 2 ms round trip as measured, so the resend interval holds.
  c.Advance(1'000);
  c.DeliverAll(OfKind<AcquireMsg>());
  c.Advance(1'000);
  c.DeliverAll();
  const ProposerStats& stats = c.node(n).proposer().stats();
  // At the first resend, voter 2 has been silent for a resend interval (unheard); voter 1,
  // never asked, only looks down.
  for (int i = 0; i < 3; ++i) {
    c.AdvanceTo(c.node(n).NextTickUs());
    c.Tick(n);
    c.Drop(ToNode(v1));
    c.Drop(ToNode(v2));
  }
  EXPECT_EQ(stats.attempts_ended_early, 0u);
  EXPECT_EQ(stats.failed_attempts, 0u);
  c.Inject(*slow);
  c.DeliverAll();
  EXPECT_TRUE(c.IsHolding(n, *id));
}

}  // namespace
}  // namespace lockmesh::core
