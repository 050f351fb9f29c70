// Real lockmesh-node processes on loopback for the daemon's tests: three voters with their
// API sockets and HTTP addresses in a fresh directory, each started and stopped by the test
// (by PID), their stdout and stderr read line by line from one pipe.
//
//   NodeCluster cluster(3);                      // waits for every "ready" line
//   ApiClient c = ApiClient::Unix(cluster.socket(0));
//   cluster.node(2).Signal(SIGTERM);
//   EXPECT_EQ(cluster.node(2).Wait(), 0);
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tests/runtime/test_process.h"

namespace lockmesh::testing {

class NodeCluster {
 public:
  // `n` voters n0..n{n-1}, bootstrapped, timing "local", --lease_max_ms=30000; returns when
  // each has printed its ready line and logged every other one as joined.
  explicit NodeCluster(int n);
  ~NodeCluster();

  TestProcess& node(int i) { return *nodes_[i]; }
  const std::string& socket(int i) const { return sockets_[i]; }
  // "127.0.0.1:port" of /metrics and /status.
  const std::string& http(int i) const { return http_[i]; }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  std::vector<std::string> sockets_;
  std::vector<std::string> http_;
  std::vector<std::unique_ptr<TestProcess>> nodes_;
};

}  // namespace lockmesh::testing
