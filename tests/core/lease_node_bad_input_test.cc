// What a peer's bad (but decodable) lease messages get: each is refused or
// dropped and counted, and no lease changes hands because of it.
#include <gtest/gtest.h>

#include "lib/core/limits.h"
#include "tests/core/cluster_harness.h"

namespace lockmesh::core {
namespace {

using harness::Cluster;

constexpr int64_t kD = 2'000'000;

// An acquire that names another node as owner is refused as a bad request: it
// could otherwise cut that owner's lease short.
TEST(LeaseNodeBadInput, AnAcquireForSomeoneElsesOwnerIsRefused) {
  Cluster c(3);
  const NodeId a = c.voter(0), b = c.voter(1), v = c.voter(2);
  absl::StatusOr<uint64_t> held = c.Acquire(a, "r", kD, 1'000'000);
  c.DeliverAll();
  ASSERT_TRUE(c.IsHolding(a, *held));
  const Envelope forged{b,
                        1,
                        v,
                        c.node(b).hlc() + 1,
                        c.config(v).VoterSetHash(),
                        AcquireMsg{"r", c.node(b).hlc() + (uint64_t{1} << 40), Owner{a, 1, *held},
                                   c.config(v).lease_duration_us_min}};
  c.Inject(forged);
  c.DeliverAll();
  Voter::LeaseView view;
  ASSERT_TRUE(c.node(v).voter()->FindLive("r", Now{c.now_us(), 0}, &view));
  EXPECT_EQ(view.owner, (Owner{a, 1, *held}));
  EXPECT_GE(c.node(v).voter()->stats().refusals[static_cast<int>(RefuseReason::kBadRequest)], 1u);
}

// Release and renew for another node's owner are not honoured either.
TEST(LeaseNodeBadInput, AReleaseFromAnotherNodeClearsNothing) {
  Cluster c(3);
  const NodeId a = c.voter(0), b = c.voter(1), v = c.voter(2);
  absl::StatusOr<uint64_t> held = c.Acquire(a, "r", kD, 1'000'000);
  c.DeliverAll();
  Voter::LeaseView view;
  ASSERT_TRUE(c.node(v).voter()->FindLive("r", Now{c.now_us(), 0}, &view));
  c.Inject(Envelope{b, 1, v, c.node(b).hlc() + 1, c.config(v).VoterSetHash(),
                    ReleaseMsg{"r", view.ballot, view.owner}});
  c.DeliverAll();
  EXPECT_TRUE(c.node(v).voter()->FindLive("r", Now{c.now_us(), 0}, &view));
}

// A stamp or ballot absurdly far ahead (up to 2^64 - 1) is dropped and counted;
// the clock neither jumps nor wraps.
TEST(LeaseNodeBadInput, AStampFarInTheFutureIsDropped) {
  Cluster c(3);
  const NodeId b = c.voter(1), v = c.voter(2);
  const uint64_t before = c.node(v).hlc();
  for (uint64_t stamp : {UINT64_MAX, UINT64_MAX - 1, uint64_t{1} << 62}) {
    c.Inject(Envelope{b, 1, v, stamp, c.config(v).VoterSetHash(),
                      AcquireMsg{"r", 5, Owner{b, 1, 1}, kD}});
    c.Inject(Envelope{b, 1, v, before, c.config(v).VoterSetHash(),
                      AcquireMsg{"s", stamp, Owner{b, 1, 2}, kD}});
  }
  c.DeliverAll();
  EXPECT_EQ(c.node(v).stats().dropped_clock_ahead, 6u);
  EXPECT_LT(c.node(v).hlc(), uint64_t{1} << 62);
  // The cluster still grants leases with sane tokens.
  absl::StatusOr<uint64_t> id = c.Acquire(v, "r", kD, 1'000'000);
  c.DeliverAll();
  EXPECT_TRUE(c.IsHolding(v, *id));
}

// A refusal claiming the holder has (almost) forever left is clamped to D_max,
// so the waiter's retry time neither overflows nor outlives any real lease.
TEST(LeaseNodeBadInput, AHugeHolderRemainingTimeIsClamped) {
  Cluster c(3);
  const NodeId a = c.voter(0), b = c.voter(1), v = c.voter(2);
  absl::StatusOr<uint64_t> id = c.Acquire(a, "r", kD, 60'000'000);
  ASSERT_TRUE(id.ok());
  // Refuse on behalf of both remote voters with an absurd remaining time.
  std::optional<Envelope> to_b = c.Take([&](const Envelope& e) { return e.to == b; });
  std::optional<Envelope> to_v = c.Take([&](const Envelope& e) { return e.to == v; });
  ASSERT_TRUE(to_b && to_v);
  const Ballot ballot = std::get<AcquireMsg>(to_b->body).ballot;
  for (NodeId from : {b, v}) {
    c.Inject(Envelope{
        from, 1, a, c.node(from).hlc() + 1, c.config(a).VoterSetHash(),
        AcquireReplyMsg{"r", ballot, Owner{a, 1, *id}, false, RefuseReason::kHeld, 0, INT64_MAX}});
  }
  c.DeliverAll();
  EXPECT_LE(c.node(a).NextTickUs(),
            c.now_us() + c.config(a).lease_duration_us_max + c.config(a).held_retry_slack_us);
}

TEST(LeaseNodeBadInput, AWaitBeyondADayIsAnInvalidArgument) {
  Cluster c(3);
  absl::StatusOr<uint64_t> id = c.Acquire(c.voter(0), "r", kD, kWaitUsMax + 1);
  EXPECT_EQ(id.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace lockmesh::core
