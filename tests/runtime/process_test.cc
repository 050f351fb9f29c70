// Three (or four) nodes as separate processes on loopback: lockmesh-example-counter
// instances, driven through their stdout lines and killed with real signals.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/runtime/test_cluster.h"
#include "tests/runtime/test_process.h"

namespace lockmesh::testing {
namespace {

uint64_t TokenOf(const std::string& line) { return std::stoull(line.substr(line.find(' ') + 1)); }

class ProcessTest : public ::testing::Test {
 protected:
  ProcessTest() {
    // Free ports, reserved together so they differ, then released for the nodes.
    boost::asio::io_context io;
    std::vector<boost::asio::ip::udp::socket> sockets;
    for (int i = 0; i < 4; ++i) {
      sockets.emplace_back(
          io, boost::asio::ip::udp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
      addresses_.push_back(absl::StrCat("127.0.0.1:", sockets.back().local_endpoint().port()));
    }
    dir_ = ::testing::TempDir() + "/lockmesh-process-" + std::to_string(::getpid()) + "-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::remove(Counter().c_str());
    std::ofstream(dir_ + ".key") << NewKeyText() << "\n";
  }

  std::string Counter() const { return dir_ + ".counter"; }
  std::string CounterText() const {
    std::ifstream in(Counter());
    std::string value, token;
    in >> value >> token;
    return value;
  }

  // Node i (0..3); the first three are the voters.
  std::unique_ptr<TestProcess> Run(int i, std::vector<std::string> extra, bool bootstrap = true) {
    std::vector<std::string> args = {
        LOCKMESH_COUNTER_BIN,
        absl::StrCat("--name=n", i),
        absl::StrCat("--bind=", addresses_[i]),
        absl::StrCat("--voters=n0@", addresses_[0], ",n1@", addresses_[1], ",n2@", addresses_[2]),
        "--cluster=proc-test",
        absl::StrCat("--key_file=", dir_, ".key"),
        "--timing=local",
        "--lease_max_ms=3000",
        "--log=info",
        absl::StrCat("--file=", Counter())};
    if (i == 3) args.push_back(absl::StrCat("--seeds=", addresses_[1], ",", addresses_[2]));
    if (bootstrap) args.push_back("--bootstrap");
    for (std::string& e : extra) args.push_back(std::move(e));
    auto p = std::make_unique<TestProcess>(std::move(args));
    std::optional<std::string> ready = p->WaitLine("READY");
    EXPECT_TRUE(ready.has_value()) << p->Output();
    return p;
  }

  std::vector<std::string> addresses_;
  std::string dir_;
};

TEST_F(ProcessTest, ThreeProcessesIncrementAFencedCounterExactlyRightAndLeaveGracefully) {
  std::vector<std::unique_ptr<TestProcess>> p;
  for (int i = 0; i < 3; ++i) p.push_back(Run(i, {"--increments=20", "--lease_ms=2000"}));
  for (int i = 0; i < 3; ++i) {
    std::optional<std::string> done = p[i]->WaitLine("DONE", false, std::chrono::seconds(120));
    ASSERT_TRUE(done.has_value()) << p[i]->Output();
    EXPECT_EQ(*done, "DONE 20 fenced=0");
  }
  EXPECT_EQ(CounterText(), "60");
  // n2 leaves gracefully: the others see it as left, not dead.
  p[2]->Signal(SIGTERM);
  ASSERT_TRUE(p[2]->WaitLine("STOPPED").has_value()) << p[2]->Output();
  EXPECT_EQ(p[2]->Wait(), 0);
  ASSERT_TRUE(p[0]->WaitLine("n0 info member.left: n2", /*after_timestamp=*/true).has_value())
      << p[0]->Output();
  for (int i = 0; i < 2; ++i) {
    p[i]->Signal(SIGTERM);
    EXPECT_TRUE(p[i]->WaitLine("STOPPED").has_value());
    EXPECT_EQ(p[i]->Wait(), 0);
  }
}

TEST_F(ProcessTest, AHolderKilledWithSigkillLosesTheLeaseToAWaiterWithAHigherToken) {
  std::unique_ptr<TestProcess> holder = Run(0, {"--hold", "--lease_ms=1000"});
  std::unique_ptr<TestProcess> b = Run(1, {});
  std::unique_ptr<TestProcess> c = Run(2, {});
  std::optional<std::string> holding = holder->WaitLine("HOLDING");
  ASSERT_TRUE(holding.has_value()) << holder->Output();
  const uint64_t token = TokenOf(*holding);
  holder->Signal(SIGKILL);
  EXPECT_EQ(holder->Wait(), -1);
  // A non-voter asks: the voters grant once the dead holder's lease has run out.
  std::unique_ptr<TestProcess> waiter = Run(3, {"--increments=1"});
  std::optional<std::string> granted = waiter->WaitLine("GRANTED");
  ASSERT_TRUE(granted.has_value()) << waiter->Output();
  EXPECT_GT(TokenOf(*granted), token);
  EXPECT_EQ(CounterText(), "2");
}

TEST_F(ProcessTest, AVoterKilledAndRestartedIsQuarantinedWhileTheOthersGrant) {
  std::unique_ptr<TestProcess> a = Run(0, {});
  std::unique_ptr<TestProcess> b = Run(1, {});
  std::unique_ptr<TestProcess> c = Run(2, {"--increments=1"});
  std::optional<std::string> first = c->WaitLine("GRANTED");
  ASSERT_TRUE(first.has_value()) << c->Output();
  c->Signal(SIGKILL);
  c->Wait();
  // Restarted without --bootstrap, as any restart must be: it comes back quarantined and
  // its own request is granted by the two others.
  c.reset();
  std::unique_ptr<TestProcess> again = Run(2, {"--increments=1"}, /*bootstrap=*/false);
  EXPECT_NE(again->Output().find("quarantined=1"), std::string::npos) << again->Output();
  std::optional<std::string> second = again->WaitLine("GRANTED");
  ASSERT_TRUE(second.has_value()) << again->Output();
  EXPECT_GT(TokenOf(*second), TokenOf(*first));
  EXPECT_EQ(CounterText(), "2");
}

}  // namespace
}  // namespace lockmesh::testing
