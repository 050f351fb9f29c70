// The `lockmesh` binary as a person meets it without a cluster: help, usage errors, keygen,
// and each way of not reaching a node, every one with its documented exit code and a
// one-line message on stderr.
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "gtest/gtest.h"
#include "lib/crypto/key.h"
#include "tests/tools/cli_process.h"
#include "tools/cli/exit_codes.h"

namespace lockmesh::testing {
namespace {

using cli::ExitCode;
constexpr std::chrono::seconds kBound(30);

CliProcess::Result Cli(std::vector<std::string> args, CliProcess::Options options = {}) {
  args.insert(args.begin(), LOCKMESH_CLI_BIN);
  CliProcess p(std::move(args), std::move(options));
  std::optional<CliProcess::Result> r = p.Wait(kBound);
  EXPECT_TRUE(r.has_value()) << "lockmesh did not exit within the bound";
  return r.value_or(CliProcess::Result{});
}

// One line on stderr, starting "lockmesh: ", containing `says`.
void ExpectOneLine(const CliProcess::Result& r, const std::string& says) {
  EXPECT_EQ(r.err.rfind("lockmesh: ", 0), 0u) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find(says), std::string::npos) << r.err;
}

class CliCommandTest : public ::testing::Test {
 protected:
  CliCommandTest() {
    dir_ = ::testing::TempDir() + "/lockmesh-cli-" + std::to_string(::getpid()) + "-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    ::mkdir(dir_.c_str(), 0755);
  }
  ~CliCommandTest() override { std::system(("rm -rf '" + dir_ + "'").c_str()); }
  std::string dir_;
};

TEST_F(CliCommandTest, HelpListsEveryExitCode) {
  const CliProcess::Result r = Cli({"--help"});
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("lockmesh run NAME"), std::string::npos);
  EXPECT_NE(r.out.find(cli::kExitCodeTable), std::string::npos);
  EXPECT_EQ(r.err, "");
}

TEST_F(CliCommandTest, UsageErrorsExit64WithOneLine) {
  CliProcess::Result r = Cli({});
  EXPECT_EQ(r.status, cli::kExitUsage);
  ExpectOneLine(r, "no command given");
  r = Cli({"run", "x", "--ttl", "30", "--", "true"});
  EXPECT_EQ(r.status, cli::kExitUsage);
  ExpectOneLine(r, "--ttl: \"30\" needs a unit");
  r = Cli({"run", "x", "true"});
  EXPECT_EQ(r.status, cli::kExitUsage);
  ExpectOneLine(r, "needs the command after `--`");
}

TEST_F(CliCommandTest, KeygenWritesAKeyOnlyTheOwnerReads) {
  const std::string path = dir_ + "/cluster.key";
  const mode_t old_umask = ::umask(0);  // even a permissive umask gives 0600
  const CliProcess::Result r = Cli({"keygen", path});
  ::umask(old_umask);
  EXPECT_EQ(r.status, 0) << r.err;
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  std::stringstream text;
  text << std::ifstream(path).rdbuf();
  absl::StatusOr<crypto::Key> key = crypto::ParseKey(text.str());
  ASSERT_TRUE(key.ok()) << key.status();
  // A second key differs (fresh randomness).
  const CliProcess::Result again = Cli({"keygen", path + "2"});
  ASSERT_EQ(again.status, 0);
  std::stringstream text2;
  text2 << std::ifstream(path + "2").rdbuf();
  EXPECT_FALSE(*key == *crypto::ParseKey(text2.str()));
}

TEST_F(CliCommandTest, KeygenRefusesToOverwrite) {
  const std::string path = dir_ + "/cluster.key";
  std::ofstream(path) << "precious\n";
  CliProcess::Result r = Cli({"keygen", path});
  EXPECT_EQ(r.status, cli::kExitCannotCreate);
  ExpectOneLine(r, "exists already; not overwriting it");
  std::stringstream text;
  text << std::ifstream(path).rdbuf();
  EXPECT_EQ(text.str(), "precious\n");
  // A symlink there is not followed either.
  ASSERT_EQ(::symlink((dir_ + "/target").c_str(), (dir_ + "/link").c_str()), 0);
  r = Cli({"keygen", dir_ + "/link"});
  EXPECT_EQ(r.status, cli::kExitCannotCreate);
  EXPECT_NE(::access((dir_ + "/target").c_str(), F_OK), 0);
  // A directory that does not exist: cannot create.
  r = Cli({"keygen", dir_ + "/no/such/dir/key"});
  EXPECT_EQ(r.status, cli::kExitCannotCreate);
  ExpectOneLine(r, "cannot create");
}

TEST_F(CliCommandTest, NoSocketMeansNodeNotRunning) {
  const std::string sock = dir_ + "/absent.sock";
  CliProcess::Result r = Cli({"run", "x", "--socket", sock, "--", "true"});
  EXPECT_EQ(r.status, cli::kExitNodeNotRunning);
  ExpectOneLine(r, "node not running: no socket " + sock);
  r = Cli({"status", "--socket", sock});
  EXPECT_EQ(r.status, cli::kExitNodeNotRunning);
  // $LOCKMESH_SOCKET is the default.
  r = Cli({"members"}, {.env = {{"LOCKMESH_SOCKET", sock}}});
  EXPECT_EQ(r.status, cli::kExitNodeNotRunning);
  ExpectOneLine(r, sock);
}

// A socket file whose listener is gone: connect() is refused.
TEST_F(CliCommandTest, RefusedConnectionMeansNodeNotRunning) {
  const std::string sock = dir_ + "/dead.sock";
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", sock.c_str());
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ::close(fd);  // never listened: the file stays, connections are refused
  const CliProcess::Result r = Cli({"holder", "x", "--socket", sock});
  EXPECT_EQ(r.status, cli::kExitNodeNotRunning);
  ExpectOneLine(r, "refuses connections");
}

TEST_F(CliCommandTest, SocketWithoutPermissionExits77) {
  const std::string sock = dir_ + "/private.sock";
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", sock.c_str());
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::listen(fd, 4), 0);
  ASSERT_EQ(::chmod(sock.c_str(), 0600), 0);
  CliProcess::Options as_other;
  if (::geteuid() == 0) {
    as_other.uid = 65534;  // nobody: root would pass any permission check
  } else {
    ASSERT_EQ(::chmod(sock.c_str(), 0), 0);
  }
  const CliProcess::Result r = Cli({"run", "x", "--socket", sock, "--", "true"}, as_other);
  ::close(fd);
  EXPECT_EQ(r.status, cli::kExitPermission) << r.err;
  ExpectOneLine(r, "permission denied on " + sock);
}

TEST_F(CliCommandTest, JoinKeyProblemsExit65) {
  const std::vector<std::string> join = {"run", "x", "--join", "--voters=a@127.0.0.1:9",
                                         "--cluster=c"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = join;
    args.insert(args.end(), extra.begin(), extra.end());
    args.insert(args.end(), {"--", "true"});
    return Cli(args);
  };
  CliProcess::Result r = with({"--key_file=" + dir_ + "/missing"});
  EXPECT_EQ(r.status, cli::kExitBadKey);
  ExpectOneLine(r, "cannot read the key file");
  std::ofstream(dir_ + "/bad.key") << "not a key\n";
  r = with({"--key_file=" + dir_ + "/bad.key"});
  EXPECT_EQ(r.status, cli::kExitBadKey);
  ExpectOneLine(r, "no key in " + dir_ + "/bad.key");
  EXPECT_EQ(r.err.find("not a key"), std::string::npos);  // never quotes key text
  r = with({});
  EXPECT_EQ(r.status, cli::kExitUsage);
  ExpectOneLine(r, "--join needs --key_file");
}

}  // namespace
}  // namespace lockmesh::testing
