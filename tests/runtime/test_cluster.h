// A cluster of lockmesh nodes in one process on loopback, for the runtime tests: real
// sockets, real clocks, each node on a thread of its own. Nodes bind port 0 and find each
// other by gossip through node 0. Waiting is on events (log records, callbacks) with
// generous bounds, never on sleeps.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "lockmesh/lockmesh.h"

namespace lockmesh::testing {

using namespace std::chrono_literals;

// A fresh random key, as configuration text.
std::string NewKeyText();

// Wakes waiters on every log record of any node it is attached to.
class Events {
 public:
  LogHook Hook();
  // Waits until `done()` is true, re-checking on each event and at least every 20 ms.
  // False after `bound`.
  bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds bound = 20s);
  int Count(std::string_view event) const;

 private:
  mutable absl::Mutex mu_;
  uint64_t seq_ = 0;
  std::vector<std::string> events_;
};

class TestCluster {
 public:
  // `n` nodes named n0..n{n-1}; the first `voters` are the voter set. With `io`, every node
  // runs on that io_context (the embedder's, run by the test) instead of a thread of its own.
  TestCluster(int n, int voters, std::function<void(int, NodeOptions&)> customize = {},
              boost::asio::io_context* io = nullptr);
  ~TestCluster();

  NodeOptions Options(int i) const;
  Node& node(int i) { return *nodes_[i]; }
  int size() const { return static_cast<int>(nodes_.size()); }
  // Starts node i (again); REQUIRES it is stopped.
  void Start(int i, bool bootstrap);
  void Stop(int i);
  bool running(int i) const { return nodes_[i] != nullptr; }
  // Every running node sees every running node alive.
  bool Converged();
  void WaitConverged();
  Events& events() { return events_; }
  const std::string& key() const { return key_; }

 private:
  int voters_;
  std::function<void(int, NodeOptions&)> customize_;
  boost::asio::io_context* io_;
  std::string key_;
  std::vector<std::string> addresses_;
  std::vector<std::unique_ptr<Node>> nodes_;
  Events events_;
};

}  // namespace lockmesh::testing
