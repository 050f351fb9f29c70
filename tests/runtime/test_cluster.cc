#include "tests/runtime/test_cluster.h"

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "lib/crypto/init.h"
#include "lib/crypto/key.h"

namespace lockmesh::testing {

std::string NewKeyText() {
  (void)crypto::InitCrypto();
  return crypto::GenerateKey().ToHex();
}

LogHook Events::Hook() {
  return [this](const LogRecord& r) {
    absl::MutexLock lock(&mu_);
    ++seq_;
    if (events_.size() < 100000) events_.emplace_back(r.event);
  };
}

bool Events::WaitFor(const std::function<bool()>& done, std::chrono::milliseconds bound) {
  const auto until = std::chrono::steady_clock::now() + bound;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= until) return false;
    absl::MutexLock lock(&mu_);
    const uint64_t seen = seq_;
    auto changed = [this, seen]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return seq_ != seen; };
    mu_.AwaitWithTimeout(absl::Condition(&changed), absl::Milliseconds(20));
  }
  return true;
}

int Events::Count(std::string_view event) const {
  absl::MutexLock lock(&mu_);
  int n = 0;
  for (const std::string& e : events_) n += e == event;
  return n;
}

TestCluster::TestCluster(int n, int voters, std::function<void(int, NodeOptions&)> customize,
                         boost::asio::io_context* io)
    : voters_(voters), customize_(std::move(customize)), io_(io), key_(NewKeyText()) {
  addresses_.resize(n);
  nodes_.resize(n);
  for (int i = 0; i < n; ++i) Start(i, /*bootstrap=*/true);
}

TestCluster::~TestCluster() {
  for (auto& node : nodes_) node.reset();
}

NodeOptions TestCluster::Options(int i) const {
  NodeOptions o;
  o.name = absl::StrCat("n", i);
  // A restarted node takes its old port, as a restarted server would.
  o.bind_address = addresses_[i].empty() ? "127.0.0.1:0" : addresses_[i];
  for (int v = 0; v < voters_; ++v) o.voters.push_back(Peer{absl::StrCat("n", v), addresses_[v]});
  if (i != 0) o.seeds = {addresses_[0]};
  for (std::size_t j = 1; j < addresses_.size() && i == 0; ++j) {
    if (!addresses_[j].empty()) o.seeds.push_back(addresses_[j]);
  }
  o.cluster_name = "test";
  o.keys = {key_};
  o.timing = Timing::kLocal;
  o.lease_duration_max = 5s;
  o.leave_timeout = 500ms;
  o.log_level = LogLevel::kDebug;
  if (customize_) customize_(i, o);
  return o;
}

void TestCluster::Start(int i, bool bootstrap) {
  NodeOptions o = Options(i);
  o.bootstrap = bootstrap;
  LogHook user = o.log;
  LogHook mine = events_.Hook();
  o.log = [user, mine](const LogRecord& r) {
    mine(r);
    if (user) user(r);
  };
  absl::StatusOr<std::unique_ptr<Node>> node =
      io_ ? Node::Start(std::move(o), *io_) : Node::Start(std::move(o));
  ASSERT_TRUE(node.ok()) << node.status();
  addresses_[i] = (*node)->address();
  nodes_[i] = *std::move(node);
}

void TestCluster::Stop(int i) { nodes_[i].reset(); }

bool TestCluster::Converged() {
  int running = 0;
  for (auto& n : nodes_) running += n != nullptr;
  for (auto& n : nodes_) {
    if (n && static_cast<int>(n->GetMetrics().members_alive) != running) return false;
  }
  return true;
}

void TestCluster::WaitConverged() {
  ASSERT_TRUE(events_.WaitFor([this] { return Converged(); })) << "membership did not converge";
}

}  // namespace lockmesh::testing
