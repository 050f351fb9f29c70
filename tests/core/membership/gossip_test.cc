// Tests for lib/core/membership/gossip.h on a small hand-driven network (gossip_net.h):
// joins, failure detection with and without Lifeguard, refutation, indirect probes and
// nacks, awareness, leave, metadata, dissemination limits, push-pull repair, reconnect
// after a long partition, restart, lease hints and determinism. Every message in every test
// passes through the real codec and stays within one datagram.
#include "lib/core/membership/gossip.h"

#include <algorithm>
#include <cstdint>
#include <iostream>
#include <limits>
#include <memory>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/core/limits.h"
#include "tests/core/membership/gossip_net.h"

namespace lockmesh::core {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using testing::GossipNet;
using ::testing::Not;
using Kind = MemberEvent::Kind;

constexpr int64_t kSecond = 1'000'000;

// n nodes; node 0 starts alone, the others join through it; runs until every view agrees.
std::unique_ptr<GossipNet> Cluster(int n, GossipConfig config = GossipConfig::Lan(),
                                   uint64_t seed = 1) {
  auto net = std::make_unique<GossipNet>(config, seed);
  for (int i = 0; i < n; ++i) net->Add();
  for (int i = 1; i < n; ++i) net->Join(i, {0});
  EXPECT_TRUE(net->RunUntil([&] { return net->Converged(); }, net->now() + 30 * kSecond));
  return net;
}

int CountEvents(const GossipNet& net, Kind kind) {
  return static_cast<int>(std::count_if(net.events().begin(), net.events().end(),
                                        [&](const auto& r) { return r.event.kind == kind; }));
}

// ---- join ----

TEST(GossipJoinTest, OneSeedReachesAllOfThree) {
  GossipNet net(GossipConfig::Lan());
  for (int i = 0; i < 3; ++i) net.Add();
  net.Join(1, {0});
  net.Join(2, {0});
  ASSERT_TRUE(net.RunUntil([&] { return net.Converged(); }, 2 * kSecond));
  for (int i = 0; i < 3; ++i) {
    EXPECT_FALSE(net[i].joining());
    for (int j = 0; j < 3; ++j) {
      if (i != j) {
        EXPECT_THAT(net.EventsAbout(i, j), ElementsAre(Kind::kJoined));
      }
    }
  }
  EXPECT_EQ(net.encode_failures(), 0);
}

TEST(GossipJoinTest, OneSeedReachesAllOfTwentyJoiningAtOnce) {
  GossipNet net(GossipConfig::Lan(), /*seed=*/7);
  for (int i = 0; i < 20; ++i) net.Add();
  for (int i = 1; i < 20; ++i) net.Join(i, {0});
  ASSERT_TRUE(net.RunUntil([&] { return net.Converged(); }, 5 * kSecond))
      << "not converged at " << net.now();
  std::cout << "N=20 converged after " << net.now() / 1000 << " ms\n";
  for (int i = 0; i < 20; ++i) EXPECT_EQ(net[i].LiveMembers(), 20u);
  EXPECT_EQ(CountEvents(net, Kind::kSuspect), 0);
}

TEST(GossipJoinTest, RetriesUntilASeedAnswers) {
  GossipNet net(GossipConfig::Lan());
  net.Add();
  net.Add();
  net.SetDrop([](int, int to, const Envelope&) { return to == 0; });
  // An address nobody has is tried too, and does no harm.
  net.Do(1, [](Gossip& g, Now now, GossipEffects& fx) {
    EXPECT_TRUE(g.Join({"nowhere", GossipNet::Address(0)}, now, fx).ok());
  });
  net.RunFor(3'500'000);
  EXPECT_TRUE(net[1].joining());
  EXPECT_GE(net[1].stats().joins_sent, 6u);  // 4 attempts to 2 seeds
  net.SetDrop(nullptr);
  ASSERT_TRUE(net.RunUntil([&] { return net.Converged(); }, net.now() + 2 * kSecond));
  EXPECT_FALSE(net[1].joining());
}

TEST(GossipJoinTest, JoinRefusesBadSeeds) {
  GossipNet net(GossipConfig::Lan());
  net.Add();
  net.Do(0, [](Gossip& g, Now now, GossipEffects& fx) {
    EXPECT_EQ(g.Join({}, now, fx).code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(g.Join({""}, now, fx).code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(g.Join({std::string(65, 'a')}, now, fx).code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(g.Join(std::vector<std::string>(17, "x"), now, fx).code(),
              absl::StatusCode::kInvalidArgument);
    // The first node may name itself: nothing to do.
    EXPECT_TRUE(g.Join({GossipNet::Address(0)}, now, fx).ok());
    EXPECT_FALSE(g.joining());
    EXPECT_TRUE(fx.messages.empty());
    g.Leave(now, fx);
    EXPECT_EQ(g.Join({"x"}, now, fx).code(), absl::StatusCode::kFailedPrecondition);
  });
}

// ---- failure detection ----

// Crashes the last node of a converged cluster of n and checks that every live member
// sees it suspect and then dead, within the bound that the probe round-robin and the
// suspicion timeout give, and that nobody else is ever suspected.
void CrashIsDetected(int n, uint64_t seed) {
  const GossipConfig config = GossipConfig::Lan();
  auto net = Cluster(n, config, seed);
  const int victim = n - 1;
  const int64_t crash_at = net->now();
  net->Crash(victim);
  // First probe within a round-robin pass (n - 1 intervals, one more for the reshuffle),
  // then the longest suspicion timeout, plus gossip slack.
  const int64_t bound = crash_at + n * config.probe_interval_us + config.probe_interval_us +
                        config.SuspicionTimeoutMaxUs(n) + 2 * kSecond;
  ASSERT_TRUE(net->RunUntil([&] { return net->AllSee(victim, MemberState::kDead); }, bound));
  std::cout << "N=" << n << ": crash seen dead by all after " << (net->now() - crash_at) / 1000
            << " ms\n";
  int saw_suspect_first = 0;
  for (int i = 0; i < n - 1; ++i) {
    const std::vector<Kind> kinds = net->EventsAbout(i, victim);
    ASSERT_FALSE(kinds.empty());
    EXPECT_EQ(kinds.back(), Kind::kDead);
    if (kinds.size() >= 2 && kinds[kinds.size() - 2] == Kind::kSuspect) ++saw_suspect_first;
  }
  EXPECT_GT(saw_suspect_first, 0);
  // Nobody declares death before the shortest suspicion timeout.
  for (const auto& r : net->events()) {
    if (r.event.kind == Kind::kDead) {
      EXPECT_GE(r.at, crash_at + config.SuspicionTimeoutMinUs(n));
    }
    if (r.event.kind == Kind::kSuspect || r.event.kind == Kind::kDead) {
      EXPECT_EQ(r.event.node, net->Id(victim)) << "a healthy member was suspected";
    }
  }
}

TEST(GossipFailureTest, CrashedMemberBecomesSuspectThenDeadOnEveryLiveMemberN5) {
  CrashIsDetected(5, 1);
}

TEST(GossipFailureTest, CrashedMemberBecomesSuspectThenDeadOnEveryLiveMemberN20) {
  CrashIsDetected(20, 3);
}

TEST(GossipFailureTest, SuspectedLiveMemberRefutesWithAHigherIncarnation) {
  auto net = Cluster(3);
  const uint64_t before = (*net)[1].incarnation();
  // Node 2 (so node 0 believes) suspects node 1.
  net->Inject(2, 0,
              GossipMsg{{MemberUpdate{.state = MemberState::kSuspect,
                                      .node = net->Id(1),
                                      .incarnation = before,
                                      .from = net->Id(2)}}});
  EXPECT_EQ(net->StateOf(0, 1), MemberState::kSuspect);
  net->RunFor(5 * kSecond);
  EXPECT_GT((*net)[1].incarnation(), before);
  EXPECT_EQ((*net)[1].stats().refutations, 1u);
  EXPECT_TRUE(net->Converged());
  EXPECT_THAT(net->EventsAbout(0, 1), ElementsAre(Kind::kJoined, Kind::kSuspect, Kind::kAlive));
  for (int i : {0, 2}) {
    EXPECT_EQ((*net)[i].Find(net->Id(1))->incarnation, (*net)[1].incarnation());
  }
  EXPECT_EQ(CountEvents(*net, Kind::kDead), 0);
}

std::vector<const PingMsg*> PingsFromTo(const GossipNet& net, int from, int to, int64_t after) {
  std::vector<const PingMsg*> out;
  for (const auto& r : net.sent()) {
    if (r.at >= after && r.from == from && r.to == to) {
      if (const auto* ping = std::get_if<PingMsg>(&r.envelope.body)) out.push_back(ping);
    }
  }
  return out;
}

// Node 0 suspects node 1 (on the word of a member 0 does not even know); its next probe of
// node 1 must carry the suspicion, made by node 0 itself, first among the updates
// (Lifeguard's buddy system), and node 1 refutes on the ack.
TEST(GossipFailureTest, ProbeOfASuspectCarriesTheSuspicion) {
  for (bool lifeguard : {true, false}) {
    SCOPED_TRACE(lifeguard ? "lifeguard" : "no lifeguard");
    GossipConfig config = GossipConfig::Lan();
    config.lifeguard = lifeguard;
    auto net = Cluster(2, config);
    // Only pings reach node 1 from node 0, so they are its only way to hear of it.
    net->SetDrop([](int from, int to, const Envelope& env) {
      return from == 0 && to == 1 && !std::holds_alternative<PingMsg>(env.body);
    });
    const int64_t t0 = net->now();
    constexpr NodeId kAccuser = 999;
    net->Inject(1, 0,
                GossipMsg{{MemberUpdate{.state = MemberState::kSuspect,
                                        .node = net->Id(1),
                                        .incarnation = (*net)[1].incarnation(),
                                        .from = kAccuser}}});
    ASSERT_EQ(net->StateOf(0, 1), MemberState::kSuspect);
    ASSERT_TRUE(
        net->RunUntil([&] { return !PingsFromTo(*net, 0, 1, t0).empty(); }, t0 + 2 * kSecond));
    const PingMsg& ping = *PingsFromTo(*net, 0, 1, t0).front();
    ASSERT_FALSE(ping.updates.empty());
    const MemberUpdate& first = ping.updates[0];
    const bool buddy = first.state == MemberState::kSuspect && first.node == net->Id(1) &&
                       first.from == net->Id(0);
    EXPECT_EQ(buddy, lifeguard);
    net->RunFor(kSecond);
    EXPECT_EQ((*net)[1].stats().refutations, 1u);
    EXPECT_EQ(net->StateOf(0, 1), MemberState::kAlive);
  }
}

TEST(GossipFailureTest, IndirectProbeSucceedsWhenOnlyTheDirectPathIsCut) {
  auto net = Cluster(4);
  const int64_t cut_at = net->now();
  net->SetDrop([](int from, int to, const Envelope&) {
    return (from == 0 && to == 1) || (from == 1 && to == 0);
  });
  net->RunFor(30 * kSecond);
  EXPECT_GT((*net)[0].stats().indirect_probes, 0u);
  EXPECT_GT((*net)[1].stats().indirect_probes, 0u);
  EXPECT_GT((*net)[2].stats().relayed_probes + (*net)[3].stats().relayed_probes, 0u);
  EXPECT_EQ((*net)[0].stats().probe_failures, 0u);
  EXPECT_EQ((*net)[1].stats().probe_failures, 0u);
  for (const auto& r : net->events()) {
    if (r.at >= cut_at) {
      EXPECT_NE(r.event.kind, Kind::kSuspect);
    }
  }
  EXPECT_TRUE(net->Converged());
}

TEST(GossipFailureTest, IndirectProberSendsANackWhenTheTargetIsSilent) {
  for (bool lifeguard : {true, false}) {
    SCOPED_TRACE(lifeguard ? "lifeguard" : "no lifeguard");
    GossipConfig config = GossipConfig::Lan();
    config.lifeguard = lifeguard;
    auto net = Cluster(4, config);
    net->Crash(3);
    net->RunFor(8 * kSecond);
    uint64_t sent = 0, received = 0, failures = 0;
    for (int i = 0; i < 3; ++i) {
      sent += (*net)[i].stats().nacks_sent;
      received += (*net)[i].stats().nacks_received;
      failures += (*net)[i].stats().probe_failures;
      // Every missing ack was matched by the relays' nacks: the prober is healthy.
      EXPECT_EQ((*net)[i].awareness(), 0);
    }
    EXPECT_GT(failures, 0u);
    int nack_messages = 0;
    for (const auto& r : net->sent()) {
      if (std::holds_alternative<NackMsg>(r.envelope.body)) ++nack_messages;
      if (const auto* req = std::get_if<PingReqMsg>(&r.envelope.body)) {
        EXPECT_EQ(req->nack, lifeguard);
      }
    }
    if (lifeguard) {
      EXPECT_GT(sent, 0u);
      EXPECT_EQ(received, sent);
      EXPECT_EQ(nack_messages, static_cast<int>(sent));
    } else {
      EXPECT_EQ(sent, 0u);
      EXPECT_EQ(nack_messages, 0);
    }
  }
}

TEST(GossipFailureTest, AwarenessStretchesTheProbeIntervalOfASlowNode) {
  for (bool lifeguard : {true, false}) {
    SCOPED_TRACE(lifeguard ? "lifeguard" : "no lifeguard");
    GossipConfig config = GossipConfig::Lan();
    config.lifeguard = lifeguard;
    auto net = Cluster(4, config);
    const int64_t cut_at = net->now();
    // Everything node 0 sends is lost: its probes get neither acks nor nacks.
    net->SetDrop([](int from, int, const Envelope&) { return from == 0; });
    net->RunFor(40 * kSecond);
    std::vector<int64_t> pings;
    for (const auto& r : net->sent()) {
      if (r.at >= cut_at && r.from == 0 && std::holds_alternative<PingMsg>(r.envelope.body)) {
        pings.push_back(r.at);
      }
    }
    ASSERT_GE(pings.size(), 3u);
    const int64_t last_gap = pings.back() - pings[pings.size() - 2];
    if (lifeguard) {
      EXPECT_EQ((*net)[0].awareness(), config.awareness_max - 1);
      EXPECT_EQ((*net)[0].ProbeIntervalUs(), config.awareness_max * config.probe_interval_us);
      EXPECT_EQ(last_gap, config.awareness_max * config.probe_interval_us);
    } else {
      EXPECT_EQ((*net)[0].awareness(), 0);
      EXPECT_EQ((*net)[0].ProbeIntervalUs(), config.probe_interval_us);
      EXPECT_EQ(last_gap, config.probe_interval_us);
    }
    // Healthy again: node 0 refutes its death, rejoins, and its score falls back.
    net->SetDrop(nullptr);
    ASSERT_TRUE(net->RunUntil([&] { return net->Converged(); }, net->now() + 60 * kSecond));
    net->RunFor(60 * kSecond);
    EXPECT_LT((*net)[0].awareness(), 2);
  }
}

// ---- leave and metadata ----

TEST(GossipMembershipTest, GracefulLeaveIsSeenAsLeftNotDead) {
  auto net = Cluster(4);
  const uint64_t before = (*net)[3].incarnation();
  net->Do(3, [](Gossip& g, Now now, GossipEffects& fx) { g.Leave(now, fx); });
  EXPECT_GT((*net)[3].incarnation(), before);
  ASSERT_TRUE(
      net->RunUntil([&] { return net->AllSee(3, MemberState::kLeft); }, net->now() + 3 * kSecond));
  for (int i = 0; i < 3; ++i) {
    EXPECT_THAT(net->EventsAbout(i, 3), ElementsAre(Kind::kJoined, Kind::kLeft));
  }
  net->RunFor(5 * kSecond);
  EXPECT_EQ((*net)[3].NextTickUs(), std::numeric_limits<int64_t>::max());
  EXPECT_FALSE((*net)[3].LooksAlive((*net)[3].id()));
  // After gossip_to_the_dead the left member is forgotten, and nobody tries to reconnect.
  net->RunFor(40 * kSecond);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ((*net)[i].Find(net->Id(3)), nullptr);
    EXPECT_EQ((*net)[i].stats().reconnects, 0u);
  }
  EXPECT_EQ(CountEvents(*net, Kind::kDead), 0);
  EXPECT_EQ(CountEvents(*net, Kind::kSuspect), 0);
}

TEST(GossipMembershipTest, MetadataUpdatePropagatesWithAnUpdatedEvent) {
  auto net = Cluster(5);
  const Tags tags = {{"zone", "eu-2"}, {"rack", "r17"}};
  net->Do(2, [&](Gossip& g, Now now, GossipEffects& fx) {
    EXPECT_TRUE(g.UpdateMeta(/*voter=*/true, tags, now, fx).ok());
  });
  ASSERT_TRUE(net->RunUntil(
      [&] {
        for (int i = 0; i < 5; ++i) {
          if ((*net)[i].Find(net->Id(2))->info.tags != tags) return false;
        }
        return true;
      },
      net->now() + 3 * kSecond));
  for (int i = 0; i < 5; ++i) {
    if (i == 2) continue;
    EXPECT_THAT(net->EventsAbout(i, 2), ElementsAre(Kind::kJoined, Kind::kUpdated));
    EXPECT_TRUE((*net)[i].Find(net->Id(2))->info.voter);
    EXPECT_EQ((*net)[i].Find(net->Id(2))->incarnation, (*net)[2].incarnation());
  }
}

TEST(GossipMembershipTest, UpdateMetaRefusesTagsBeyondTheBounds) {
  GossipConfig config = GossipConfig::Lan();
  config.tags_max = 2;
  GossipNet net(config);
  net.Add();
  net.Do(0, [](Gossip& g, Now now, GossipEffects& fx) {
    EXPECT_EQ(g.UpdateMeta(false, {{"a", "1"}, {"b", "2"}, {"c", "3"}}, now, fx).code(),
              absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(g.UpdateMeta(false, {{std::string(33, 'k'), ""}}, now, fx).code(),
              absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(g.UpdateMeta(false, {{"", "v"}}, now, fx).code(), absl::StatusCode::kInvalidArgument);
    const uint64_t before = g.incarnation();
    EXPECT_TRUE(g.UpdateMeta(true, {{"a", "1"}}, now, fx).ok());
    EXPECT_EQ(g.incarnation(), before + 1);
    g.Leave(now, fx);
    EXPECT_EQ(g.UpdateMeta(true, {}, now, fx).code(), absl::StatusCode::kFailedPrecondition);
  });
}

// ---- dissemination ----

TEST(GossipDisseminationTest, PiggybackRetransmitLimitIsHonoured) {
  GossipConfig config = GossipConfig::Lan();
  config.push_pull_interval_us = 0;  // full-state exchanges are not piggybacking
  auto net = Cluster(5, config);
  net->Do(2, [](Gossip& g, Now now, GossipEffects& fx) {
    EXPECT_TRUE(g.UpdateMeta(false, {{"v", "2"}}, now, fx).ok());
  });
  const uint64_t incarnation = (*net)[2].incarnation();
  const std::size_t first = net->sent().size();
  net->RunFor(20 * kSecond);
  const int limit = config.RetransmitLimit(5);
  std::vector<int> carried(5, 0);
  for (std::size_t k = first; k < net->sent().size(); ++k) {
    const auto& r = net->sent()[k];
    std::visit(
        [&]<typename T>(const T& m) {
          if constexpr (requires { m.updates; }) {
            for (const MemberUpdate& u : m.updates) {
              if (u.node == net->Id(2) && u.incarnation == incarnation) ++carried[r.from];
            }
          }
        },
        r.envelope.body);
  }
  int total = 0;
  for (int i = 0; i < 5; ++i) {
    EXPECT_LE(carried[i], limit) << "node " << i;
    total += carried[i];
  }
  EXPECT_EQ(carried[2], limit);  // the source sends it exactly `limit` times
  EXPECT_GT(total, limit);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE((*net)[i].broadcasts().empty());
}

TEST(GossipDisseminationTest, PushPullRepairsAMemberThatMissedAnUpdate) {
  GossipConfig config = GossipConfig::Lan();
  config.push_pull_interval_us = 10 * kSecond;
  auto net = Cluster(4, config);
  const Tags tags = {{"role", "db"}};
  // Node 3 never receives the update by piggyback or gossip; only push-pull gets through.
  net->SetDrop([&](int, int to, const Envelope& env) {
    if (to != 3 || std::holds_alternative<PushPullMsg>(env.body)) return false;
    bool carries = false;
    std::visit(
        [&]<typename T>(const T& m) {
          if constexpr (requires { m.updates; }) {
            for (const MemberUpdate& u : m.updates) carries |= u.node == net->Id(1);
          }
        },
        env.body);
    return carries;
  });
  const int64_t t0 = net->now();
  net->Do(1, [&](Gossip& g, Now now, GossipEffects& fx) {
    EXPECT_TRUE(g.UpdateMeta(false, tags, now, fx).ok());
  });
  net->RunFor(2 * kSecond);
  EXPECT_TRUE(net->AllSee(1, MemberState::kAlive));
  EXPECT_NE((*net)[3].Find(net->Id(1))->info.tags, tags);
  ASSERT_TRUE(net->RunUntil([&] { return (*net)[3].Find(net->Id(1))->info.tags == tags; },
                            t0 + 2 * config.push_pull_interval_us + kSecond));
  EXPECT_THAT(net->EventsAbout(3, 1), Contains(Kind::kUpdated));
}

TEST(GossipDisseminationTest, LongPartitionHealsThroughReconnect) {
  auto net = Cluster(6);
  auto side = [](int i) { return i < 3; };
  net->SetDrop([&](int from, int to, const Envelope&) { return side(from) != side(to); });
  // Long enough that each side declares the other dead and then forgets it.
  net->RunFor(120 * kSecond);
  EXPECT_EQ((*net)[0].Find(net->Id(5)), nullptr);
  EXPECT_EQ((*net)[5].Find(net->Id(0)), nullptr);
  net->SetDrop(nullptr);
  ASSERT_TRUE(net->RunUntil([&] { return net->Converged(); }, net->now() + 90 * kSecond));
  uint64_t reconnects = 0;
  for (int i = 0; i < 6; ++i) reconnects += (*net)[i].stats().reconnects;
  EXPECT_GT(reconnects, 0u);
}

TEST(GossipDisseminationTest, RestartedMemberRejoinsAndRefutesItsOldDeath) {
  auto net = Cluster(4);
  net->Crash(3);
  ASSERT_TRUE(
      net->RunUntil([&] { return net->AllSee(3, MemberState::kDead); }, net->now() + 40 * kSecond));
  // A new process, same name, no memory: incarnation 0 again.
  net->Restart(3, 0);
  net->Join(3, {0});
  ASSERT_TRUE(net->RunUntil([&] { return net->Converged(); }, net->now() + 10 * kSecond));
  EXPECT_GE((*net)[3].stats().refutations, 1u);
  for (int i = 0; i < 3; ++i) EXPECT_THAT(net->EventsAbout(i, 3), Contains(Kind::kJoined));
}

// ---- hints for leases ----

TEST(GossipHintsTest, LooksAliveAndLiveFirst) {
  auto net = Cluster(4);
  net->Crash(3);
  const Gossip& g = (*net)[0];
  // Suspected, not yet dead: still worth asking.
  ASSERT_TRUE(net->RunUntil([&] { return g.Find(net->Id(3))->state == MemberState::kSuspect; },
                            net->now() + 40 * kSecond));
  EXPECT_TRUE(g.LooksAlive(net->Id(3)));
  ASSERT_TRUE(
      net->RunUntil([&] { return net->AllSee(3, MemberState::kDead); }, net->now() + 40 * kSecond));
  EXPECT_TRUE(g.LooksAlive(g.id()));
  EXPECT_TRUE(g.LooksAlive(net->Id(1)));
  EXPECT_FALSE(g.LooksAlive(net->Id(3)));
  EXPECT_FALSE(g.LooksAlive(12345));
  EXPECT_THAT(g.LiveFirst({net->Id(3), 12345, net->Id(1), net->Id(0)}),
              ElementsAre(net->Id(1), net->Id(0), net->Id(3), 12345));
}

// ---- determinism and bounds ----

std::vector<std::tuple<int64_t, int, int, std::size_t, std::size_t>> Trace(uint64_t seed) {
  auto net = Cluster(8, GossipConfig::Lan(), seed);
  net->Crash(5);
  net->RunFor(40 * kSecond);
  std::vector<std::tuple<int64_t, int, int, std::size_t, std::size_t>> out;
  for (const auto& r : net->sent()) out.emplace_back(r.at, r.from, r.to, r.kind, r.bytes);
  return out;
}

TEST(GossipDeterminismTest, SameSeedSameMessages) {
  const auto a = Trace(42);
  const auto b = Trace(42);
  EXPECT_GT(a.size(), 100u);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, Trace(43));
}

TEST(GossipBoundsTest, EveryMessageOfABusyClusterFitsADatagram) {
  auto net = Cluster(30, GossipConfig::Lan(), 5);
  for (int i = 0; i < 30; i += 3) {
    net->Do(i, [&](Gossip& g, Now now, GossipEffects& fx) {
      Tags tags;
      for (int t = 0; t < 16; ++t) tags["key-" + std::to_string(t)] = std::string(20, 'v');
      EXPECT_TRUE(g.UpdateMeta(true, tags, now, fx).ok());
    });
  }
  net->Crash(7);
  net->RunFor(60 * kSecond);
  EXPECT_EQ(net->encode_failures(), 0);
  EXPECT_LE(net->max_datagram_bytes(), kDatagramBytesMax);
  std::cout << "largest datagram: " << net->max_datagram_bytes() << " bytes\n";
}

}  // namespace
}  // namespace lockmesh::core
