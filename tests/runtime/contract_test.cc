// What the public headers promise, where a review found the engine breaking it: each test
// failed on the code before its fix.
#include <atomic>
#include <thread>

#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/runtime/test_cluster.h"

namespace lockmesh::testing {
namespace {

using ::testing::HasSubstr;

// Node 0 of three voters alone, with its breaker open for a long cooldown.
void OpenTheBreaker(TestCluster& c) {
  c.WaitConverged();
  c.Stop(1);
  c.Stop(2);
  ASSERT_EQ(c.node(0).Acquire("r", {.duration = 1s, .wait = 50ms}).status().code(),
            absl::StatusCode::kUnavailable);
  ASSERT_TRUE(c.node(0).GetMetrics().breaker_open);
}

TEST(ContractTest, ARequestHeldBackByTheBreakerEndsCancelledWhenItsSignalIsGiven) {
  // lease.h: "Ends the acquire with Cancelled while it waits" -- also while the breaker holds
  // it, not only once the cooldown lets it try.
  TestCluster c(3, 3, [](int, NodeOptions& o) {
    o.breaker_failures = 1;
    o.breaker_cooldown = 30s;
  });
  OpenTheBreaker(c);
  CancelSignal cancel;
  absl::Notification done;
  absl::Status status;
  c.node(0).AcquireAsync("r", {.duration = 1s, .wait = 60s, .cancel = cancel},
                         [&](absl::StatusOr<Lease> l) {
                           status = l.status();
                           done.Notify();
                         });
  ASSERT_TRUE(c.events().WaitFor([&] { return c.node(0).GetMetrics().breaker_deferrals == 1; }));
  cancel.Cancel();
  // Well inside the 30 s cooldown.
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_EQ(status.code(), absl::StatusCode::kCancelled) << status;
  EXPECT_EQ(c.node(0).GetMetrics().acquires_cancelled, 1u);
}

TEST(ContractTest, RequestsHeldBackByTheBreakerCountAgainstTheBoundOnOpenRequests) {
  // node.h: ResourceExhausted past 4096 open requests -- held-back ones are open requests.
  TestCluster c(3, 3, [](int, NodeOptions& o) {
    o.breaker_failures = 1;
    o.breaker_cooldown = 30s;
  });
  OpenTheBreaker(c);
  constexpr int kBound = 4096;
  CancelSignal cancel;
  std::atomic<int> exhausted{0}, cancelled{0}, other{0};
  for (int i = 0; i <= kBound; ++i) {
    c.node(0).AcquireAsync(absl::StrCat("r", i), {.duration = 1s, .wait = 60s, .cancel = cancel},
                           [&](absl::StatusOr<Lease> l) {
                             const absl::StatusCode code = l.status().code();
                             if (code == absl::StatusCode::kResourceExhausted) {
                               ++exhausted;
                             } else if (code == absl::StatusCode::kCancelled) {
                               ++cancelled;
                             } else {
                               ++other;
                             }
                           });
  }
  ASSERT_TRUE(c.events().WaitFor([&] { return exhausted.load() == 1; }));
  EXPECT_EQ(c.node(0).GetMetrics().breaker_deferrals, static_cast<uint64_t>(kBound));
  cancel.Cancel();
  ASSERT_TRUE(c.events().WaitFor([&] { return cancelled.load() == kBound; }));
  EXPECT_EQ(other.load(), 0);
}

TEST(ContractTest, KeyRotationIsLoggedOnTheNodesExecutor) {
  // log.h: "the hook is called on the node's executor".
  std::atomic<std::thread::id> key_log_thread{};
  TestCluster c(1, 1, [&](int, NodeOptions& o) {
    LogHook inner = o.log;
    o.log = [&, inner](const LogRecord& r) {
      if (r.event.starts_with("key.")) key_log_thread = std::this_thread::get_id();
      if (inner) inner(r);
    };
  });
  std::thread::id io_thread;
  absl::Notification posted;
  boost::asio::post(c.node(0).get_executor(), [&] {
    io_thread = std::this_thread::get_id();
    posted.Notify();
  });
  ASSERT_TRUE(posted.WaitForNotificationWithTimeout(absl::Seconds(20)));
  ASSERT_TRUE(c.node(0).AddKey(NewKeyText()).ok());
  ASSERT_TRUE(c.events().WaitFor([&] { return key_log_thread.load() != std::thread::id(); }));
  EXPECT_EQ(key_log_thread.load(), io_thread);
  EXPECT_NE(key_log_thread.load(), std::this_thread::get_id());
}

TEST(ContractTest, MembersOnTheNodesIoThreadIsFailedPreconditionNotAnEmptyList) {
  TestCluster c(1, 1);
  absl::Notification done;
  absl::StatusCode blocking = absl::StatusCode::kOk;
  std::size_t async_members = 0;
  boost::asio::post(c.node(0).get_executor(), [&] {
    blocking = c.node(0).Members().status().code();
    c.node(0).MembersAsync([&](std::vector<MemberView> members) {
      async_members = members.size();
      done.Notify();
    });
  });
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(20)));
  EXPECT_EQ(blocking, absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(async_members, 1u);
  absl::StatusOr<std::vector<MemberView>> outside = c.node(0).Members();
  ASSERT_TRUE(outside.ok()) << outside.status();
  EXPECT_EQ(outside->size(), 1u);
}

TEST(ContractTest, AnAttemptThatRunsItsWholeTimeoutIsCountedAndLogged) {
  // metrics.h: attempts_too_slow counts attempts that ran their whole timeout with voters
  // silent, and each is also logged. Two of three voters gone: no attempt can end early.
  TestCluster c(3, 3, [](int, NodeOptions& o) { o.breaker_failures = 1000; });
  c.WaitConverged();
  EXPECT_EQ(c.node(0).GetMetrics().attempts_too_slow, 0u);
  c.Stop(1);
  c.Stop(2);
  absl::StatusOr<Lease> l = c.node(0).Acquire("r", {.duration = 1s, .wait = 5s});
  EXPECT_EQ(l.status().code(), absl::StatusCode::kUnavailable) << l.status();
  EXPECT_GE(c.node(0).GetMetrics().attempts_too_slow, 1u);
  EXPECT_TRUE(c.events().WaitFor([&] { return c.events().Count("lease.attempt_too_slow") >= 1; }));
}

}  // namespace
}  // namespace lockmesh::testing
