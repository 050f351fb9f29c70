// The checker on its own, fed events by hand: each property can fail, and each is
// judged only where it is promised (sim/checker.h).
#include "sim/checker.h"

#include <gtest/gtest.h>

namespace lockmesh::sim {
namespace {

constexpr int64_t kSecond = 1'000'000;

// A checker whose holders stay valid until their deadline (true time = node time),
// and whose nodes can all make progress unless `stuck` says otherwise.
struct Fixture {
  int64_t now = 0;
  bool stuck = false;
  Checker checker;
  explicit Fixture(bool rates_in_bound = true)
      : checker(Checker::Options{
            .rates_in_bound = rates_in_bound,
            .quiet_us = 100 * kSecond,
            .liveness_bound_us = 10 * kSecond,
            .progress_bound_us = 5 * kSecond,
            .valid = [this](int, int64_t deadline_us) { return now < deadline_us; },
            .can_progress = [this](int) { return !stuck; },
        }) {}
  void PollUntil(int64_t until) {
    for (; now <= until; now += kSecond / 10) checker.Poll(now);
  }
  bool Saw(const char* property) const {
    for (const Violation& v : checker.violations()) {
      if (v.property == property) return true;
    }
    return false;
  }
};

TEST(CheckerTest, L2CatchesAResourceLeftWithoutHolderWhileAWaiterCouldProgress) {
  Fixture f;
  f.checker.OnWaitStart("r", 1, 0);
  f.PollUntil(6 * kSecond);
  EXPECT_TRUE(f.Saw("L2"));
  EXPECT_GE(f.checker.worst_progress_gap_us(), 5 * kSecond);
  EXPECT_GE(f.checker.worst_gap_during_faults_us(), 5 * kSecond);
  EXPECT_FALSE(f.Saw("L1"));  // faults have not stopped: L1 does not apply yet
}

TEST(CheckerTest, L2DoesNotApplyWhileNoWaiterCanReachAMajority) {
  Fixture f;
  f.stuck = true;
  f.checker.OnWaitStart("r", 1, 0);
  f.PollUntil(20 * kSecond);
  EXPECT_FALSE(f.Saw("L2"));
  EXPECT_EQ(f.checker.worst_progress_gap_us(), 0);
  EXPECT_GE(f.checker.worst_gap_during_faults_us(), 20 * kSecond);
}

TEST(CheckerTest, L2IsMetByAValidHolderAndCountsAWaiterThatAsksAgain) {
  Fixture f;
  f.checker.OnWaitStart("r", 1, 0);
  f.PollUntil(3 * kSecond);
  // It gave up and asks again a moment later: the same unmet demand.
  f.checker.OnWaitEnd("r", 1, f.now, /*gave_up=*/true);
  f.PollUntil(3'500'000);
  f.checker.OnWaitStart("r", 1, f.now);
  f.PollUntil(4 * kSecond);
  f.checker.OnGranted(f.now, 1, 7, "r", /*token=*/5, /*deadline_us=*/f.now + 2 * kSecond);
  f.checker.OnWaitEnd("r", 1, f.now, /*gave_up=*/false);
  f.PollUntil(9 * kSecond);
  EXPECT_FALSE(f.Saw("L2"));
  EXPECT_LT(f.checker.worst_progress_gap_us(), 5 * kSecond);
}

// A wait that ends without a grant and without giving up (its node crashed) is over: a wait
// for the same resource long after starts a stretch of its own. (Swarm seed 15499: a crash
// at 2.5 s and a new wait at 29.6 s read as 27.3 s without progress.)
TEST(CheckerTest, L2ForgetsAWaitEndedByACrash) {
  Fixture f;
  f.checker.OnWaitStart("r", 1, 0);
  f.PollUntil(3 * kSecond);
  f.checker.OnWaitEnd("r", 1, f.now, /*gave_up=*/false);
  f.PollUntil(20 * kSecond);
  f.checker.OnWaitStart("r", 1, f.now);
  f.PollUntil(21 * kSecond);
  EXPECT_FALSE(f.Saw("L2"));
  EXPECT_LT(f.checker.worst_progress_gap_us(), 5 * kSecond);
  f.PollUntil(27 * kSecond);  // the new wait is judged on its own
  EXPECT_TRUE(f.Saw("L2"));
}

TEST(CheckerTest, TokensOutOfGrantOrderAreAViolationOnlyInsideTheClockBounds) {
  for (bool rates_in_bound : {true, false}) {
    for (bool walls_in_bound : {true, false}) {
      Fixture f(rates_in_bound);
      f.checker.OnGranted(0, 1, 1, "r", /*token=*/9, /*deadline_us=*/kSecond);
      f.checker.OnGranted(2 * kSecond, 2, 2, "r", /*token=*/8, /*deadline_us=*/3 * kSecond);
      f.checker.Finish(walls_in_bound);
      EXPECT_EQ(f.checker.tokens_out_of_order(), 1u);
      EXPECT_EQ(f.Saw("S2"), rates_in_bound && walls_in_bound)
          << rates_in_bound << " " << walls_in_bound;
    }
  }
}

TEST(CheckerTest, TwoValidHoldersAreAViolationOnlyInsideTheRateBound) {
  for (bool rates_in_bound : {true, false}) {
    Fixture f(rates_in_bound);
    f.checker.OnGranted(0, 1, 1, "r", 1, 2 * kSecond);
    f.checker.OnGranted(kSecond, 2, 2, "r", 2, 3 * kSecond);
    EXPECT_EQ(f.Saw("S1"), rates_in_bound);
  }
}

// A handoff is a lease that ends while someone waits; its gap runs to the next grant.
TEST(CheckerTest, HandoffGapsRunFromAnEndWithWaitersToTheNextGrant) {
  Fixture f;
  f.checker.OnGranted(0, 1, 1, "r", 1, 10 * kSecond);
  f.checker.OnEnded(kSecond, 1, 1, "r");  // nobody waited: no handoff
  f.checker.OnGranted(2 * kSecond, 1, 2, "r", 2, 10 * kSecond);
  f.checker.OnWaitStart("r", 2, 2 * kSecond);
  f.checker.OnEnded(3 * kSecond, 1, 2, "r");
  f.checker.OnGranted(3 * kSecond + 6'000, 2, 3, "r", 3, 10 * kSecond);
  ASSERT_EQ(f.checker.handoff_gaps_us().size(), 1u);
  EXPECT_EQ(f.checker.handoff_gaps_us()[0], 6'000);
}

TEST(CheckerTest, ALostUpdateNamesItsToken) {
  Fixture f;
  f.checker.OnLostUpdate(0, "r", (uint64_t{1004183} << 16) | 3);
  ASSERT_EQ(f.checker.violations().size(), 1u);
  EXPECT_NE(f.checker.violations()[0].detail.find("token 1004183.3"), std::string::npos)
      << f.checker.violations()[0].detail;
}

}  // namespace
}  // namespace lockmesh::sim
