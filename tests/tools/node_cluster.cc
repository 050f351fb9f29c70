#include "tests/tools/node_cluster.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "tests/runtime/test_cluster.h"

extern char** environ;

namespace lockmesh::testing {

NodeProcess::NodeProcess(std::vector<std::string> args) {
  int fds[2];
  EXPECT_EQ(::pipe(fds), 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  EXPECT_EQ(posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  fd_ = fds[0];
}

NodeProcess::~NodeProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  ::close(fd_);
}

std::optional<std::string> NodeProcess::WaitLine(std::string_view prefix, bool after_timestamp,
                                                 std::chrono::milliseconds bound) {
  const auto until = std::chrono::steady_clock::now() + bound;
  while (true) {
    while (next_ < lines_.size()) {
      const std::string& line = lines_[next_++];
      const std::size_t from = after_timestamp ? line.find(' ') + 1 : 0;
      if (after_timestamp && from == 0) continue;
      if (line.compare(from, prefix.size(), prefix) == 0) return line;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        until - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char buf[4096];
    const ssize_t n = ::read(fd_, buf, sizeof(buf));
    if (n <= 0) {
      eof_ = true;
      return std::nullopt;
    }
    partial_.append(buf, n);
    for (std::size_t eol; (eol = partial_.find('\n')) != std::string::npos;) {
      lines_.push_back(partial_.substr(0, eol));
      partial_.erase(0, eol + 1);
    }
  }
}

bool NodeProcess::WaitRecord(std::string_view record) {
  const auto matches = [&](const std::string& line) {
    const std::size_t space = line.find(' ');
    return space != std::string::npos && line.compare(space + 1, record.size(), record) == 0;
  };
  for (std::size_t i = 0; i < next_; ++i) {
    if (matches(lines_[i])) return true;
  }
  return WaitLine(record, true).has_value();
}

void NodeProcess::Signal(int sig) { ::kill(pid_, sig); }

int NodeProcess::Wait() {
  // Reads its output to the end (it exited, closing the pipe), so a full pipe cannot hold
  // the exit up; a child still running after the bound is killed.
  while (!eof_ && WaitLine("\x01", false, std::chrono::seconds(30)).has_value()) {
  }
  if (!eof_) ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string NodeProcess::Output() const {
  return absl::StrCat(absl::StrJoin(lines_, "\n"), "\n", partial_);
}

NodeCluster::NodeCluster(int n) {
  dir_ = absl::StrCat(::testing::TempDir(), "lockmesh-node-", ::getpid());
  std::filesystem::remove_all(dir_);
  std::filesystem::create_directories(dir_);
  // Others (the permission test's `nobody`) may search the directory, not list it.
  ::chmod(dir_.c_str(), 0711);
  const std::string key = absl::StrCat(dir_, "/key");
  std::ofstream(key) << NewKeyText() << "\n";
  ::chmod(key.c_str(), 0600);
  // Free ports, reserved together so they differ, then released for the nodes.
  boost::asio::io_context io;
  std::vector<boost::asio::ip::udp::socket> udp;
  std::vector<boost::asio::ip::tcp::acceptor> tcp;
  std::vector<std::string> binds;
  const auto loopback = boost::asio::ip::make_address("127.0.0.1");
  for (int i = 0; i < n; ++i) {
    udp.emplace_back(io, boost::asio::ip::udp::endpoint(loopback, 0));
    tcp.emplace_back(io, boost::asio::ip::tcp::endpoint(loopback, 0));
    binds.push_back(absl::StrCat("127.0.0.1:", udp.back().local_endpoint().port()));
    http_.push_back(absl::StrCat("127.0.0.1:", tcp.back().local_endpoint().port()));
    sockets_.push_back(absl::StrCat(dir_, "/n", i, ".sock"));
  }
  udp.clear();
  tcp.clear();
  std::vector<std::string> voters;
  for (int i = 0; i < n; ++i) voters.push_back(absl::StrCat("n", i, "@", binds[i]));
  for (int i = 0; i < n; ++i) {
    nodes_.push_back(std::make_unique<NodeProcess>(std::vector<std::string>{
        LOCKMESH_NODE_BIN, absl::StrCat("--name=n", i), absl::StrCat("--bind=", binds[i]),
        absl::StrCat("--voters=", absl::StrJoin(voters, ",")), "--cluster=node-test",
        absl::StrCat("--key_file=", key), "--timing=local", "--lease_max_ms=30000", "--log=info",
        "--bootstrap", absl::StrCat("--api_socket=", sockets_[i]),
        absl::StrCat("--http=", http_[i])}));
  }
  for (int i = 0; i < n; ++i) {
    EXPECT_TRUE(nodes_[i]->WaitLine(absl::StrCat("lockmesh-node n", i, " ready")).has_value())
        << nodes_[i]->Output();
  }
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j) {
      if (i == j) continue;
      EXPECT_TRUE(nodes_[i]->WaitRecord(absl::StrCat("n", i, " info member.joined: n", j, " ")))
          << nodes_[i]->Output();
    }
  }
}

NodeCluster::~NodeCluster() {
  for (auto& node : nodes_) {
    if (node->pid() > 0) {
      node->Signal(SIGTERM);
      node->Wait();
    }
  }
  std::filesystem::remove_all(dir_);
}

}  // namespace lockmesh::testing
