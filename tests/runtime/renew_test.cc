// Lease::Renew: renewal asked for by the holder, and what each bad call gets.
#include <atomic>
#include <chrono>

#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/runtime/test_cluster.h"

namespace lockmesh::testing {
namespace {

using ::testing::HasSubstr;

TEST(RenewTest, ARenewalMovesTheDeadlineAndKeepsALeaseWithoutAutoRenewPastItsDuration) {
  TestCluster c(3, 3);
  c.WaitConverged();
  absl::StatusOr<Lease> lease = c.node(0).Acquire("r", {.duration = 1s});
  ASSERT_TRUE(lease.ok()) << lease.status();
  const auto first_deadline = lease->deadline();
  ASSERT_TRUE(lease->Renew(3s).ok());
  EXPECT_GT(lease->deadline(), first_deadline + 1500ms);
  // Past the first deadline (and its loss margin) it is still held, and nobody else gets it.
  ASSERT_TRUE(c.events().WaitFor(
      [&] { return std::chrono::steady_clock::now() > first_deadline + 200ms; }));
  EXPECT_TRUE(lease->valid());
  EXPECT_FALSE(lease->lost());
  EXPECT_EQ(c.node(1).TryAcquire("r", {.duration = 1s}).status().code(),
            absl::StatusCode::kAborted);
  EXPECT_GE(c.node(0).GetMetrics().renewals, 1u);
  // Renewing with no duration keeps the last one.
  const auto second_deadline = lease->deadline();
  ASSERT_TRUE(lease->Renew().ok());
  EXPECT_GT(lease->deadline(), second_deadline);
}

TEST(RenewTest, BadRenewalsGetTheirCodes) {
  TestCluster c(3, 3);
  c.WaitConverged();
  absl::StatusOr<Lease> lease = c.node(0).Acquire("r", {.duration = 2s});
  ASSERT_TRUE(lease.ok()) << lease.status();
  // A duration out of range: InvalidArgument, and the lease is untouched.
  const auto deadline = lease->deadline();
  EXPECT_EQ(lease->Renew(50ms).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(lease->Renew(std::chrono::hours(1)).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(lease->deadline(), deadline);
  EXPECT_TRUE(lease->valid());
  // Released: FailedPrecondition. An empty lease: the same.
  ASSERT_TRUE(lease->Release().ok());
  absl::Status released = lease->Renew(2s);
  EXPECT_EQ(released.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(released.message()), HasSubstr("not held"));
  Lease empty;
  EXPECT_EQ(empty.Renew().code(), absl::StatusCode::kFailedPrecondition);
  absl::Notification empty_done;
  absl::Status empty_status;
  empty.RenewAsync(1s, [&](absl::Status s) {
    empty_status = s;
    empty_done.Notify();
  });
  ASSERT_TRUE(empty_done.WaitForNotificationWithTimeout(absl::Seconds(20)));
  EXPECT_EQ(empty_status.code(), absl::StatusCode::kFailedPrecondition);
}

TEST(RenewTest, ARenewalWithoutAMajorityIsUnavailableAndTheLeaseHoldsToItsDeadline) {
  TestCluster c(3, 3);
  c.WaitConverged();
  absl::StatusOr<Lease> lease = c.node(0).Acquire("r", {.duration = 5s});
  ASSERT_TRUE(lease.ok()) << lease.status();
  const auto deadline = lease->deadline();
  c.Stop(1);
  c.Stop(2);
  absl::Status st = lease->Renew(5s);
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable) << st;
  EXPECT_EQ(lease->deadline(), deadline);
  EXPECT_TRUE(lease->valid());
}

TEST(RenewTest, TheBlockingFormIsRefusedOnTheNodesIoThreadAndTheCallbackFormWorksThere) {
  TestCluster c(3, 3);
  c.WaitConverged();
  absl::StatusOr<Lease> lease = c.node(0).Acquire("r", {.duration = 1s});
  ASSERT_TRUE(lease.ok()) << lease.status();
  const auto first_deadline = lease->deadline();
  absl::Notification done;
  absl::Status inside, async;
  boost::asio::post(c.node(0).get_executor(), [&] {
    inside = lease->Renew(2s);
    lease->RenewAsync(2s, [&](absl::Status s) {
      async = s;
      done.Notify();
    });
  });
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(20)));
  EXPECT_EQ(inside.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(async.ok()) << async;
  EXPECT_GT(lease->deadline(), first_deadline);
}

}  // namespace
}  // namespace lockmesh::testing
