// Which thread runs what: a node shared by callers' threads and an io_context that several
// threads run stays safe; callbacks never run inside the call that started them, and always
// on the node's executor.
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "tests/runtime/test_cluster.h"

namespace lockmesh::testing {
namespace {

// An embedder's io_context run by `n` threads until destroyed.
class IoThreads {
 public:
  explicit IoThreads(int n) : work_(boost::asio::make_work_guard(io_)) {
    for (int i = 0; i < n; ++i) threads_.emplace_back([this] { io_.run(); });
  }
  ~IoThreads() {
    work_.reset();
    for (std::thread& t : threads_) t.join();
  }
  boost::asio::io_context& io() { return io_; }

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::vector<std::thread> threads_;
};

// Acquires "shared" on `node` from its io threads, one after another, each released inside
// its own callback before the next starts; counts grants and checks tokens rise.
struct Chain {
  Node* node = nullptr;
  int left = 0;
  uint64_t last_token = 0;
  std::atomic<int> failures{0};
  absl::Notification done;

  void Next() {
    if (left-- == 0) return done.Notify();
    node->AcquireAsync("shared", {.duration = 2s, .wait = 20s}, [this](absl::StatusOr<Lease> l) {
      if (!l.ok() || l->token() <= last_token) {
        ++failures;
      } else {
        last_token = l->token();
      }
      if (l.ok() && !l->Release().ok()) ++failures;
      Next();
    });
  }
};

TEST(ThreadsTest, CallersThreadsAndAMultiThreadedIoContextShareTheNodesSafely) {
  IoThreads threads(3);
  {
    // Every node on the embedder's io_context, which three threads run: the engines take
    // network input through Asio's reads, from any of them.
    TestCluster c(3, 3, {}, &threads.io());
    c.WaitConverged();
    constexpr int kCycles = 150;
    Chain chain{.node = &c.node(1), .left = kCycles};
    boost::asio::post(c.node(1).get_executor(), [&] { chain.Next(); });
    // Node 2's caller contends with the chain for "shared"; node 0's takes resources of its own.
    std::thread contender([&] {
      for (int i = 0; i < kCycles; ++i) {
        absl::StatusOr<Lease> l = c.node(2).Acquire("shared", {.duration = 2s, .wait = 20s});
        EXPECT_TRUE(l.ok()) << l.status();
      }
    });
    uint64_t own = 0;
    for (int i = 0; i < kCycles; ++i) {
      absl::StatusOr<Lease> l = c.node(0).Acquire(absl::StrCat("own/", i % 7), {.duration = 2s});
      ASSERT_TRUE(l.ok()) << l.status();
      own += l->valid();
    }
    contender.join();
    ASSERT_TRUE(chain.done.WaitForNotificationWithTimeout(absl::Seconds(60)));
    EXPECT_EQ(chain.failures.load(), 0);
    EXPECT_EQ(own, static_cast<uint64_t>(kCycles));
    EXPECT_EQ(c.node(1).GetMetrics().acquires_succeeded, static_cast<uint64_t>(kCycles));
  }
}

TEST(ThreadsTest, ACallbackFromACallersThreadRunsOnTheNodesExecutorNotOnTheCallersStack) {
  // A single local voter can grant within the call, and a bad argument fails within it: the
  // callback still runs on the node's executor, never inside the call on the caller's thread
  // (where the caller may hold locks the callback takes).
  TestCluster c(1, 1);
  for (std::chrono::milliseconds wait : {std::chrono::milliseconds(-1), 1000ms}) {
    std::atomic<bool> on_callers_thread{true}, on_executor{false};
    absl::Notification ran;
    const std::thread::id caller = std::this_thread::get_id();
    c.node(0).AcquireAsync("r", {.duration = 1s, .wait = wait}, [&](absl::StatusOr<Lease> l) {
      on_callers_thread = std::this_thread::get_id() == caller;
      on_executor = c.node(0).get_executor().running_in_this_thread();
      ran.Notify();
    });
    ASSERT_TRUE(ran.WaitForNotificationWithTimeout(absl::Seconds(20)));
    EXPECT_FALSE(on_callers_thread) << "wait " << wait.count() << " ms";
    EXPECT_TRUE(on_executor) << "wait " << wait.count() << " ms";
  }
}

}  // namespace
}  // namespace lockmesh::testing
