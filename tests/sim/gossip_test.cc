// Gossip membership in the simulator: the safety-type properties the issue asks
// for (no healthy member declared dead at 10% loss, convergence after a heal,
// no harm from a CPU-starved member) and lease safety while views disagree.
// Figures (detection times, bytes) belong to `lockmesh-sim gossip-report`.
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "sim/gossip_report.h"
#include "sim/simulation.h"

namespace lockmesh::sim {
namespace {

TEST(GossipSimTest, NoHealthyMemberDeclaredDeadAtTenPercentLoss) {
  uint64_t deaths = 0;
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    FalsePositiveResult r = MeasureFalsePositives({.members = 8, .loss = 0.1}, 60'000'000, seed);
    deaths += r.false_deaths;
    EXPECT_EQ(r.false_deaths, 0u) << "seed " << seed;
  }
  EXPECT_EQ(deaths, 0u);
}

TEST(GossipSimTest, EveryLiveMemberSeesACrashDead) {
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    for (double loss : {0.0, 0.1}) {
      DetectionResult r = MeasureDetection({.members = 10, .loss = loss}, seed);
      EXPECT_TRUE(r.detected) << "seed " << seed << " loss " << loss;
      EXPECT_EQ(r.false_deaths, 0u);
    }
  }
}

TEST(GossipSimTest, EveryMemberConvergesAfterAPartitionHeals) {
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    Scenario s = GossipScenario({.members = 12});
    Action cut;
    cut.at_us = 20'000'000;
    cut.kind = Action::Kind::kPartitionHalves;
    Action heal = cut;
    heal.at_us = 60'000'000;  // long enough for each half to declare the other dead
    heal.kind = Action::Kind::kHeal;
    s.actions = {cut, heal};
    s.run_us = 60'000'000 + 2 * core::GossipConfig::Lan().PushPullIntervalUs(12);
    s.quiet_us = s.run_us;
    Simulation sim(s, seed, nullptr);
    uint64_t deaths = 0;
    sim.ObserveMembers([&](int64_t, int, const core::MemberEvent& e) {
      deaths += e.kind == core::MemberEvent::Kind::kDead;
    });
    sim.Run();
    EXPECT_GT(deaths, 0u) << "the partition should have split the views";
    for (int i = 0; i < 12; ++i) {
      const core::Gossip* g = sim.GossipOf(i);
      ASSERT_NE(g, nullptr);
      EXPECT_EQ(g->LiveMembers(), 12u) << "seed " << seed << " n" << i;
      for (const core::Member& m : g->Members()) {
        EXPECT_EQ(m.state, core::MemberState::kAlive)
            << "seed " << seed << ": n" << i << " sees " << m.info.name << " "
            << core::MemberStateName(m.state);
      }
    }
  }
}

TEST(GossipSimTest, ACpuStarvedMemberGetsNoHealthyMemberDeclaredDead) {
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    SlowMemberResult on = MeasureSlowMember({.members = 20}, 1'000'000, 90'000'000, seed);
    SlowMemberResult off =
        MeasureSlowMember({.members = 20, .lifeguard = false}, 1'000'000, 90'000'000, seed);
    EXPECT_EQ(on.healthy_declared_dead, 0u) << "seed " << seed;
    EXPECT_EQ(off.healthy_declared_dead, 0u) << "seed " << seed;
  }
  // Not asserted: that Lifeguard makes the slow member suspect less. At 20 members over 200
  // seeds the two are within noise (76 with vs 74 without), and 4 seeds flip either way with
  // any change to datagram packing. `lockmesh-sim gossip-report` measures it at N=50.
}

TEST(GossipSimTest, AJoinReachesEveryMember) {
  JoinResult r = MeasureJoin({.members = 50}, 1);
  EXPECT_GE(r.all_us, 0) << "some member never learned of the newcomer";
  EXPECT_LE(r.all_us, core::GossipConfig::Lan().PushPullIntervalUs(50));
}

// Membership is a hint: with views split by a ring and by one-way cuts, leases
// keep S1-S3 and L1, and the views did disagree.
TEST(GossipSimTest, LeasesStaySafeWhileViewsDisagree) {
  absl::StatusOr<Scenario> s =
      LoadScenario(absl::StrCat(LOCKMESH_SCENARIO_DIR, "/gossip-views-disagree.scn"));
  ASSERT_TRUE(s.ok()) << s.status();
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    Simulation sim(*s, seed, nullptr);
    uint64_t suspicions = 0;
    sim.ObserveMembers([&](int64_t, int, const core::MemberEvent& e) {
      suspicions += e.kind == core::MemberEvent::Kind::kSuspect;
    });
    RunResult r = sim.Run();
    EXPECT_GT(suspicions, 0u) << "the views never disagreed";
    EXPECT_GT(r.stats.grants, 10u);
    for (const Violation& v : r.violations) {
      ADD_FAILURE() << "seed " << seed << ": " << v.property << " " << v.detail;
    }
  }
}

}  // namespace
}  // namespace lockmesh::sim
