// Tests for lib/core/membership/config.h and the small pure parts of membership: the
// presets equal memberlist's defaults, Validate() refuses every setting out of bounds and
// says which, the derived timeouts follow memberlist's formulas, and the suspicion
// timer, awareness score and broadcast queue behave as specified.
#include "lib/core/membership/config.h"

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/core/config.h"
#include "lib/core/limits.h"
#include "lib/core/membership/awareness.h"
#include "lib/core/membership/broadcast_queue.h"
#include "lib/core/membership/suspicion.h"
#include "lib/core/membership/wire_budget.h"

namespace lockmesh::core {
namespace {

using ::testing::HasSubstr;

void ExpectRefused(const GossipConfig& config, const std::string& why) {
  const absl::Status status = config.Validate();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr(why));
}

TEST(GossipConfigTest, LanIsTheDefaultAndMemberlistsDefaultLanConfig) {
  const GossipConfig c = GossipConfig::Lan();
  EXPECT_EQ(c.probe_interval_us, 1'000'000);
  EXPECT_EQ(c.probe_timeout_us, 500'000);
  EXPECT_EQ(c.indirect_checks, 3);
  EXPECT_EQ(c.suspicion_mult, 4);
  EXPECT_EQ(c.suspicion_max_timeout_mult, 6);
  EXPECT_EQ(c.retransmit_mult, 4);
  EXPECT_EQ(c.gossip_interval_us, 200'000);
  EXPECT_EQ(c.gossip_nodes, 3);
  EXPECT_EQ(c.gossip_to_the_dead_us, 30'000'000);
  EXPECT_EQ(c.push_pull_interval_us, 30'000'000);
  EXPECT_EQ(c.awareness_max, 8);
  EXPECT_EQ(c.dead_reclaim_us, 0);
  EXPECT_TRUE(c.lifeguard);
  const GossipConfig d;
  EXPECT_EQ(d.probe_interval_us, c.probe_interval_us);
  EXPECT_EQ(d.gossip_nodes, c.gossip_nodes);
  EXPECT_TRUE(c.Validate().ok()) << c.Validate();
}

TEST(GossipConfigTest, WanIsMemberlistsDefaultWanConfig) {
  const GossipConfig c = GossipConfig::Wan();
  EXPECT_EQ(c.probe_interval_us, 5'000'000);
  EXPECT_EQ(c.probe_timeout_us, 3'000'000);
  EXPECT_EQ(c.suspicion_mult, 6);
  EXPECT_EQ(c.push_pull_interval_us, 60'000'000);
  EXPECT_EQ(c.gossip_nodes, 4);
  EXPECT_EQ(c.gossip_interval_us, 500'000);
  EXPECT_EQ(c.gossip_to_the_dead_us, 60'000'000);
  EXPECT_EQ(c.indirect_checks, 3);
  EXPECT_EQ(c.retransmit_mult, 4);
  EXPECT_TRUE(c.Validate().ok()) << c.Validate();
}

TEST(GossipConfigTest, LocalIsMemberlistsDefaultLocalConfig) {
  const GossipConfig c = GossipConfig::Local();
  EXPECT_EQ(c.indirect_checks, 1);
  EXPECT_EQ(c.retransmit_mult, 2);
  EXPECT_EQ(c.suspicion_mult, 3);
  EXPECT_EQ(c.push_pull_interval_us, 15'000'000);
  EXPECT_EQ(c.probe_timeout_us, 200'000);
  EXPECT_EQ(c.probe_interval_us, 1'000'000);
  EXPECT_EQ(c.gossip_interval_us, 100'000);
  EXPECT_EQ(c.gossip_to_the_dead_us, 15'000'000);
  EXPECT_TRUE(c.Validate().ok()) << c.Validate();
}

TEST(GossipConfigTest, RefusesEverySettingOutOfBounds) {
  auto with = [](auto change) {
    GossipConfig c = GossipConfig::Lan();
    change(c);
    return c;
  };
  ExpectRefused(with([](auto& c) { c.probe_interval_us = 0; }), "probe_interval_us");
  ExpectRefused(with([](auto& c) { c.probe_interval_us = kGossipPeriodUsMax + 1; }),
                "probe_interval_us");
  ExpectRefused(with([](auto& c) { c.probe_timeout_us = 0; }), "probe_timeout_us");
  ExpectRefused(with([](auto& c) { c.probe_timeout_us = c.probe_interval_us; }),
                "must be below probe_interval_us");
  ExpectRefused(with([](auto& c) { c.indirect_checks = -1; }), "indirect_checks");
  ExpectRefused(with([](auto& c) { c.indirect_checks = kIndirectChecksMax + 1; }),
                "indirect_checks must be in [0, 16], got 17");
  ExpectRefused(with([](auto& c) { c.suspicion_mult = 0; }), "suspicion_mult");
  ExpectRefused(with([](auto& c) { c.suspicion_max_timeout_mult = 0; }),
                "suspicion_max_timeout_mult");
  ExpectRefused(with([](auto& c) { c.retransmit_mult = 0; }), "retransmit_mult");
  ExpectRefused(with([](auto& c) { c.gossip_interval_us = 999; }), "gossip_interval_us");
  ExpectRefused(with([](auto& c) { c.gossip_nodes = 0; }), "gossip_nodes");
  ExpectRefused(with([](auto& c) { c.gossip_nodes = kGossipNodesMax + 1; }), "gossip_nodes");
  ExpectRefused(with([](auto& c) { c.gossip_to_the_dead_us = -1; }), "gossip_to_the_dead_us");
  ExpectRefused(with([](auto& c) { c.awareness_max = 0; }), "awareness_max");
  ExpectRefused(with([](auto& c) { c.awareness_max = kAwarenessMultiplierMax + 1; }),
                "awareness_max");
  ExpectRefused(with([](auto& c) { c.dead_reclaim_us = -1; }), "dead_reclaim_us");
  ExpectRefused(with([](auto& c) { c.reconnect_timeout_us = kDeadRetentionUsMax + 1; }),
                "reconnect_timeout_us");
  ExpectRefused(with([](auto& c) { c.join_retry_us = 0; }), "join_retry_us");
  ExpectRefused(with([](auto& c) { c.push_pull_interval_us = 500; }), "push_pull_interval_us");
  ExpectRefused(with([](auto& c) { c.push_pull_interval_us = kPushPullIntervalUsMax + 1; }),
                "push_pull_interval_us");
  ExpectRefused(with([](auto& c) { c.tags_max = kMemberTagsMax + 1; }), "tags_max");
  ExpectRefused(with([](auto& c) { c.tags_bytes_max = kMemberTagsBytesMax + 1; }),
                "tags_bytes_max");
  // Push-pull may be switched off; Lifeguard may be switched off.
  EXPECT_TRUE(with([](auto& c) { c.push_pull_interval_us = 0; }).Validate().ok());
  EXPECT_TRUE(with([](auto& c) { c.lifeguard = false; }).Validate().ok());
}

TEST(GossipConfigTest, SuspicionTimeoutsFollowMemberlist) {
  const GossipConfig c = GossipConfig::Lan();
  // min = 4 * max(1, log10(n)) * 1 s, the scale truncated to thousandths; max = 6 * min.
  EXPECT_EQ(c.SuspicionTimeoutMinUs(1), 4'000'000);
  EXPECT_EQ(c.SuspicionTimeoutMinUs(5), 4'000'000);
  EXPECT_EQ(c.SuspicionTimeoutMinUs(10), 4'000'000);
  EXPECT_EQ(c.SuspicionTimeoutMinUs(50), 4 * 1'698'000);  // log10(50) = 1.69897
  EXPECT_EQ(c.SuspicionTimeoutMinUs(100), 8'000'000);
  EXPECT_EQ(c.SuspicionTimeoutMinUs(500), 4 * 2'698'000);
  EXPECT_EQ(c.SuspicionTimeoutMaxUs(5), 24'000'000);
  EXPECT_EQ(c.SuspicionTimeoutMaxUs(100), 48'000'000);
  // k = suspicion_mult - 2, or 0 when fewer than k members besides the two could confirm.
  EXPECT_EQ(c.SuspicionConfirmationsExpected(3), 0);
  EXPECT_EQ(c.SuspicionConfirmationsExpected(4), 2);
  EXPECT_EQ(c.SuspicionConfirmationsExpected(50), 2);
  GossipConfig off = c;
  off.lifeguard = false;
  EXPECT_EQ(off.SuspicionConfirmationsExpected(50), 0);
}

TEST(GossipConfigTest, RetransmitLimitAndPushPullScale) {
  const GossipConfig c = GossipConfig::Lan();
  // retransmit_mult * ceil(log10(n + 1)).
  EXPECT_EQ(c.RetransmitLimit(1), 4);
  EXPECT_EQ(c.RetransmitLimit(9), 4);
  EXPECT_EQ(c.RetransmitLimit(10), 8);
  EXPECT_EQ(c.RetransmitLimit(99), 8);
  EXPECT_EQ(c.RetransmitLimit(100), 12);
  EXPECT_EQ(c.RetransmitLimit(500), 12);
  // Unscaled up to 32 members, then (ceil(log2(n) - log2(32)) + 1) times.
  EXPECT_EQ(c.PushPullIntervalUs(32), 30'000'000);
  EXPECT_EQ(c.PushPullIntervalUs(33), 60'000'000);
  EXPECT_EQ(c.PushPullIntervalUs(64), 60'000'000);
  EXPECT_EQ(c.PushPullIntervalUs(65), 90'000'000);
  EXPECT_EQ(c.PushPullIntervalUs(500), 150'000'000);
}

TEST(GossipConfigTest, RelaysNackBeforeTheRequesterGivesUp) {
  // The ping-req leaves at the probe timeout; the relay must nack well within the rest of
  // the interval.
  EXPECT_EQ(GossipConfig::Lan().RelayTimeoutUs(), 400'000);
  EXPECT_EQ(GossipConfig::Wan().RelayTimeoutUs(), 1'600'000);
  EXPECT_EQ(GossipConfig::Local().RelayTimeoutUs(), 160'000);
}

TEST(SuspicionTest, TimeoutShrinksWithConfirmationsByTheFormula) {
  const int64_t min = 4'000'000, max = 24'000'000;
  auto formula = [&](int n, int k) {
    return static_cast<int64_t>(
        std::floor(max - (max - min) * std::log(n + 1.0) / std::log(k + 1.0)));
  };
  EXPECT_EQ(Suspicion::TimeoutUs(0, 2, min, max), max);
  EXPECT_EQ(Suspicion::TimeoutUs(1, 2, min, max), formula(1, 2));
  EXPECT_EQ(Suspicion::TimeoutUs(1, 2, min, max), 11'381'404);
  EXPECT_EQ(Suspicion::TimeoutUs(2, 2, min, max), min);
  EXPECT_EQ(Suspicion::TimeoutUs(3, 5, min, max), formula(3, 5));
  EXPECT_EQ(Suspicion::TimeoutUs(9, 5, min, max), min);  // never below min
  EXPECT_EQ(Suspicion::TimeoutUs(0, 0, min, max), min);  // nothing to wait for

  Suspicion s(/*from=*/7, /*k=*/2, min, max, /*start_us=*/1'000);
  EXPECT_EQ(s.deadline_us(), 1'000 + max);
  EXPECT_FALSE(s.Confirm(7));  // the accuser is not a confirmation
  EXPECT_TRUE(s.Confirm(8));
  EXPECT_EQ(s.deadline_us(), 1'000 + 11'381'404);
  EXPECT_FALSE(s.Confirm(8));  // one vote per member
  EXPECT_TRUE(s.Confirm(9));
  EXPECT_EQ(s.deadline_us(), 1'000 + min);
  EXPECT_FALSE(s.Confirm(10));  // k reached
  EXPECT_EQ(s.confirmations(), 2);
}

TEST(AwarenessTest, ScoreIsClampedAndScalesTimeouts) {
  Awareness a(8);
  EXPECT_EQ(a.Scale(1'000), 1'000);
  a.ApplyDelta(3);
  EXPECT_EQ(a.score(), 3);
  EXPECT_EQ(a.Scale(1'000), 4'000);
  a.ApplyDelta(100);
  EXPECT_EQ(a.score(), 7);  // at most max - 1: the multiplier is at most max
  EXPECT_EQ(a.Scale(1'000), 8'000);
  a.ApplyDelta(-100);
  EXPECT_EQ(a.score(), 0);
}

MemberUpdate UpdateAbout(int i, uint64_t incarnation = 1) {
  MemberUpdate u;
  u.info.name = "member-" + std::to_string(i);
  u.info.address = "addr-" + std::to_string(i);
  u.node = NodeIdFromName(u.info.name);
  u.incarnation = incarnation;
  u.from = u.node;
  return u;
}

TEST(BroadcastQueueTest, EachUpdateIsSentAtMostLimitTimes) {
  BroadcastQueue q;
  q.Push(UpdateAbout(1));
  int sent = 0;
  for (int round = 0; round < 10; ++round) {
    std::vector<MemberUpdate> out;
    WireSize size = WireSizeOf(GossipMsg{});
    sent += static_cast<int>(q.Fill(/*limit=*/3, size, out));
  }
  EXPECT_EQ(sent, 3);
  EXPECT_TRUE(q.empty());
}

TEST(BroadcastQueueTest, NewerUpdateReplacesOlderAboutTheSameMember) {
  BroadcastQueue q;
  q.Push(UpdateAbout(1, 1));
  std::vector<MemberUpdate> out;
  WireSize size = WireSizeOf(GossipMsg{});
  q.Fill(4, size, out);
  EXPECT_EQ(q.Transmits(UpdateAbout(1).node), 1);
  q.Push(UpdateAbout(1, 2));
  EXPECT_EQ(q.size(), 1u);
  EXPECT_EQ(q.Transmits(UpdateAbout(1).node), 0);  // news again: sent afresh
  EXPECT_EQ(q.Find(UpdateAbout(1).node)->incarnation, 2u);
}

TEST(BroadcastQueueTest, LeastTransmittedFirstNewestFirstAndWithinTheBudget) {
  BroadcastQueue q;
  for (int i = 0; i < 3; ++i) q.Push(UpdateAbout(i));
  std::vector<MemberUpdate> out;
  WireSize size = WireSizeOf(GossipMsg{});
  // Room for exactly one update: the newest.
  WireSize tight = size;
  tight.bytes = kEnvelopeBytesMax - WireSizeOf(UpdateAbout(2)).bytes;
  EXPECT_EQ(q.Fill(4, tight, out), 1u);
  EXPECT_EQ(out[0].node, UpdateAbout(2).node);
  // Then the two never sent (newest first), then the one sent once.
  out.clear();
  q.Fill(4, size, out);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].node, UpdateAbout(1).node);
  EXPECT_EQ(out[1].node, UpdateAbout(0).node);
  EXPECT_EQ(out[2].node, UpdateAbout(2).node);
}

TEST(BroadcastQueueTest, FillStopsAtTheUpdatesPerMessageLimit) {
  BroadcastQueue q;
  for (int i = 0; i < 100; ++i) {
    MemberUpdate u;
    u.state = MemberState::kDead;
    u.node = static_cast<NodeId>(i + 1);
    u.from = 1;
    q.Push(u);
  }
  std::vector<MemberUpdate> out;
  WireSize size{};  // pretend the budget is unlimited in bytes
  size.bytes = 0;
  q.Fill(4, size, out);
  EXPECT_LE(out.size(), kGossipUpdatesPerMessageMax);
  EXPECT_TRUE(Fits(size));
}

TEST(WireBudgetTest, TheLargestMemberFitsAloneInGossipAndPushPull) {
  EXPECT_TRUE(Fits(WireSizeOf(GossipMsg{}) + MemberUpdateWireSizeMax()));
  EXPECT_TRUE(Fits(WireSizeOf(PushPullMsg{}) + MemberUpdateWireSizeMax()));
}

}  // namespace
}  // namespace lockmesh::core
