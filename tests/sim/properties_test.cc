// Properties of the simulator itself and of the protocol as it measures it:
// determinism, the one-round-trip fast path, and proof that the checker can
// fail (each unsafe switch is caught).
#include <gtest/gtest.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "sim/scenario.h"
#include "sim/simulation.h"
#include "sim/swarm.h"

namespace lockmesh::sim {
namespace {

Scenario Uncontended(int voters, int members) {
  Scenario s;
  s.voters = voters;
  s.members = members;
  s.clients_per_node = 1;
  s.contended = 0;  // every client locks its own name
  s.renew = false;
  s.lease_us = 2'000'000;
  s.hold_us = 100'000;
  s.run_us = 30'000'000;
  s.timing = SimTiming(10'000'000);
  return s;
}

TEST(DeterminismTest, OneSeedGivesOneTraceHash) {
  for (uint64_t seed : {7, 1234}) {
    Scenario s = RandomScenario(seed);
    RunResult a = Simulation(s, seed, nullptr).Run();
    RunResult b = Simulation(s, seed, nullptr).Run();
    EXPECT_EQ(a.trace_hash, b.trace_hash) << "seed " << seed;
    EXPECT_EQ(a.stats.events, b.stats.events);
    EXPECT_EQ(a.stats.grants, b.stats.grants);
  }
}

TEST(DeterminismTest, DifferentSeedsGiveDifferentRuns) {
  Scenario s = RandomScenario(5);
  EXPECT_NE(Simulation(s, 5, nullptr).Run().trace_hash, Simulation(s, 6, nullptr).Run().trace_hash);
}

// Target: an uncontended acquire asked by a voter of a 3-voter cluster takes one
// round trip: 2 acquire messages out, 2 replies back.
TEST(FastPathTest, VoterAcquireIsOneRoundTrip) {
  RunResult r = Simulation(Uncontended(3, 0), 1, nullptr).Run();
  ASSERT_GT(r.stats.grants, 100u);
  EXPECT_TRUE(r.violations.empty());
  EXPECT_EQ(r.stats.failures, 0u);
  // Requests still open at the end sent their acquires but were not granted yet.
  const uint64_t asked = r.stats.acquires;
  EXPECT_LE(r.stats.sent[0], 2 * asked);  // acquire
  EXPECT_LE(r.stats.sent[1], 2 * asked);  // acquire-reply
  EXPECT_GE(r.stats.sent[0], 2 * r.stats.grants);
  EXPECT_NEAR(static_cast<double>(r.stats.sent[0]) / r.stats.grants, 2.0, 0.05);
}

// A member that is not a voter asks all three voters and needs two accepts.
TEST(FastPathTest, NonVoterAcquireAsksEveryVoter) {
  Scenario s = Uncontended(3, 1);
  RunResult r = Simulation(s, 1, nullptr).Run();
  ASSERT_GT(r.stats.grants, 100u);
  // 3 voter clients send 2 acquires each, the member's client sends 3.
  const double per_grant = static_cast<double>(r.stats.sent[0]) / r.stats.grants;
  EXPECT_GT(per_grant, 2.0);
  EXPECT_LT(per_grant, 2.5);
}

TEST(StoryTest, TheGcPauseWriteIsRefusedByTheFencedStore) {
  absl::StatusOr<Scenario> s = ParseScenario(R"(
    voters 3
    lease 2s
    hold 6s
    op 50ms
    at 3s pause holder 8s
    run 30s
  )");
  ASSERT_TRUE(s.ok());
  RunResult r = Simulation(*s, 1, nullptr).Run();
  EXPECT_TRUE(r.violations.empty());
  EXPECT_GE(r.stats.stale_refused, 1u);
}

// Fairness between nodes (sim/scenarios/fair-handoff.scn): four clients on each of three
// nodes contend for one resource. With waiter priority every node gets a fair share; without
// it (the behaviour before), the node holding the lease hands it to its own next client ahead
// of the notified waiters, and the other nodes starve.
uint64_t SmallestShareOfGrants(const RunResult& r) {
  uint64_t least = UINT64_MAX;
  for (uint64_t g : r.stats.grants_by_node) least = std::min(least, g);
  return r.stats.grants_by_node.size() == 3 ? least : 0;
}

TEST(FairnessTest, EveryNodeGetsAShareOfAContendedResource) {
  absl::StatusOr<Scenario> s = LoadScenario(LOCKMESH_SCENARIO_DIR "/fair-handoff.scn");
  ASSERT_TRUE(s.ok()) << s.status();
  for (uint64_t seed = 1; seed <= 3; ++seed) {
    RunResult r = Simulation(*s, seed, nullptr).Run();
    EXPECT_TRUE(r.violations.empty());
    ASSERT_GT(r.stats.grants, 300u);
    EXPECT_GE(SmallestShareOfGrants(r) * 5, r.stats.grants) << "seed " << seed;  // >= 20% each
  }
}

TEST(FairnessTest, WithoutWaiterPriorityANodeStarves) {
  absl::StatusOr<Scenario> s = LoadScenario(LOCKMESH_SCENARIO_DIR "/fair-handoff.scn");
  ASSERT_TRUE(s.ok()) << s.status();
  s->timing.waiter_priority_us = 0;
  RunResult r = Simulation(*s, 1, nullptr).Run();
  EXPECT_TRUE(r.violations.empty());
  EXPECT_LT(SmallestShareOfGrants(r) * 20, r.stats.grants);  // some node under 5%
}

// Beyond the clock bound only S3 is promised (DESIGN.md; docs/protocol.md). The schedule
// that broke the grant order of tokens before the designated successor (late accepts
// completing a stale majority) is not judged on S1 or S2; the fenced store refuses the
// stale holders and loses nothing. Grants out of token order, when they happen, are
// counted, not reported (CheckerTest.TokensOutOfGrantOrder... covers the judging itself).
TEST(ClockBoundTest, BeyondTheBoundOnlyFencedWritesAreJudgedAndNoUpdateIsLost) {
  absl::StatusOr<Scenario> s = LoadScenario(LOCKMESH_SCENARIO_DIR "/grant-order-beyond-bound.scn");
  ASSERT_TRUE(s.ok()) << s.status();
  uint64_t stale_refused = 0;
  // 24 seeds: with grants at release fewer runs make a stale holder (4 refused writes in
  // seeds 1-24; before it, 6 or more in seeds 1-12).
  for (uint64_t seed = 1; seed <= 24; ++seed) {
    RunResult r = Simulation(*s, seed, nullptr).Run();
    EXPECT_FALSE(r.rates_in_bound);
    for (const Violation& v : r.violations) {
      ADD_FAILURE() << "seed " << seed << ": " << v.property << " " << v.detail;
    }
    stale_refused += r.stats.stale_refused;
  }
  EXPECT_GE(stale_refused, 3u) << "the schedule no longer makes stale holders: it tests little";
}

// S2 across restarts assumes every wall clock within D_Q / 4 of true time. A run that
// moves one further is told apart, so a token out of order there is no false alarm.
TEST(ClockBoundTest, AWallClockFarFromTrueTimeIsOutsideTheBound) {
  absl::StatusOr<Scenario> s = ParseScenario("lease-max 4s\nat 1s clock-jump n0 -1m\nrun 10s\n");
  ASSERT_TRUE(s.ok()) << s.status();
  RunResult r = Simulation(*s, 1, nullptr).Run();
  EXPECT_TRUE(r.rates_in_bound);
  EXPECT_FALSE(r.walls_in_bound);
  EXPECT_GE(r.wall_offset_us_max, 60'000'000);
  absl::StatusOr<Scenario> near =
      ParseScenario("lease-max 4s\nat 1s clock-jump n0 -500ms\nrun 10s\n");
  ASSERT_TRUE(near.ok());
  EXPECT_TRUE(Simulation(*near, 1, nullptr).Run().walls_in_bound);
}

// Swarm seeds whose pause was cut short by `quiet` (tests/sim/regress): what the paused
// node held back must be handled when the pause ends, not at its planned end, or a stale
// write of the same client lands after its later ones and looks like a lost update.
TEST(RegressionTest, APauseCutShortHandsOverWhatItHeldBack) {
  for (uint64_t seed : {700906, 1067402, 2247294, 2380040, 2620114, 2831326}) {
    absl::StatusOr<Scenario> s =
        LoadScenario(absl::StrCat(LOCKMESH_REGRESS_DIR, "/swarm-", seed, ".scn"));
    ASSERT_TRUE(s.ok()) << s.status();
    RunResult r = Simulation(*s, seed, nullptr).Run();
    for (const Violation& v : r.violations) {
      ADD_FAILURE() << "seed " << seed << ": " << v.property << " " << v.detail;
    }
    EXPECT_GT(r.stats.grants, 0u);
  }
}

// Handoff between nodes (sim/scenarios/handoff-rate.scn, DESIGN.md rule 10): 15 clients on
// three nodes hold one resource for a few ms each, so the rate is set by the handoff. Voters
// grant the lease at release to the head of the waiters, on the ballot it parked: the
// release and the accepts are the whole handoff, one link delay. Before the designated
// successor: about 1,740 grants in 20 s with 16.2 lease messages and 5.4 acquires per grant;
// with it but without grant at release: 3,340 grants, 12 messages, a 3 ms gap.
TEST(HandoffTest, ALeasePassesOnAtReleaseInOneLinkDelay) {
  absl::StatusOr<Scenario> s = LoadScenario(LOCKMESH_SCENARIO_DIR "/handoff-rate.scn");
  ASSERT_TRUE(s.ok()) << s.status();
  for (uint64_t seed = 1; seed <= 3; ++seed) {
    RunResult r = Simulation(*s, seed, nullptr).Run();
    EXPECT_TRUE(r.violations.empty());
    EXPECT_GE(r.stats.grants, 4'500u) << "seed " << seed;
    uint64_t lease_messages = 0;
    for (int k = 0; k < 6; ++k) lease_messages += r.stats.sent[k];
    // Per grant: the release to two remote voters, their accepts to the head, and the
    // releasing node's next request parked (acquire + refusal, two voters each).
    EXPECT_LE(lease_messages, 85 * r.stats.grants / 10) << "seed " << seed;
    EXPECT_LE(r.stats.sent[0], 22 * r.stats.grants / 10) << "seed " << seed;
    EXPECT_GE(SmallestShareOfGrants(r) * 4, r.stats.grants) << "seed " << seed;  // >= 25% each
    // Every handoff within a few link delays (1-2 ms measured): a waiter left holding a
    // minority of accepts, or named by nobody, shows here as a gap of a window or a lease.
    ASSERT_FALSE(r.handoff_gaps_us.empty());
    EXPECT_LE(*std::max_element(r.handoff_gaps_us.begin(), r.handoff_gaps_us.end()), 5'000)
        << "seed " << seed;
  }
  // The same without grant at release: the head is told and asks again.
  Scenario off = *s;
  off.timing.grant_at_release = false;
  RunResult r = Simulation(off, 1, nullptr).Run();
  EXPECT_TRUE(r.violations.empty());
  EXPECT_LT(r.stats.grants, 3'500u);
}

// No orphaned accepts (sim/scenarios/lossy-try-acquire.scn): try-acquire clients over a
// lossy network. Partial accepts of failed attempts are released until confirmed, and a
// refusal naming an accept of ours that we did not know of clears it. Before: 33 to 77
// grants in 20 s, each orphaned accept blocking its voter for the whole lease.
TEST(OrphanTest, LossDoesNotLeaveAcceptsBlockingTheResource) {
  absl::StatusOr<Scenario> s = LoadScenario(LOCKMESH_SCENARIO_DIR "/lossy-try-acquire.scn");
  ASSERT_TRUE(s.ok()) << s.status();
  for (uint64_t seed = 1; seed <= 2; ++seed) {
    RunResult r = Simulation(*s, seed, nullptr).Run();
    EXPECT_TRUE(r.violations.empty());
    EXPECT_GE(r.stats.grants, 350u) << "seed " << seed;
  }
}

// A voter that hears nobody (sim/scenarios/deaf-voter.scn): its attempts are accepted everywhere
// but it never learns it. With attempts bounded by the measured round trip and their accepts
// released until confirmed, the others kept taking turns during the 10 s fault (537-543
// grants in 25 s before, 626-630 after). Since the deaf node probes instead of acquiring and
// a silent voter no longer holds up split votes (docs/protocol.md, "Partial faults"):
// 1004-1007, 87-91% of the fault-free rate during the fault (the file pins 80%).
TEST(DeafVoterTest, TheOthersKeepTakingTurns) {
  absl::StatusOr<Scenario> s = LoadScenario(LOCKMESH_SCENARIO_DIR "/deaf-voter.scn");
  ASSERT_TRUE(s.ok()) << s.status();
  for (uint64_t seed = 1; seed <= 2; ++seed) {
    RunResult r = Simulation(*s, seed, nullptr).Run();
    EXPECT_TRUE(r.violations.empty());
    EXPECT_GE(r.stats.grants, 950u) << "seed " << seed;
  }
}

struct UnsafeCase {
  const char* name;
  uint64_t seeds;  // the checker must catch the switch within this many seeds
};

class UnsafeTest : public ::testing::TestWithParam<UnsafeCase> {};

// The checker can fail: with a safety rule switched off, the swarm finds a
// violation of S1 or S2 within the stated number of seeds.
TEST_P(UnsafeTest, CheckerCatchesTheBrokenRule) {
  SwarmOptions options;
  options.first_seed = 1;
  options.last_seed = GetParam().seeds;
  options.threads = 2;
  options.unsafe = GetParam().name;
  options.stop_at_first = true;
  SwarmResult r = RunSwarm(options, nullptr);
  ASSERT_FALSE(r.failures.empty()) << "no violation within " << GetParam().seeds << " seeds";
  bool s1_or_s2 = false;
  for (const Violation& v : r.failures[0].violations) {
    s1_or_s2 |= v.property == "S1" || v.property == "S2";
  }
  EXPECT_TRUE(s1_or_s2) << r.failures[0].violations[0].property;
}

INSTANTIATE_TEST_SUITE_P(Switches, UnsafeTest,
                         ::testing::Values(UnsafeCase{"no-quarantine", 300},
                                           UnsafeCase{"overwrite-lease", 50},
                                           UnsafeCase{"no-clock-margin", 300}),
                         [](const auto& info) {
                           std::string n = info.param.name;
                           for (char& c : n) c = c == '-' ? '_' : c;
                           return n;
                         });

}  // namespace
}  // namespace lockmesh::sim
