// Tests for the proposer's queue of releases resent until confirmed: merging, confirmation
// voter by voter, the bound, and that a tick resends only what is due, earliest first.
#include "lib/core/lease/release_queue.h"

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace lockmesh::core {
namespace {

const Owner kOwner{10, 1, 1};

std::vector<std::string> TickAt(ReleaseQueue& q, int64_t now_us, std::size_t* given_up = nullptr) {
  std::vector<std::string> resent;
  const std::size_t n = q.Tick(now_us, [&](const ReleaseQueue::Key& key, ReleaseQueue::Release& r) {
    resent.push_back(key.first);
    ++r.resends;
    return now_us + 100;
  });
  if (given_up != nullptr) *given_up = n;
  return resent;
}

TEST(ReleaseQueueTest, ResendsOnlyWhatIsDueEarliestFirstUntilConfirmed) {
  ReleaseQueue q(8);
  EXPECT_EQ(q.NextDueUs(), std::numeric_limits<int64_t>::max());
  ASSERT_TRUE(q.Add({"b", 2}, kOwner, 0b011, 50, 10'000, false));
  ASSERT_TRUE(q.Add({"a", 1}, kOwner, 0b100, 70, 10'000, true));
  EXPECT_EQ(q.NextDueUs(), 50);
  EXPECT_TRUE(TickAt(q, 49).empty());
  EXPECT_EQ(TickAt(q, 60), std::vector<std::string>{"b"});
  EXPECT_EQ(q.NextDueUs(), 70);
  EXPECT_EQ(TickAt(q, 200), (std::vector<std::string>{"a", "b"}));  // a due at 70, b at 160
  // Confirmed voter by voter; the last confirmation ends it.
  q.Confirm({"b", 2}, kOwner, 0);
  EXPECT_EQ(q.size(), 2u);
  q.Confirm({"b", 2}, Owner{10, 1, 2}, 1);  // another owner's confirmation changes nothing
  EXPECT_EQ(q.size(), 2u);
  q.Confirm({"b", 2}, kOwner, 1);
  EXPECT_EQ(q.size(), 1u);
  EXPECT_EQ(TickAt(q, 400), std::vector<std::string>{"a"});
}

TEST(ReleaseQueueTest, AddingAgainMergesVotersAndMovesTheDueTime) {
  ReleaseQueue q(8);
  ASSERT_TRUE(q.Add({"a", 1}, kOwner, 0b001, 50, 1'000, false));
  ASSERT_TRUE(q.Add({"a", 1}, kOwner, 0b010, 500, 800, true));
  EXPECT_EQ(q.size(), 1u);
  EXPECT_EQ(q.NextDueUs(), 500);
  EXPECT_TRUE(TickAt(q, 100).empty());
  std::vector<uint32_t> voters;
  q.Tick(500, [&](const ReleaseQueue::Key&, ReleaseQueue::Release& r) {
    voters.push_back(r.voters);
    EXPECT_TRUE(r.still_waiting);
    return int64_t{900};
  });
  EXPECT_EQ(voters, std::vector<uint32_t>{0b011});
  // The later give-up time of the two is kept: due at 900, given up at 1000.
  EXPECT_EQ(TickAt(q, 950).size(), 1u);
  std::size_t given_up = 0;
  EXPECT_TRUE(TickAt(q, 1'050, &given_up).empty());
  EXPECT_EQ(given_up, 1u);
  EXPECT_EQ(q.size(), 0u);
  EXPECT_EQ(q.NextDueUs(), std::numeric_limits<int64_t>::max());
}

TEST(ReleaseQueueTest, ANewReleaseBeyondTheBoundIsRefusedAndAMergeStillWorks) {
  ReleaseQueue q(2);
  ASSERT_TRUE(q.Add({"a", 1}, kOwner, 1, 50, 1'000, false));
  ASSERT_TRUE(q.Add({"b", 1}, kOwner, 1, 60, 1'000, false));
  EXPECT_FALSE(q.Add({"c", 1}, kOwner, 1, 40, 1'000, false));
  EXPECT_EQ(q.size(), 2u);
  EXPECT_EQ(q.NextDueUs(), 50);
  EXPECT_TRUE(q.Add({"a", 1}, kOwner, 2, 70, 1'000, false));
  EXPECT_EQ(q.NextDueUs(), 60);
}

}  // namespace
}  // namespace lockmesh::core
