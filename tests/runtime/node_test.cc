// Nodes on loopback in one process: leases through the public API with real sockets.
// clang-format off: Boost 1.74's awaitable.hpp needs <utility> first under GCC 12.
#include <utility>
// clang-format on

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/runtime/test_cluster.h"

namespace lockmesh::testing {
namespace {

using ::testing::HasSubstr;

// What a lock protects, fenced: a write carrying a token older than the newest one seen is
// refused, as a careful storage service would.
class FencedCounter {
 public:
  bool Increment(uint64_t token) {
    absl::MutexLock lock(&mu_);
    if (token <= last_token_) {
      ++refused_;
      return false;
    }
    last_token_ = token;
    const uint64_t read = value_;
    // Widen the window in which an unfenced second writer would lose an update.
    std::this_thread::yield();
    value_ = read + 1;
    return true;
  }
  uint64_t value() const {
    absl::MutexLock lock(&mu_);
    return value_;
  }
  int refused() const {
    absl::MutexLock lock(&mu_);
    return refused_;
  }

 private:
  mutable absl::Mutex mu_;
  uint64_t value_ = 0;
  uint64_t last_token_ = 0;
  int refused_ = 0;
};

void ContendedCounter(TestCluster& c, int per_node) {
  c.WaitConverged();
  FencedCounter counter;
  std::vector<std::thread> workers;
  std::atomic<int> failures{0};
  for (int i = 0; i < c.size(); ++i) {
    workers.emplace_back([&, i] {
      for (int k = 0; k < per_node; ++k) {
        absl::StatusOr<Lease> lease = c.node(i).Acquire("counter", {.duration = 2s, .wait = 20s});
        if (!lease.ok()) {
          ADD_FAILURE() << "n" << i << ": " << lease.status();
          ++failures;
          continue;
        }
        EXPECT_GT(lease->token(), 0u);
        counter.Increment(lease->token());
        EXPECT_TRUE(lease->Release().ok());
      }
    });
  }
  for (auto& w : workers) w.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(counter.value(), static_cast<uint64_t>(per_node * c.size()));
  EXPECT_EQ(counter.refused(), 0);
}

TEST(NodeTest, ThreeNodesContendForAFencedCounterThatEndsExactlyRight) {
  TestCluster c(3, 3);
  ContendedCounter(c, 20);
  // Release() returns before the node has processed it.
  ASSERT_TRUE(c.events().WaitFor([&] { return c.node(0).GetMetrics().releases == 20; }));
  const Metrics m = c.node(0).GetMetrics();
  EXPECT_EQ(m.acquires_succeeded, 20u);
  EXPECT_EQ(m.releases, 20u);
  EXPECT_EQ(m.acquire_latency.count, 20u);
  EXPECT_GT(m.datagrams_sent, 0u);
  EXPECT_EQ(m.dropped_unauthenticated + m.dropped_malformed + m.dropped_unknown_key, 0u);
}

TEST(NodeTest, FiveNodesWithThreeVotersContendForAFencedCounter) {
  TestCluster c(5, 3);
  ContendedCounter(c, 10);
  EXPECT_FALSE(c.node(4).GetMetrics().voter);
  EXPECT_TRUE(c.node(0).GetMetrics().voter);
}

TEST(NodeTest, TryAcquireOfAHeldLeaseIsAbortedAndAWaiterGetsItOnRelease) {
  TestCluster c(3, 3);
  c.WaitConverged();
  absl::StatusOr<Lease> first = c.node(0).Acquire("r", {.duration = 5s});
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<Lease> second = c.node(1).TryAcquire("r", {.duration = 1s});
  EXPECT_EQ(second.status().code(), absl::StatusCode::kAborted) << second.status();

  std::atomic<bool> done{false};
  absl::StatusOr<Lease> waited = absl::UnknownError("not yet");
  c.node(2).AcquireAsync("r", {.duration = 5s, .wait = 20s}, [&](absl::StatusOr<Lease> l) {
    waited = std::move(l);
    done = true;
  });
  ASSERT_TRUE(first->Release().ok());
  EXPECT_EQ(first->Release().code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(c.events().WaitFor([&] { return done.load(); }));
  ASSERT_TRUE(waited.ok()) << waited.status();
  EXPECT_GT(waited->token(), first->token());
  // Woken by the release notice, long before the 5 s lease would have run out.
  EXPECT_LT(std::chrono::steady_clock::now(), first->deadline());
}

TEST(NodeTest, AWaitLimitEndsWithDeadlineExceededAndCancelWithCancelled) {
  TestCluster c(3, 3);
  c.WaitConverged();
  absl::StatusOr<Lease> held = c.node(0).Acquire("r", {.duration = 5s});
  ASSERT_TRUE(held.ok());
  absl::StatusOr<Lease> late = c.node(1).Acquire("r", {.duration = 1s, .wait = 300ms});
  EXPECT_EQ(late.status().code(), absl::StatusCode::kDeadlineExceeded) << late.status();

  CancelSignal cancel;
  std::atomic<bool> done{false};
  absl::Status result;
  c.node(2).AcquireAsync("r", {.duration = 1s, .wait = 20s, .cancel = cancel},
                         [&](absl::StatusOr<Lease> l) {
                           result = l.status();
                           done = true;
                         });
  cancel.Cancel();
  ASSERT_TRUE(c.events().WaitFor([&] { return done.load(); }));
  EXPECT_EQ(result.code(), absl::StatusCode::kCancelled) << result;
  EXPECT_EQ(c.node(1).GetMetrics().acquires_timed_out, 1u);
  EXPECT_EQ(c.node(2).GetMetrics().acquires_cancelled, 1u);
}

TEST(NodeTest, BadArgumentsGetInvalidArgument) {
  TestCluster c(1, 1);
  EXPECT_EQ(c.node(0).Acquire("", {}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(c.node(0).Acquire(std::string(300, 'x'), {}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(c.node(0).Acquire("r", {.duration = 60s}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(c.node(0).Acquire("r", {.wait = -1s}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(c.node(0).AcquireAll({}, {}).status().code(), absl::StatusCode::kInvalidArgument);
  // The node still serves.
  EXPECT_TRUE(c.node(0).Acquire("r", {.duration = 1s}).ok());
}

TEST(NodeTest, AutoRenewKeepsALeasePastItsDurationUpToTheHoldCap) {
  TestCluster c(3, 3);
  c.WaitConverged();
  std::atomic<bool> lost{false};
  absl::Status why;
  absl::StatusOr<Lease> lease = c.node(0).Acquire("r", {.duration = 1s,
                                                        .auto_renew = true,
                                                        .hold_max = 2500ms,
                                                        .on_lost = [&](const absl::Status& s) {
                                                          why = s;
                                                          lost = true;
                                                        }});
  ASSERT_TRUE(lease.ok()) << lease.status();
  const auto first_deadline = lease->deadline();
  ASSERT_TRUE(c.events().WaitFor([&] { return lease->deadline() > first_deadline + 1s; }));
  EXPECT_TRUE(lease->valid());
  EXPECT_FALSE(lost.load());
  // The cap ends it: reported lost before the deadline, then the others can take it.
  ASSERT_TRUE(c.events().WaitFor([&] { return lost.load(); }));
  EXPECT_TRUE(lease->lost());
  EXPECT_FALSE(lease->valid());
  EXPECT_LT(std::chrono::steady_clock::now(), lease->deadline());
  EXPECT_EQ(why.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(std::string(why.message()), HasSubstr("hold cap"));
  const Metrics m = c.node(0).GetMetrics();
  EXPECT_GE(m.renewals, 2u);
  EXPECT_EQ(m.expiries, 1u);
  absl::StatusOr<Lease> next = c.node(1).Acquire("r", {.duration = 1s, .wait = 5s});
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_GT(next->token(), lease->token());
}

TEST(NodeTest, ALeaseWhoseRenewalsFailIsReportedLostBeforeItsDeadline) {
  // One node of three: with the other voters stopped, renewals cannot reach a majority.
  TestCluster c(3, 3);
  c.WaitConverged();
  std::atomic<bool> lost{false};
  std::chrono::steady_clock::time_point lost_at;
  absl::Status why;
  absl::StatusOr<Lease> lease = c.node(0).Acquire(
      "r", {.duration = 1s, .auto_renew = true, .on_lost = [&](const absl::Status& s) {
              lost_at = std::chrono::steady_clock::now();
              why = s;
              lost = true;
            }});
  ASSERT_TRUE(lease.ok()) << lease.status();
  c.Stop(1);
  c.Stop(2);
  ASSERT_TRUE(c.events().WaitFor([&] { return lost.load(); }));
  EXPECT_LT(lost_at, lease->deadline());
  EXPECT_TRUE(lease->lost());
  const Metrics m = c.node(0).GetMetrics();
  EXPECT_EQ(m.leases_lost, 1u);
  EXPECT_EQ(why.code(), absl::StatusCode::kUnavailable) << why;
}

TEST(NodeTest, AcquireAllTakesEverythingInCanonicalOrderWithoutDeadlock) {
  TestCluster c(3, 3);
  c.WaitConverged();
  // Two callers ask for overlapping sets in opposite orders, many times over.
  std::atomic<int> ok{0};
  auto worker = [&](int node, std::vector<std::string> set) {
    for (int k = 0; k < 10; ++k) {
      absl::StatusOr<std::vector<Lease>> leases =
          c.node(node).AcquireAll(set, {.duration = 2s, .wait = 20s});
      if (!leases.ok()) {
        ADD_FAILURE() << leases.status();
        continue;
      }
      EXPECT_EQ(leases->size(), 3u);
      EXPECT_TRUE(std::is_sorted(
          leases->begin(), leases->end(),
          [](const Lease& a, const Lease& b) { return a.resource() < b.resource(); }));
      ++ok;
    }
  };
  std::thread a(worker, 0, std::vector<std::string>{"c", "b", "a", "a"});
  std::thread b(worker, 1, std::vector<std::string>{"a", "b", "d"});
  a.join();
  b.join();
  EXPECT_EQ(ok.load(), 20);

  // All or nothing: with "m" held elsewhere, a try of {l, m} takes neither.
  absl::StatusOr<Lease> m = c.node(2).Acquire("m", {.duration = 5s});
  ASSERT_TRUE(m.ok());
  absl::StatusOr<std::vector<Lease>> both =
      c.node(0).AcquireAll({"m", "l"}, {.duration = 5s, .wait = 0s});
  EXPECT_EQ(both.status().code(), absl::StatusCode::kAborted) << both.status();
  // "l" was taken for 5 s and given back: another node gets it well within that.
  EXPECT_TRUE(c.node(1).Acquire("l", {.duration = 1s, .wait = 3s}).ok()) << "l was left held";
}

TEST(NodeTest, ElectionHasOneLeaderThatEveryMemberSees) {
  TestCluster c(3, 3);
  c.WaitConverged();
  Election e0(c.node(0), "sched"), e1(c.node(1), "sched"), e2(c.node(2), "sched");
  absl::StatusOr<Lease> term = e0.Campaign({.duration = 1s, .wait = 5s});
  ASSERT_TRUE(term.ok()) << term.status();
  EXPECT_EQ(e0.Campaign().status().code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(c.events().WaitFor([&] {
    auto l1 = e1.Leader();
    auto l2 = e2.Leader();
    return l1 && l2 && l1->name == "n0" && l2->name == "n0" && l1->token == term->token();
  }));
  // The term outlives its duration by renewal; a rival's try fails.
  EXPECT_EQ(e1.Campaign({.duration = 1s, .wait = 0s}).status().code(), absl::StatusCode::kAborted);
  std::atomic<bool> won{false};
  std::thread rival([&] {
    absl::StatusOr<Lease> t = e1.Campaign({.duration = 1s, .wait = 20s});
    EXPECT_TRUE(t.ok()) << t.status();
    if (t.ok()) {
      EXPECT_GT(t->token(), term->token());
    }
    won = true;
    // Keep the term until the others have seen it.
    EXPECT_TRUE(c.events().WaitFor([&] {
      auto l = e2.Leader();
      return l && l->name == "n1";
    }));
  });
  e0.Resign();
  rival.join();
  EXPECT_TRUE(won.load());
}

TEST(NodeTest, CompletionTokenWorksWithCoroutines) {
  TestCluster c(3, 3);
  c.WaitConverged();
  boost::asio::io_context io;
  absl::StatusOr<Lease> got = absl::UnknownError("not run");
  boost::asio::co_spawn(
      io,
      [&]() -> boost::asio::awaitable<void> {
        // Arguments built outside the co_await: GCC 12 miscompiles braced lists inside it.
        std::string resource = "co";
        AcquireOptions options{.duration = 1s};
        got = co_await c.node(0).async_acquire(resource, options, boost::asio::use_awaitable);
        std::vector<std::string> set = {"x", "y"};
        absl::StatusOr<std::vector<Lease>> all =
            co_await c.node(1).async_acquire_all(set, options, boost::asio::use_awaitable);
        EXPECT_TRUE(all.ok()) << all.status();
      },
      boost::asio::detached);
  io.run();
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->resource(), "co");
}

TEST(NodeTest, BlockingCallsFromTheNodesOwnIoThreadAreRefused) {
  boost::asio::io_context io;
  TestCluster c(1, 1);
  NodeOptions o = c.Options(0);
  o.name = "solo";
  o.voters = {{"solo", ""}};
  o.bind_address = "127.0.0.1:0";
  o.seeds.clear();
  o.bootstrap = true;
  absl::StatusOr<std::unique_ptr<Node>> node = Node::Start(o, io);
  ASSERT_TRUE(node.ok()) << node.status();
  absl::Status inside;
  boost::asio::post(io, [&] {
    inside = (*node)->Acquire("r").status();
    (*node)->Stop();  // starts the stop without waiting
  });
  io.run();
  EXPECT_EQ(inside.code(), absl::StatusCode::kFailedPrecondition);
}

TEST(NodeTest, GracefulLeaveIsSeenAsLeftNotDead) {
  TestCluster c(4, 3);
  c.WaitConverged();
  c.Stop(3);
  ASSERT_TRUE(c.events().WaitFor([&] {
    return c.node(0).GetMetrics().members_left == 1 && c.node(1).GetMetrics().members_left == 1;
  }));
  EXPECT_EQ(c.node(0).GetMetrics().members_dead, 0u);
  EXPECT_TRUE(c.node(0).Acquire("r", {.duration = 1s}).ok());
}

TEST(NodeTest, LeasesAreReleasedWhenTheHolderStops) {
  TestCluster c(4, 3);
  c.WaitConverged();
  absl::StatusOr<Lease> held = c.node(3).Acquire("r", {.duration = 5s});
  ASSERT_TRUE(held.ok());
  const auto deadline = held->deadline();
  c.Stop(3);
  EXPECT_FALSE(held->valid());
  absl::StatusOr<Lease> next = c.node(0).Acquire("r", {.duration = 1s, .wait = 10s});
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_LT(std::chrono::steady_clock::now(), deadline);
}

TEST(NodeTest, ARestartedVoterIsQuarantinedAndTheOthersStillGrant) {
  TestCluster c(3, 3, [](int, NodeOptions& o) { o.lease_duration_max = 1s; });
  c.WaitConverged();
  absl::StatusOr<Lease> before = c.node(0).Acquire("r", {.duration = 1s});
  ASSERT_TRUE(before.ok());
  const uint64_t token = before->token();
  before = absl::UnknownError("dropped");
  c.Stop(2);
  c.Start(2, /*bootstrap=*/false);
  const Metrics m = c.node(2).GetMetrics();
  EXPECT_TRUE(m.quarantined);
  EXPECT_GT(m.quarantine_remaining_ms, 900);
  // A majority without the quarantined voter still grants, with a higher token.
  absl::StatusOr<Lease> after = c.node(1).Acquire("r", {.duration = 1s, .wait = 5s});
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_GT(after->token(), token);
  ASSERT_TRUE(c.events().WaitFor([&] { return !c.node(2).GetMetrics().quarantined; }));
}

TEST(NodeTest, KeyRotationMidRunLosesNothing) {
  TestCluster c(3, 3);
  c.WaitConverged();
  const std::string next = NewKeyText();
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0}, grants{0};
  std::thread load([&] {
    while (!stop) {
      absl::StatusOr<Lease> l = c.node(1).Acquire("k", {.duration = 1s, .wait = 5s});
      if (l.ok())
        ++grants;
      else
        ++failures;
    }
  });
  auto at_least = [&](int n) { return c.events().WaitFor([&] { return grants.load() >= n; }); };
  ASSERT_TRUE(at_least(5));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(c.node(i).AddKey(next).ok());
  ASSERT_TRUE(at_least(grants + 5));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(c.node(i).UseKey(next).ok());
  ASSERT_TRUE(at_least(grants + 5));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(c.node(i).RemoveKey(c.key()).ok());
  ASSERT_TRUE(at_least(grants + 5));
  stop = true;
  load.join();
  EXPECT_EQ(failures.load(), 0);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(c.node(i).GetMetrics().dropped_unknown_key, 0u) << "n" << i;
  }
  EXPECT_EQ(c.node(0).RemoveKey(next).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(c.node(0).AddKey("not a key").code(), absl::StatusCode::kInvalidArgument);
}

TEST(NodeTest, TheCircuitBreakerOpensWhenThereIsNoQuorumAndSaysSo) {
  TestCluster c(3, 3, [](int, NodeOptions& o) {
    o.breaker_failures = 2;
    o.breaker_cooldown = 10s;
  });
  c.WaitConverged();
  c.Stop(1);
  c.Stop(2);
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(c.node(0).Acquire("r", {.duration = 1s, .wait = 100ms}).status().code(),
              absl::StatusCode::kUnavailable);
  }
  Metrics m = c.node(0).GetMetrics();
  EXPECT_TRUE(m.breaker_open);
  EXPECT_EQ(m.breaker_opens, 1u);
  const uint64_t attempts = m.attempts;
  // Fails at once, without a protocol attempt.
  absl::StatusOr<Lease> fast = c.node(0).Acquire("r", {.duration = 1s, .wait = 100ms});
  EXPECT_EQ(fast.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(fast.status().message()), HasSubstr("circuit breaker"));
  m = c.node(0).GetMetrics();
  EXPECT_EQ(m.attempts, attempts);
  EXPECT_EQ(m.breaker_rejections, 1u);
  EXPECT_GE(c.events().Count("breaker.open"), 1);
}

TEST(NodeTest, RequestsHeldByTheBreakerGoAheadOnceAQuorumIsBack) {
  TestCluster c(3, 3, [](int, NodeOptions& o) {
    o.breaker_failures = 1;
    o.breaker_cooldown = 200ms;
  });
  c.WaitConverged();
  c.Stop(2);
  c.Stop(1);
  EXPECT_EQ(c.node(0).Acquire("r", {.duration = 1s, .wait = 50ms}).status().code(),
            absl::StatusCode::kUnavailable);
  ASSERT_TRUE(c.node(0).GetMetrics().breaker_open);
  std::atomic<bool> done{false};
  absl::StatusOr<Lease> held = absl::UnknownError("not yet");
  c.node(0).AcquireAsync("r", {.duration = 1s, .wait = 20s}, [&](absl::StatusOr<Lease> l) {
    held = std::move(l);
    done = true;
  });
  ASSERT_TRUE(c.events().WaitFor([&] { return c.node(0).GetMetrics().breaker_deferrals == 1; }));
  c.Start(1, /*bootstrap=*/true);
  ASSERT_TRUE(c.events().WaitFor([&] { return done.load(); }));
  EXPECT_TRUE(held.ok()) << held.status();
  EXPECT_FALSE(c.node(0).GetMetrics().breaker_open);
}

}  // namespace
}  // namespace lockmesh::testing
