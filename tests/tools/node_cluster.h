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

namespace lockmesh::testing {

// One child process with stdout and stderr on one pipe. The destructor kills it (SIGKILL)
// if it still runs.
class NodeProcess {
 public:
  explicit NodeProcess(std::vector<std::string> args);
  ~NodeProcess();
  NodeProcess(const NodeProcess&) = delete;
  NodeProcess& operator=(const NodeProcess&) = delete;

  // The first unread line that starts with `prefix`, or (with `after_timestamp`) whose text
  // after the first space does; nullopt after `bound` or at the end of output.
  std::optional<std::string> WaitLine(std::string_view prefix, bool after_timestamp = false,
                                      std::chrono::milliseconds bound = std::chrono::seconds(30));
  // Like WaitLine(record, true), but also matches lines read before: for records whose order
  // among others is not known.
  bool WaitRecord(std::string_view record);
  void Signal(int sig);
  // The exit code, waiting up to 30 s (then SIGKILL); -1 unless it exited normally.
  int Wait();
  std::string Output() const;
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int fd_ = -1;
  std::vector<std::string> lines_;
  std::size_t next_ = 0;
  std::string partial_;
  bool eof_ = false;
};

class NodeCluster {
 public:
  // `n` voters n0..n{n-1}, bootstrapped, timing "local", --lease_max_ms=30000; returns when
  // each has printed its ready line and logged every other one as joined.
  explicit NodeCluster(int n);
  ~NodeCluster();

  NodeProcess& node(int i) { return *nodes_[i]; }
  const std::string& socket(int i) const { return sockets_[i]; }
  // "127.0.0.1:port" of /metrics and /status.
  const std::string& http(int i) const { return http_[i]; }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  std::vector<std::string> sockets_;
  std::vector<std::string> http_;
  std::vector<std::unique_ptr<NodeProcess>> nodes_;
};

}  // namespace lockmesh::testing
