// lockmesh-node's HTTP endpoint (/metrics, /status), its API socket's permissions, and its
// shutdown, as real processes on loopback.
#include <grp.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/runtime/test_cluster.h"
#include "tests/tools/api_client.h"
#include "tests/tools/node_cluster.h"

namespace lockmesh::testing {
namespace {

using namespace std::chrono_literals;

class NodeHttpTest : public ::testing::Test {
 protected:
  NodeCluster cluster_{3};
};

// The errno of connecting to `path` as user `uid` (and group `gid`), from a forked child.
int ConnectErrnoAs(uid_t uid, gid_t gid, const std::string& path) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (::setgroups(0, nullptr) != 0 || ::setgid(gid) != 0 || ::setuid(uid) != 0) ::_exit(200);
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
    const int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    ::_exit(rc == 0 ? 0 : (errno & 0x7f));
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST_F(NodeHttpTest, TheApiSocketIsMode0660AndRefusesOtherUsers) {
  struct stat st {};
  ASSERT_EQ(::stat(cluster_.socket(0).c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0660u);
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to connect as another user";
  // `nobody` (65534) is neither the owner nor in the group: connect fails with EACCES.
  EXPECT_EQ(ConnectErrnoAs(65534, 65534, cluster_.socket(0)), EACCES);
  // The owner may connect (a check that the child's connect works at all).
  EXPECT_EQ(ConnectErrnoAs(st.st_uid, st.st_gid, cluster_.socket(0)), 0);
}

TEST_F(NodeHttpTest, MetricsAreNonEmptyPrometheusTextAndPassPromtool) {
  auto c = ApiClient::Tcp(cluster_.http(0));
  ASSERT_TRUE(c->connected()) << c->error().message();
  const Reply r = c->Call("GET", "/metrics");
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(r.content_type.rfind("text/plain; version=0.0.4", 0), 0u) << r.content_type;
  EXPECT_NE(r.body.find("lockmesh_"), std::string::npos) << r.body;
  // Keep-alive: the same connection answers again.
  EXPECT_EQ(c->Call("GET", "/metrics").status, 200u);
  const std::string promtool = "/usr/bin/promtool";
  if (!std::filesystem::exists(promtool)) {
    GTEST_SKIP() << "promtool is not installed (tools/dev installs Debian's prometheus): "
                    "the exposition format was not checked";
  }
  const std::string file = absl::StrCat(cluster_.dir(), "/metrics.txt");
  std::ofstream(file) << r.body;
  const int rc = std::system(
      absl::StrCat(promtool, " check metrics < ", file, " > ", cluster_.dir(), "/promtool.out 2>&1")
          .c_str());
  std::ifstream out(absl::StrCat(cluster_.dir(), "/promtool.out"));
  const std::string said((std::istreambuf_iterator<char>(out)), std::istreambuf_iterator<char>());
  EXPECT_EQ(rc, 0) << said;
}

TEST_F(NodeHttpTest, StatusIsJsonWithTheNodeItsMembersAndItsLeases) {
  auto api = ApiClient::Unix(cluster_.socket(1));
  const Reply got = api->Call("POST", "/v1/acquire", R"({"resource": "status/x"})");
  ASSERT_EQ(got.status, 200u) << got.body;
  auto c = ApiClient::Tcp(cluster_.http(1));
  const Reply r = c->Call("GET", "/status");
  ASSERT_EQ(r.status, 200u) << r.body;
  absl::StatusOr<tools::JsonValue> status = r.Json();
  ASSERT_TRUE(status.ok()) << status.status() << "\n" << r.body;
  const tools::JsonValue* node = status->Find("node");
  ASSERT_NE(node, nullptr) << r.body;
  EXPECT_EQ(node->Find("name")->string(), "n1");
  EXPECT_TRUE(node->Find("voter")->boolean());
  EXPECT_FALSE(node->Find("quarantined")->boolean());
  EXPECT_FALSE(status->Find("breaker")->Find("open")->boolean());
  ASSERT_EQ(status->Find("members")->array().size(), 3u) << r.body;
  for (const tools::JsonValue& m : status->Find("members")->array()) {
    EXPECT_EQ(m.Find("state")->string(), "alive") << r.body;
  }
  ASSERT_EQ(status->Find("leases")->array().size(), 1u) << r.body;
  const tools::JsonValue& lease = status->Find("leases")->array()[0];
  EXPECT_EQ(lease.Find("resource")->string(), "status/x");
  EXPECT_GT(lease.Find("expires_in_ms")->integer().value_or(0), 0);
  EXPECT_EQ(lease.Find("connection")->integer(), 1);
  // The API serves the same document, and its members.
  const Reply same = api->Call("GET", "/v1/status");
  EXPECT_TRUE(same.Json().ok()) << same.body;
  const Reply members = api->Call("GET", "/v1/members");
  ASSERT_TRUE(members.Json().ok()) << members.body;
  EXPECT_EQ(members.Json()->Find("members")->array().size(), 3u);
  // Unknown paths and methods on the HTTP endpoint.
  EXPECT_EQ(c->Call("GET", "/nothing").status, 404u);
  EXPECT_EQ(c->Call("POST", "/status", "{}").status, 405u);
}

TEST_F(NodeHttpTest, SigtermLeavesGracefullyRemovesTheSocketAndExitsZero) {
  cluster_.node(2).Signal(SIGTERM);
  EXPECT_EQ(cluster_.node(2).Wait(), 0) << cluster_.node(2).Output();
  EXPECT_FALSE(std::filesystem::exists(cluster_.socket(2)));
  ASSERT_TRUE(cluster_.node(0).WaitLine("n0 info member.left: n2", true).has_value())
      << cluster_.node(0).Output() << "\n----- n2:\n"
      << cluster_.node(2).Output();
  auto c = ApiClient::Tcp(cluster_.http(0));
  const Reply r = c->Call("GET", "/status");
  absl::StatusOr<tools::JsonValue> status = r.Json();
  ASSERT_TRUE(status.ok()) << r.body;
  bool seen = false;
  for (const tools::JsonValue& m : status->Find("members")->array()) {
    if (m.Find("name")->string() == "n2") {
      seen = true;
      EXPECT_EQ(m.Find("state")->string(), "left") << r.body;
    }
  }
  EXPECT_TRUE(seen) << r.body;
}

}  // namespace
}  // namespace lockmesh::testing

namespace lockmesh::testing {
namespace {

// The example server's --http serves the same /metrics and /status, and its GRANTED lines
// carry the wall-clock time and the value written.
TEST(ExampleCounterTest, ServesMetricsAndStatusAndGrantedLinesCarryTimeAndValue) {
  const std::string dir = absl::StrCat(::testing::TempDir(), "lockmesh-counter-", ::getpid());
  std::filesystem::create_directories(dir);
  std::ofstream(absl::StrCat(dir, "/key")) << NewKeyText() << "\n";
  TestProcess counter({LOCKMESH_COUNTER_BIN, "--name=c0", "--bind=127.0.0.1:0", "--voters=c0",
                       "--cluster=counter-test", absl::StrCat("--key_file=", dir, "/key"),
                       "--timing=local", "--bootstrap", absl::StrCat("--file=", dir, "/counter"),
                       "--increments=2", "--http=127.0.0.1:0"});
  const std::optional<std::string> ready = counter.WaitLine("READY");
  ASSERT_TRUE(ready.has_value()) << counter.Output();
  const std::size_t at = ready->find(" http=");
  ASSERT_NE(at, std::string::npos) << *ready;
  const std::string http = ready->substr(at + 6);
  for (int value = 1; value <= 2; ++value) {
    // "GRANTED <token> time=<RFC 3339, UTC, µs> value=<v> wait_us=<µs>"
    const std::optional<std::string> line = counter.WaitLine("GRANTED");
    ASSERT_TRUE(line.has_value()) << counter.Output();
    const std::vector<std::string> f = absl::StrSplit(*line, ' ');
    ASSERT_EQ(f.size(), 5u) << *line;
    uint64_t number = 0;
    EXPECT_TRUE(absl::SimpleAtoi(f[1], &number)) << *line;
    ASSERT_TRUE(absl::StartsWith(f[2], "time=")) << *line;
    const std::string time = f[2].substr(5);
    absl::Time t;
    std::string error;
    EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, time, &t, &error)) << *line << ": " << error;
    EXPECT_EQ(time.size(), std::string("2026-11-28T00:41:03.123456Z").size()) << *line;
    EXPECT_TRUE(absl::EndsWith(time, "Z")) << *line;
    EXPECT_EQ(f[3], absl::StrCat("value=", value)) << *line;
    ASSERT_TRUE(absl::StartsWith(f[4], "wait_us=")) << *line;
    EXPECT_TRUE(absl::SimpleAtoi(f[4].substr(8), &number)) << *line;
  }
  ASSERT_TRUE(counter.WaitLine("DONE 2 fenced=0").has_value()) << counter.Output();
  auto c = ApiClient::Tcp(http);
  const Reply metrics = c->Call("GET", "/metrics");
  EXPECT_EQ(metrics.status, 200u);
  EXPECT_NE(metrics.body.find("\nlockmesh_acquires_total{outcome=\"succeeded\"} 2\n"),
            std::string::npos)
      << metrics.body;
  const Reply status = c->Call("GET", "/status");
  ASSERT_TRUE(status.Json().ok()) << status.body;
  EXPECT_EQ(status.Json()->Find("node")->Find("name")->string(), "c0");
  counter.Signal(SIGTERM);
  EXPECT_TRUE(counter.WaitLine("STOPPED").has_value()) << counter.Output();
  EXPECT_EQ(counter.Wait(), 0);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace lockmesh::testing
