// `lockmesh run`, `status`, `members` and `holder` through the API sockets of three real
// lockmesh-node voters on loopback.
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
#include "tools/http/json.h"

namespace lockmesh::testing {
namespace {

constexpr std::chrono::seconds kBound(60);

class CliRunTest : public ::testing::Test {
 protected:
  CliRunTest() : cluster_("cli-run") {}
  void SetUp() override { cluster_.Start(); }

  // `lockmesh <verb> [NAME] --socket <node i's> <flags> [-- command]`.
  std::vector<std::string> Cli(int node, std::vector<std::string> verb_and_flags,
                               std::vector<std::string> command = {}) {
    std::vector<std::string> args = {LOCKMESH_CLI_BIN};
    for (std::string& a : verb_and_flags) args.push_back(std::move(a));
    args.push_back("--socket=" + cluster_.socket(node));
    if (!command.empty()) args.push_back("--");
    for (std::string& c : command) args.push_back(std::move(c));
    return args;
  }
  CliResult RunToEnd(std::vector<std::string> args) {
    CliProcess p(std::move(args));
    std::optional<CliResult> r = p.Wait(kBound);
    EXPECT_TRUE(r.has_value()) << "lockmesh did not end within the bound";
    return r.value_or(CliResult{});
  }

  VoterCluster cluster_;
};

TEST_F(CliRunTest, ConcurrentRunsFromTwoNodesKeepACounterExactWithRisingTokens) {
  ExpectCounterExactWithRisingTokens(
      cluster_.dir(), /*workers=*/4, /*runs=*/5,
      [&](int worker, std::vector<std::string> command) {
        return Cli(worker % 2, {"run", "counter", "--ttl=3s", "--wait=30s"}, std::move(command));
      },
      kBound);
}

TEST_F(CliRunTest, TheCommandsStatusIsLockmeshsStatus) {
  EXPECT_EQ(RunToEnd(Cli(0, {"run", "s", "--ttl=2s"}, {"sh", "-c", "exit 7"})).status, 7);
  EXPECT_EQ(RunToEnd(Cli(0, {"run", "s", "--ttl=2s"}, {"sh", "-c", "kill -KILL $$"})).status,
            128 + SIGKILL);
  const CliResult missing = RunToEnd(Cli(1, {"run", "s", "--ttl=2s"}, {"/no/such/command"}));
  EXPECT_EQ(missing.status, cli::kExitCommandNotFound);
  EXPECT_NE(missing.err.find("lockmesh: cannot run /no/such/command"), std::string::npos);
  // The node's own refusal of a bad request is a usage error, with the node's reason.
  const CliResult too_long = RunToEnd(Cli(0, {"run", "s", "--ttl=1h"}, {"true"}));
  EXPECT_EQ(too_long.status, cli::kExitUsage);
  EXPECT_NE(too_long.err.find("ttl_ms"), std::string::npos) << too_long.err;
}

TEST_F(CliRunTest, WhileHeldOthersGiveUpWithTheWaitCodeAndHolderShowsIt) {
  CliProcess holder(Cli(0, {"run", "busy", "--ttl=2s"},
                        {"sh", "-c", "echo STARTED $LOCKMESH_TOKEN; exec sleep 600"}));
  std::optional<std::string> started = holder.WaitLine("STARTED", kBound);
  ASSERT_TRUE(started.has_value()) << holder.err();
  // A try (--wait 0) and a short wait, through the other node: 79 each.
  const CliResult tried = RunToEnd(Cli(1, {"run", "busy", "--ttl=2s", "--wait=0"}, {"true"}));
  EXPECT_EQ(tried.status, cli::kExitWaitTimedOut) << tried.err;
  EXPECT_NE(tried.err.find("cannot take \"busy\""), std::string::npos) << tried.err;
  const CliResult waited = RunToEnd(Cli(1, {"run", "busy", "--ttl=2s", "--wait=300ms"}, {"true"}));
  EXPECT_EQ(waited.status, cli::kExitWaitTimedOut) << waited.err;
  // holder: held through n0 (with the token the command saw), not through n1.
  const CliResult here = RunToEnd(Cli(0, {"holder", "busy", "--json"}));
  ASSERT_EQ(here.status, 0) << here.err;
  absl::StatusOr<tools::JsonValue> json = tools::ParseJson(here.out);
  ASSERT_TRUE(json.ok()) << here.out;
  EXPECT_TRUE(json->Find("held_here")->boolean());
  EXPECT_EQ(json->Find("token")->number_text(), started->substr(8));
  const CliResult there = RunToEnd(Cli(1, {"holder", "busy"}));
  EXPECT_EQ(there.status, 0);
  EXPECT_NE(there.out.find("held_here:  false"), std::string::npos) << there.out;
  // SIGINT to lockmesh reaches the command (sleep dies of it); lockmesh releases the lease.
  holder.Signal(SIGINT);
  std::optional<CliResult> r = holder.Wait(kBound);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 128 + SIGINT);
  // Free again: granted through the other node. With a wait, not a try: right after a
  // release the voters may still hold the lease for a waiter ahead for a short window
  // (docs/protocol.md, waiters and handoff), and a try would be refused then.
  EXPECT_EQ(RunToEnd(Cli(1, {"run", "busy", "--ttl=2s", "--wait=5s"}, {"true"})).status, 0);
}

TEST_F(CliRunTest, TheCommandIsKilledWhenAMajorityOfVotersStops) {
  // The command ignores SIGTERM: after the grace period it gets SIGKILL.
  CliProcess run(Cli(0, {"run", "hold", "--ttl=1s", "--grace=300ms"},
                     {"sh", "-c", "trap '' TERM; echo STARTED $$; while :; do sleep 1; done"}));
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
  EXPECT_NE(r->err.find("lockmesh: lease on \"hold\" lost"), std::string::npos) << r->err;
  EXPECT_EQ(::kill(child, 0), -1);  // gone, and reaped by lockmesh
  EXPECT_EQ(errno, ESRCH);
}

TEST_F(CliRunTest, StatusAndMembersAsTablesAndJson) {
  const CliResult members = RunToEnd(Cli(2, {"members"}));
  ASSERT_EQ(members.status, 0) << members.err;
  EXPECT_EQ(members.out.rfind("NAME  ADDRESS", 0), 0u) << members.out;
  for (int i = 0; i < 3; ++i) {
    EXPECT_NE(members.out.find(absl::StrCat("\nn", i, " ")), std::string::npos) << members.out;
  }
  const CliResult json = RunToEnd(Cli(2, {"members", "--json"}));
  ASSERT_EQ(json.status, 0);
  absl::StatusOr<tools::JsonValue> parsed = tools::ParseJson(json.out);
  ASSERT_TRUE(parsed.ok()) << json.out;
  EXPECT_EQ(parsed->Find("members")->array().size(), 3u);
  const CliResult status = RunToEnd(Cli(2, {"status"}));
  ASSERT_EQ(status.status, 0) << status.err;
  EXPECT_EQ(status.out.rfind("node.name:", 0), 0u) << status.out;
  EXPECT_NE(status.out.find("\nmembers:\nNAME"), std::string::npos) << status.out;
}

TEST_F(CliRunTest, AStoppedNodeIsNotRunning) {
  cluster_.voter(2).Signal(SIGTERM);
  std::optional<CliResult> stopped = cluster_.voter(2).Wait(kBound);
  ASSERT_TRUE(stopped.has_value());
  const CliResult r = RunToEnd(Cli(2, {"run", "x"}, {"true"}));
  EXPECT_EQ(r.status, cli::kExitNodeNotRunning);
  EXPECT_EQ(r.err, "lockmesh: node not running: no socket " + cluster_.socket(2) +
                       " (is lockmesh-node up?)\n");
}

}  // namespace
}  // namespace lockmesh::testing
