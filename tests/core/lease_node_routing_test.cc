// Tests for what lib/core/lease_node.h lets in and out: messages with a foreign
// voter set or the wrong address are dropped and counted, bad arguments are
// refused, tokens of successive grants strictly increase (S2), also across a
// restart of every node with the quarantine of rule 8.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "lib/core/lease_node.h"
#include "lib/core/limits.h"
#include "tests/core/cluster_harness.h"

namespace lockmesh::core {
namespace {

using harness::As;
using harness::Cluster;
using harness::Is;
using harness::OfKind;
using harness::TimedEvent;
using harness::ToNode;

constexpr int64_t kD = 5'000'000;
constexpr int64_t kWait = 20'000'000;

TEST(LeaseNodeRouting, AMessageForAnotherVoterSetIsDroppedAndCounted) {
  Cluster c(3);
  const NodeId a = c.voter(0), b = c.voter(1);
  ASSERT_TRUE(c.Acquire(a, "r", kD, kWait).ok());
  std::optional<Envelope> acquire = c.Take(ToNode(b));
  ASSERT_TRUE(acquire.has_value());
  LeaseConfig other = c.config(b);
  other.voters = {1, 2, 4};
  acquire->voter_set_hash = other.VoterSetHash();
  const uint64_t hlc_before = c.node(b).hlc();
  c.Inject(*acquire);
  EXPECT_TRUE(c.last().messages.empty());
  EXPECT_EQ(c.node(b).stats().dropped_voter_set_mismatch, 1u);
  EXPECT_EQ(c.node(b).stats().messages_in, 1u);
  EXPECT_EQ(c.node(b).voter()->resource_count(), 0u);
  EXPECT_EQ(c.node(b).hlc(), hlc_before);  // not even its clock counts
  // A reply with a foreign hash does not count toward a majority either.
  c.Deliver(ToNode(c.voter(2)));
  std::optional<Envelope> accept = c.Take(ToNode(a));
  ASSERT_TRUE(accept.has_value());
  accept->voter_set_hash ^= 1;
  c.Inject(*accept);
  EXPECT_EQ(c.node(a).stats().dropped_voter_set_mismatch, 1u);
  EXPECT_TRUE(c.events(a).empty());
}

TEST(LeaseNodeRouting, AnAcceptedMessageAdvancesTheReceiversClock) {
  Cluster c(3);
  const NodeId a = c.voter(0), b = c.voter(1);
  c.SetWallOffsetMs(b, -5'000);  // b's wall clock lags
  ASSERT_TRUE(c.Acquire(a, "r", kD, kWait).ok());
  const Envelope acquire = *c.Take(ToNode(b));
  ASSERT_LT(c.node(b).hlc(), acquire.hlc);
  c.Inject(acquire);
  EXPECT_GT(c.node(b).hlc(), acquire.hlc);  // and its reply is stamped above it
  // So b's next ballot is above a's, though its own clock is behind.
  ASSERT_TRUE(c.Acquire(b, "s", kD, kWait).ok());
  EXPECT_GT(As<AcquireMsg>(c.last().messages[0]).ballot, As<AcquireMsg>(acquire).ballot);
}

TEST(LeaseNodeRouting, MisaddressedMessagesAreDropped) {
  Cluster c(3);
  const NodeId a = c.voter(0), b = c.voter(1), d = c.voter(2);
  ASSERT_TRUE(c.Acquire(a, "r", kD, kWait).ok());
  const Envelope to_b = *c.Take(ToNode(b));
  Effects fx;
  c.node(d).OnMessage(to_b, c.now(d), fx);  // addressed to b, arrives at d
  EXPECT_TRUE(fx.messages.empty());
  EXPECT_EQ(c.node(d).stats().dropped_misaddressed, 1u);
  Envelope from_self = to_b;
  from_self.from = d;
  from_self.to = d;
  c.node(d).OnMessage(from_self, c.now(d), fx);
  EXPECT_TRUE(fx.messages.empty());
  EXPECT_EQ(c.node(d).stats().dropped_misaddressed, 2u);
  EXPECT_EQ(c.node(d).voter()->resource_count(), 0u);
}

TEST(LeaseNodeRouting, VoterMessagesToANonVoterAreDropped) {
  Cluster c(3, 1);
  const NodeId a = c.voter(0), n = c.non_voter(0);
  ASSERT_TRUE(c.Acquire(a, "r", kD, kWait).ok());
  Envelope stray = *c.Take(ToNode(c.voter(1)));
  stray.to = n;
  c.Inject(stray);
  EXPECT_TRUE(c.last().messages.empty());
  EXPECT_EQ(c.node(n).stats().dropped_not_voter, 1u);
  EXPECT_EQ(c.node(n).voter(), nullptr);
}

TEST(LeaseNodeRouting, RepliesFromANonVoterAreIgnored) {
  Cluster c(3, 1);
  const NodeId a = c.voter(0), n = c.non_voter(0);
  absl::StatusOr<uint64_t> id = c.Acquire(a, "r", kD, kWait);
  const AcquireMsg sent = As<AcquireMsg>(c.last().messages[0]);
  c.Drop();
  AcquireReplyMsg forged{"r", sent.ballot, sent.owner, true, RefuseReason::kNone, sent.ballot, 0};
  c.Inject(Envelope{n, 1, a, c.node(n).hlc(), c.config(n).VoterSetHash(), forged});
  EXPECT_TRUE(c.events(a).empty());
  EXPECT_FALSE(c.IsHolding(a, *id));
  EXPECT_EQ(c.node(a).proposer().stats().replies_ignored, 1u);
}

TEST(LeaseNodeRouting, HeldLeasesAreNotOpenRequestsAndHaveABoundOfTheirOwn) {
  // A job scheduler holds a lease per job: past kRequestsMax held leases it can still ask.
  Cluster c(3);
  const NodeId a = c.voter(0);
  const std::size_t held = kRequestsMax + 100;
  for (std::size_t i = 0; i < held; ++i) {
    absl::StatusOr<uint64_t> id = c.Acquire(a, absl::StrCat("job-", i), kD, kWait);
    ASSERT_TRUE(id.ok()) << i << ": " << id.status();
    c.DeliverAll();
    ASSERT_TRUE(c.IsHolding(a, *id)) << i;
  }
  EXPECT_EQ(c.node(a).proposer().held_leases(), held);
  EXPECT_EQ(c.node(a).proposer().open_requests(), 0u);
}

TEST(LeaseNodeRouting, InvalidArgumentsAreRefusedAndSendNothing) {
  Cluster c(3);
  const NodeId a = c.voter(0);
  const LeaseConfig& config = c.config(a);
  struct Case {
    std::string resource;
    int64_t duration_us;
    int64_t wait_us;
  };
  const std::vector<Case> cases = {
      {"", kD, kWait},
      {std::string(kResourceBytesMax + 1, 'x'), kD, kWait},
      {"r", config.lease_duration_us_min - 1, kWait},
      {"r", config.lease_duration_us_max + 1, kWait},
      {"r", 0, kWait},
      {"r", kD, -1},
  };
  for (const Case& bad : cases) {
    absl::StatusOr<uint64_t> id = c.Acquire(a, bad.resource, bad.duration_us, bad.wait_us);
    EXPECT_EQ(id.status().code(), absl::StatusCode::kInvalidArgument)
        << bad.resource.size() << " bytes, " << bad.duration_us << " us, wait " << bad.wait_us;
    EXPECT_TRUE(c.last().messages.empty());
    EXPECT_TRUE(c.last().events.empty());
  }
  // A wait of zero is not a try-acquire by itself: only try_once makes one, so a driver whose
  // remaining wait reached zero cannot turn a waiting request into a try.
  Effects fx;
  EXPECT_EQ(c.node(a)
                .Acquire("r", AcquireOptions{.duration_us = kD, .wait_us = 0}, c.now(a), fx)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(fx.messages.empty());
  EXPECT_EQ(c.node(a).proposer().open_requests(), 0u);
  // The bounds themselves are fine.
  EXPECT_TRUE(
      c.Acquire(a, std::string(kResourceBytesMax, 'x'), config.lease_duration_us_min, 0).ok());
  absl::StatusOr<uint64_t> id = c.Acquire(a, "r", config.lease_duration_us_max, kWait);
  ASSERT_TRUE(id.ok());
  // Renew and release of unknown or not-held requests.
  EXPECT_EQ(c.Renew(a, 999).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(c.Renew(a, *id).code(), absl::StatusCode::kFailedPrecondition);  // not granted yet
  EXPECT_EQ(c.Release(a, 999).code(), absl::StatusCode::kNotFound);
  c.DeliverAll();
  ASSERT_TRUE(c.IsHolding(a, *id));
  EXPECT_EQ(c.Renew(a, *id, config.lease_duration_us_max + 1).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(c.Renew(a, *id, config.lease_duration_us_min - 1).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(c.last().messages.empty());
}

// Acquires "r" on `node`, runs until it ends waiting, releases; returns the token.
Ballot GrantAndRelease(Cluster& c, NodeId node, int64_t wait_us = kWait) {
  absl::StatusOr<uint64_t> id = c.Acquire(node, "r", kD, wait_us);
  EXPECT_TRUE(id.ok()) << id.status();
  const uint64_t request = id.value_or(0);
  const std::optional<TimedEvent> granted = c.RunUntilEventOf(node, request, c.now_us() + wait_us);
  EXPECT_TRUE(granted && granted->event.kind == LeaseEvent::Kind::kGranted);
  EXPECT_TRUE(c.Release(node, request).ok());
  c.DeliverAll();
  return granted ? granted->event.token : 0;
}

TEST(LeaseNodeRouting, TokensOfSuccessiveGrantsStrictlyIncrease) {
  Cluster c(3, 1);
  const std::vector<NodeId> nodes = {c.voter(0), c.voter(1), c.voter(2), c.non_voter(0)};
  // Wall clocks disagree by seconds; the HLC carries the order anyway.
  c.SetWallOffsetMs(c.voter(1), 4'000);
  c.SetWallOffsetMs(c.voter(2), -3'000);
  c.SetWallOffsetMs(c.non_voter(0), -6'000);
  Ballot previous = 0;
  for (int round = 0; round < 12; ++round) {
    const Ballot token = GrantAndRelease(c, nodes[(round * 3) % nodes.size()]);
    EXPECT_GT(token, previous) << "round " << round;
    previous = token;
  }
}

TEST(LeaseNodeRouting, ARestartedVoterSetRefusesUntilItsQuarantineEnds) {
  Cluster::Options options;
  options.mode = StartMode::kRestart;
  Cluster c(options);
  const NodeId a = c.voter(0);
  const int64_t quarantine_us = c.config(a).quarantine_us;
  absl::StatusOr<uint64_t> tried = c.Acquire(a, "r", kD, 0);
  c.DeliverAll();
  const std::optional<TimedEvent> failed = c.LastEventOf(a, *tried);
  ASSERT_TRUE(failed.has_value());
  EXPECT_EQ(failed->event.status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(c.CountSent([](const Envelope& e) {
    return Is<AcquireReplyMsg>(e) && As<AcquireReplyMsg>(e).reason == RefuseReason::kQuarantine;
  }),
            2u);

  const int64_t asked_at = c.now_us();
  absl::StatusOr<uint64_t> waited = c.Acquire(a, "r", kD, 2 * quarantine_us);
  const std::optional<TimedEvent> granted =
      c.RunUntilEventOf(a, *waited, asked_at + quarantine_us + 3 * c.config(a).backoff_us_max);
  ASSERT_TRUE(granted.has_value());
  EXPECT_EQ(granted->event.kind, LeaseEvent::Kind::kGranted) << granted->event.status;
  EXPECT_GE(granted->at_us, harness::kStartMonoUs + quarantine_us);
}

TEST(LeaseNodeRouting, TokensKeepIncreasingWhenEveryNodeRestartsAtOnce) {
  Cluster c(3, 1);
  // The last holder's wall clock runs ahead, by less than D_Q / 2 (rule 8).
  const NodeId fast = c.voter(2);
  c.SetWallOffsetMs(fast, c.config(fast).quarantine_us / 1000 / 2 - 1'000);
  const Ballot before = GrantAndRelease(c, fast);
  absl::StatusOr<uint64_t> held = c.Acquire(fast, "r", kD, 0);
  c.DeliverAll();
  ASSERT_TRUE(c.IsHolding(fast, *held));
  const Ballot last_token = c.LastEventOf(fast, *held)->event.token;
  EXPECT_GT(last_token, before);

  // Everything is lost at once: every node restarts without memory.
  for (int i = 0; i < 3; ++i) c.Restart(c.voter(i));
  c.Restart(c.non_voter(0));
  c.SetWallOffsetMs(fast, 0);
  EXPECT_EQ(c.node(fast).incarnation(), 2u);
  EXPECT_TRUE(c.node(fast).Holdings(c.now(fast)).empty());
  for (NodeId node : {c.non_voter(0), c.voter(0), c.voter(1)}) {
    const Ballot token = GrantAndRelease(c, node, 2 * c.config(node).quarantine_us);
    EXPECT_GT(token, last_token) << "node " << node;
  }
}

}  // namespace
}  // namespace lockmesh::core
