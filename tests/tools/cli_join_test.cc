// `lockmesh run --join` against three lockmesh-node voters on loopback: no local node, the
// command starts a short-lived member of its own for each run.
#include <errno.h>
#include <signal.h>

#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/tools/cli_cluster.h"
#include "tests/tools/cli_process.h"
#include "tools/cli/exit_codes.h"

namespace lockmesh::testing {
namespace {

constexpr std::chrono::seconds kBound(60);

class CliJoinTest : public ::testing::Test {
 protected:
  CliJoinTest() : cluster_("cli-join") {}
  void SetUp() override { cluster_.Start(); }

  // `lockmesh run NAME --join <cluster flags> <flags> -- <command>`.
  std::vector<std::string> Run(const std::string& name, std::vector<std::string> flags,
                               std::vector<std::string> command) {
    std::vector<std::string> args = {LOCKMESH_CLI_BIN, "run", name, "--join"};
    for (std::string& f : cluster_.NodeFlags()) args.push_back(std::move(f));
    for (std::string& f : flags) args.push_back(std::move(f));
    args.push_back("--");
    for (std::string& c : command) args.push_back(std::move(c));
    return args;
  }

  VoterCluster cluster_;
};

TEST_F(CliJoinTest, ConcurrentRunsKeepACounterExactWithRisingTokens) {
  ExpectCounterExactWithRisingTokens(
      cluster_.dir(), /*workers=*/3, /*runs=*/3,
      [&](int, std::vector<std::string> command) {
        return Run("counter", {"--ttl=3s", "--wait=30s"}, std::move(command));
      },
      kBound);
}

TEST_F(CliJoinTest, TheCommandsStatusIsLockmeshsStatus) {
  CliProcess exit7(Run("status", {"--ttl=2s"}, {"sh", "-c", "exit 7"}));
  std::optional<CliResult> r = exit7.Wait(kBound);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 7) << r->err;
  EXPECT_EQ(r->err, "");
  // Killed by a signal: 128 + N, as a shell says it.
  CliProcess killed(Run("status", {"--ttl=2s"}, {"sh", "-c", "kill -TERM $$"}));
  r = killed.Wait(kBound);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 128 + SIGTERM) << r->err;
  // Not found: 127, with a line saying so.
  CliProcess missing(Run("status", {"--ttl=2s"}, {"/no/such/command"}));
  r = missing.Wait(kBound);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, cli::kExitCommandNotFound);
  EXPECT_NE(r->err.find("lockmesh: cannot run /no/such/command"), std::string::npos) << r->err;
}

TEST_F(CliJoinTest, TheCommandDiesWhenAMajorityOfVotersStops) {
  CliProcess run(
      Run("hold", {"--ttl=1s", "--grace=500ms"}, {"sh", "-c", "echo STARTED $$; exec sleep 600"}));
  std::optional<std::string> started = run.WaitLine("STARTED", kBound);
  ASSERT_TRUE(started.has_value()) << run.err();
  int child = 0;
  ASSERT_TRUE(absl::SimpleAtoi(started->substr(8), &child));
  cluster_.voter(1).Signal(SIGSTOP);
  cluster_.voter(2).Signal(SIGSTOP);
  std::optional<CliResult> r = run.Wait(kBound);
  cluster_.voter(1).Signal(SIGCONT);
  cluster_.voter(2).Signal(SIGCONT);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, cli::kExitLeaseLost) << r->err;
  EXPECT_NE(r->err.find("lease on \"hold\" lost"), std::string::npos) << r->err;
  EXPECT_NE(r->err.find("the command was stopped"), std::string::npos) << r->err;
  // The command is gone (lockmesh reaped it before exiting).
  EXPECT_EQ(::kill(child, 0), -1);
  EXPECT_EQ(errno, ESRCH);
}

TEST_F(CliJoinTest, SigtermReachesTheCommand) {
  CliProcess run(Run("term", {"--ttl=2s"},
                     {"sh", "-c", "trap 'kill $!; exit 3' TERM; echo STARTED; sleep 600 & wait"}));
  ASSERT_TRUE(run.WaitLine("STARTED", kBound).has_value()) << run.err();
  run.Signal(SIGTERM);
  std::optional<CliResult> r = run.Wait(kBound);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 3) << r->err;
}

}  // namespace
}  // namespace lockmesh::testing
