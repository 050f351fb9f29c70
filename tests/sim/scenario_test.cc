// The scenario file format: what each directive means, and what bad input gets.
#include "sim/scenario.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sim/report.h"

namespace lockmesh::sim {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

TEST(ScenarioTest, ParsesEveryDirective) {
  absl::StatusOr<Scenario> s = ParseScenario(R"(
    # comment
    name      demo
    describe  first line
    voters    5
    members   2
    clients   3
    resources 4
    contended 50%
    lease-max 8s
    lease     1500ms
    hold      2s
    think     100ms
    wait      3s
    op        5ms
    renew     off
    drift     200ppm
    wall-skew 100ms
    loss      1%
    duplicate 0.02
    delay     1ms 3ms
    tail      5% 2s
    at 1s     partition isolate n3
    at 2s     cut inbound holder
    at 3s     pause n1 500ms
    at 4s     clock-jump n2 -1m
    at 5s     drift n0 +300ppm
    at 6s     heal
    quiet     7s
    run       30s
    expect    during 80%
    expect    gap 1s
    expect    messages 12.5
  )");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->name, "demo");
  EXPECT_EQ(s->voters, 5);
  EXPECT_EQ(s->Nodes(), 7);
  EXPECT_EQ(s->clients_per_node, 3);
  EXPECT_DOUBLE_EQ(s->contended, 0.5);
  EXPECT_EQ(s->timing.lease_duration_us_max, 8'000'000);
  EXPECT_GE(s->timing.quarantine_us, s->timing.QuarantineUsMin());
  EXPECT_EQ(s->lease_us, 1'500'000);
  EXPECT_FALSE(s->renew);
  EXPECT_DOUBLE_EQ(s->net.loss, 0.01);
  EXPECT_DOUBLE_EQ(s->net.duplicate, 0.02);
  EXPECT_EQ(s->net.delay_us_max, 3'000);
  EXPECT_EQ(s->net.tail_us_max, 2'000'000);
  ASSERT_EQ(s->actions.size(), 6u);
  EXPECT_EQ(s->actions[0].kind, Action::Kind::kPartitionIsolate);
  EXPECT_EQ(s->actions[0].target.node, 3);
  EXPECT_EQ(s->actions[1].target.node, Target::kHolder);
  EXPECT_EQ(s->actions[2].value, 500'000);
  EXPECT_EQ(s->actions[3].value, -60'000'000);
  EXPECT_EQ(s->actions[4].value, 300);
  EXPECT_EQ(s->QuietUs(), 7'000'000);
  EXPECT_FALSE(s->ClockOutOfBound());  // 300 ppm is inside rho = 1000 ppm
  EXPECT_DOUBLE_EQ(s->expect_during_min, 0.8);
  EXPECT_EQ(s->expect_gap_us_max, 1'000'000);
  EXPECT_DOUBLE_EQ(s->expect_messages_per_grant_max, 12.5);
}

TEST(ScenarioTest, QuietDefaultsToTheLastFaultIncludingPauses) {
  absl::StatusOr<Scenario> s = ParseScenario("at 2s pause n0 3s\nat 4s heal\n");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->QuietUs(), 5'000'000);
}

TEST(ScenarioTest, DriftAtExactlyRhoIsInsideTheBound) {
  absl::StatusOr<Scenario> s = ParseScenario("at 1s drift n0 -1000ppm\nat 1s drift n1 +1000ppm\n");
  ASSERT_TRUE(s.ok());
  EXPECT_FALSE(s->ClockOutOfBound());
}

TEST(ScenarioTest, DriftBeyondRhoMarksTheClockBoundBroken) {
  absl::StatusOr<Scenario> s = ParseScenario("at 1s drift n0 -5000ppm\n");
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->ClockOutOfBound());
}

// Each bad line is refused with an error that names the line and the problem.
TEST(ScenarioTest, ARunOverItsMessageBudgetMissesTheExpectation) {
  absl::StatusOr<Scenario> s = ParseScenario("expect messages 12.5\n");
  ASSERT_TRUE(s.ok()) << s.status();
  RunResult r;
  r.stats.grants = 10;
  r.stats.sent[0] = 60;  // acquires
  r.stats.sent[1] = 65;  // their answers: 12.5 per grant, at the bound
  EXPECT_THAT(MissedExpectations(*s, r), IsEmpty());
  r.stats.sent[4] = 1;  // one release more
  EXPECT_THAT(MissedExpectations(*s, r),
              ElementsAre("12.60 lease messages per grant (expected at most 12.50)"));
}

TEST(ScenarioTest, BadInputGetsAClearError) {
  struct Case {
    const char* text;
    const char* says;
  } cases[] = {
      {"voters 5\nfrobnicate 3\n", "line 2: unknown directive 'frobnicate'"},
      {"lease 3 parsecs\n", "not a duration"},
      {"lease -1s\n", "not a duration"},
      {"voters 12\n", "voters must be in [1, 9]"},
      {"at 1s crash n9\n", "beyond n2"},
      {"at 1s explode n0\n", "unknown fault"},
      {"at 1s pause n0\n", "takes 2 argument"},
      {"loss 150%\n", "probability out of [0,1]"},
      {"at 1s crash bob\n", "not a node"},
      {"unsafe yolo\n", "unknown unsafe switch 'yolo'"},
      {"lease 20s\n", "raise lease-max"},
      {"delay 5ms 1ms\n", "max below min"},
      {"renew maybe\n", "renew takes on or off"},
      {"grant-at-release yes\n", "grant-at-release takes on or off"},
      {"expect success\n", "expect takes 'violation'"},
      {"expect messages many\n", "expect messages takes a number"},
      {"expect messages 0\n", "expect messages takes a number"},
      {"expect messages nan\n", "expect messages takes a number"},
      // Numbers that are not numbers, and values no run can meet.
      {"at nans crash n0\n", "not a duration"},
      {"hold nans\n", "not a duration"},
      {"at 1s pause n0 nans\n", "not a duration"},
      {"lease infs\n", "not a duration"},
      {"loss nan\n", "not a probability"},
      {"run 1e7m\n", "beyond the limit of 1440m"},
      {"run 1e8s\n", "beyond the limit of 1440m"},
      {"at 1s clock-jump n0 1e7m\n", "beyond the limit of 1440m"},
      {"at 1s drift n0 9000000000000000000ppm\n", "beyond the limit of 500000ppm"},
      {"at 1s drift n0 -1000000ppm\n", "beyond the limit of 500000ppm"},
      {"drift 2000000ppm\n", "beyond the limit of 500000ppm"},
      {"drift -5ppm\n", "not a drift in ppm"},
      {"rho 1000000ppm\n", "rho must be in [0, 100000]ppm"},
      {"rho -1ppm\n", "rho must be in [0, 100000]ppm"},
      {"waiter-priority 60s\n", "waiter_priority_us must be at most"},
      {"", "no directives"},
      {"# only a comment\n\n", "no directives"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<Scenario> s = ParseScenario(c.text);
    ASSERT_FALSE(s.ok()) << c.text;
    EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument) << c.text;
    EXPECT_THAT(std::string(s.status().message()), HasSubstr(c.says)) << c.text;
  }
}

TEST(ScenarioTest, MissingFileIsNotFound) {
  EXPECT_EQ(LoadScenario("/nonexistent/x.scn").status().code(), absl::StatusCode::kNotFound);
}

TEST(ScenarioTest, ADirectoryIsNotAScenario) {
  absl::StatusOr<Scenario> s = LoadScenario(LOCKMESH_SCENARIO_DIR);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.status().message()), HasSubstr("is a directory"));
}

// The swarm prints durations in microseconds; every printed scenario reads back.
TEST(ScenarioTest, LongDurationsInMicrosecondsParse) {
  absl::StatusOr<Scenario> s = ParseScenario("at 24091092us heal\nrun 49969064us\n");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->run_us, 49'969'064);
}

// lease-max sets D_max and nothing else: no directive depends on its line's place.
TEST(ScenarioTest, DirectivesDoNotDependOnTheirOrder) {
  const char* settings[] = {"rho 5000ppm", "unsafe no-quarantine", "waiter-priority 30ms",
                            "expect violation", "lease-max 4s"};
  std::string forward, backward;
  for (const char* line : settings) forward = forward + line + "\n";
  for (int i = 4; i >= 0; --i) backward = backward + settings[i] + "\n";
  for (const std::string& text : {forward, backward}) {
    absl::StatusOr<Scenario> s = ParseScenario(text);
    ASSERT_TRUE(s.ok()) << s.status();
    EXPECT_EQ(s->timing.rho_ppm, 5'000) << text;
    EXPECT_TRUE(s->timing.unsafe.no_quarantine) << text;
    EXPECT_EQ(s->timing.waiter_priority_us, 30'000) << text;
    EXPECT_TRUE(s->expect_violation) << text;
    EXPECT_EQ(s->timing.lease_duration_us_max, 4'000'000) << text;
    EXPECT_EQ(s->timing.quarantine_us, s->timing.QuarantineUsMin()) << text;
  }
}

// L1's bound names every term, the waiter-priority window included: a window that
// stays idle because the told waiters gave up delays the next grant by its length.
TEST(ScenarioTest, TheLivenessBoundIncludesTheWaiterWindow) {
  absl::StatusOr<Scenario> a = ParseScenario("waiter-priority 0ms\n");
  absl::StatusOr<Scenario> b = ParseScenario("waiter-priority 10s\n");
  ASSERT_TRUE(a.ok() && b.ok());
  // One idle window per node that may wait (3 voters by default).
  EXPECT_EQ(b->LivenessBoundUs() - a->LivenessBoundUs(), 3 * 10'000'000);
  EXPECT_EQ(b->ProgressBoundUs() - a->ProgressBoundUs(), 3 * 10'000'000);
}

TEST(ScenarioTest, UnsafeSwitchesAreAllowedOnlyThroughApplyUnsafe) {
  Scenario s;
  ASSERT_TRUE(ApplyUnsafe("no-quarantine", s).ok());
  EXPECT_TRUE(s.timing.unsafe.no_quarantine);
  EXPECT_TRUE(s.timing.allow_unsafe);
  EXPECT_FALSE(ApplyUnsafe("nope", s).ok());
}

}  // namespace
}  // namespace lockmesh::sim
