// Tests for the simulator's F1 judge (sim/fairness.h): a request granted while an earlier
// ticket waited in every voter's line since before it appeared is a finding; requests in
// some lines only, stale acquires of finished requests, and anything after the first fault
// are not judged.
#include "sim/fairness.h"

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <tuple>

#include "gtest/gtest.h"

namespace lockmesh::sim {
namespace {

constexpr int64_t kFaultsFromUs = 1'000'000;

class FairnessTest : public ::testing::Test {
 protected:
  // Requests (node, ticket) the test says wait in every voter's line.
  std::set<std::tuple<core::NodeId, core::Ballot>> everywhere_;
  Fairness f_{kFaultsFromUs, [this](const std::string&, core::NodeId node, core::Ballot ticket) {
                return everywhere_.contains({node, ticket});
              }};
  static core::Owner Of(core::NodeId node, uint64_t request) { return {node, 1, request}; }
};

TEST_F(FairnessTest, ALaterTicketGrantedWhileAnEarlierWaitsEverywhereIsAFinding) {
  f_.OnAcquire(10, "r", Of(1, 1), 100);
  everywhere_.insert({1, 100});
  f_.OnAcquire(20, "r", Of(2, 1), 200);
  const std::optional<std::string> finding = f_.OnGranted(30, Of(2, 1));
  ASSERT_TRUE(finding.has_value());
  EXPECT_NE(finding->find("still waited"), std::string::npos) << *finding;
  EXPECT_EQ(f_.judged(), 1u);
}

TEST_F(FairnessTest, TheEarlierGrantedFirstIsFair) {
  f_.OnAcquire(10, "r", Of(1, 1), 100);
  everywhere_.insert({1, 100});
  f_.OnAcquire(20, "r", Of(2, 1), 200);
  EXPECT_FALSE(f_.OnGranted(30, Of(1, 1)).has_value());
  EXPECT_FALSE(f_.OnGranted(40, Of(2, 1)).has_value());
  // A late acquire of the granted request does not bring it back as a waiter.
  f_.OnAcquire(41, "r", Of(1, 1), 100);
  f_.OnAcquire(42, "r", Of(3, 1), 300);
  EXPECT_FALSE(f_.OnGranted(50, Of(3, 1)).has_value());
}

TEST_F(FairnessTest, NotJudged) {
  // In some lines only when the later one appeared: which came first differs by voter.
  f_.OnAcquire(10, "r", Of(1, 1), 100);
  f_.OnAcquire(20, "r", Of(2, 1), 200);
  everywhere_.insert({1, 100});
  EXPECT_FALSE(f_.OnGranted(30, Of(2, 1)).has_value());
  EXPECT_FALSE(f_.OnGranted(31, Of(1, 1)).has_value());
  // Another resource, a later ticket, or one that gave up.
  f_.OnAcquire(40, "s", Of(3, 1), 300);
  everywhere_.insert({3, 300});
  f_.OnAcquire(41, "r", Of(4, 1), 400);
  EXPECT_FALSE(f_.OnGranted(50, Of(4, 1)).has_value());
  f_.OnAcquire(60, "s", Of(5, 1), 500);
  f_.OnGaveUp(Of(3, 1));
  EXPECT_FALSE(f_.OnGranted(70, Of(5, 1)).has_value());
  // A try-acquire (ticket 0) does not wait its turn.
  f_.OnAcquire(80, "r", Of(6, 1), 0);
  EXPECT_FALSE(f_.OnGranted(90, Of(6, 1)).has_value());
  // After the first fault.
  f_.OnAcquire(100, "t", Of(7, 1), 700);
  everywhere_.insert({7, 700});
  f_.OnAcquire(110, "t", Of(8, 1), 800);
  EXPECT_FALSE(f_.OnGranted(kFaultsFromUs, Of(8, 1)).has_value());
}

}  // namespace
}  // namespace lockmesh::sim
