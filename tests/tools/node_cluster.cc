#include "tests/tools/node_cluster.h"

#include <signal.h>
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

namespace lockmesh::testing {

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
    nodes_.push_back(std::make_unique<TestProcess>(std::vector<std::string>{
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
