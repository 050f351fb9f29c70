// File: tests/tools/cli_cluster.h
//
// Three lockmesh-node voters on loopback as real processes, for the `lockmesh` end-to-end
// tests: free UDP ports reserved together, a fresh key file, an API socket each in a fresh
// directory, each node awaited by its ready line, and SIGCONT then SIGKILL by PID when the
// test ends (a test may have stopped some).
//
//   VoterCluster cluster("run-test");
//   cluster.Start();              // n0, n1, n2
//   cluster.socket(0);            // n0's API socket
//   cluster.NodeFlags();          // --voters, --cluster, --key_file, ... for `run --join`
#pragma once

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <chrono>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "lib/crypto/key.h"
#include "tests/tools/cli_process.h"

namespace lockmesh::testing {

class VoterCluster {
 public:
  explicit VoterCluster(const std::string& name) : cluster_(name) {
    dir_ = absl::StrCat(::testing::TempDir(), "/lockmesh-", name, "-", ::getpid());
    std::system(absl::StrCat("rm -rf '", dir_, "'").c_str());
    ::mkdir(dir_.c_str(), 0755);
    std::ofstream(KeyFile()) << crypto::GenerateKey().ToBase64() << "\n";
    // Free ports, reserved together so they differ, then released for the nodes.
    boost::asio::io_context io;
    std::vector<boost::asio::ip::udp::socket> held;
    for (int i = 0; i < 3; ++i) {
      held.emplace_back(
          io, boost::asio::ip::udp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
      addresses_.push_back(absl::StrCat("127.0.0.1:", held.back().local_endpoint().port()));
    }
  }
  ~VoterCluster() {
    for (auto& v : voters_) {
      if (v) v->Signal(SIGCONT);
    }
    voters_.clear();  // SIGKILL and reap, by PID
    std::system(absl::StrCat("rm -rf '", dir_, "'").c_str());
  }

  // Starts the three voters, waiting for each one's ready line.
  void Start() {
    for (int i = 0; i < 3; ++i) {
      std::vector<std::string> args = {LOCKMESH_NODE_BIN};
      for (std::string& a : NodeFlags()) args.push_back(std::move(a));
      args.push_back(absl::StrCat("--name=n", i));
      args.push_back(absl::StrCat("--bind=", addresses_[i]));
      args.push_back("--bootstrap");
      args.push_back(absl::StrCat("--api_socket=", socket(i)));
      voters_.push_back(std::make_unique<CliProcess>(std::move(args)));
      ASSERT_TRUE(
          voters_.back()
              ->WaitLine(absl::StrCat("lockmesh-node n", i, " ready"), std::chrono::seconds(30))
              .has_value())
          << voters_.back()->err();
    }
  }

  // The flags every node of this cluster shares (not --name, --bind, --bootstrap).
  std::vector<std::string> NodeFlags() const {
    return {
        absl::StrCat("--voters=n0@", addresses_[0], ",n1@", addresses_[1], ",n2@", addresses_[2]),
        absl::StrCat("--cluster=", cluster_), absl::StrCat("--key_file=", KeyFile()),
        "--timing=local", "--lease_max_ms=5000"};
  }
  std::string KeyFile() const { return dir_ + "/cluster.key"; }
  std::string socket(int i) const { return absl::StrCat(dir_, "/n", i, ".sock"); }
  const std::string& dir() const { return dir_; }
  CliProcess& voter(int i) { return *voters_[i]; }

 private:
  std::string cluster_;
  std::string dir_;
  std::vector<std::string> addresses_;
  std::vector<std::unique_ptr<CliProcess>> voters_;
};

// The mutual-exclusion check both forms of `lockmesh run` share: `workers` shells each run
// `lockmesh_run(worker, command)` `runs` times in a row, where the command reads a counter in
// `dir`, adds one, writes it back and appends its LOCKMESH_TOKEN. Two runs at once would lose
// an update; the counter must end exact and the tokens rise in the order the runs happened.
inline void ExpectCounterExactWithRisingTokens(
    const std::string& dir, int workers, int runs,
    const std::function<std::vector<std::string>(int, std::vector<std::string>)>& lockmesh_run,
    std::chrono::seconds bound) {
  const std::string counter = dir + "/counter", tokens = dir + "/tokens";
  std::ofstream(counter) << "0\n";
  const std::string increment = absl::StrCat("v=$(cat ", counter, "); echo $((v + 1)) > ", counter,
                                             "; echo $LOCKMESH_TOKEN >> ", tokens);
  std::vector<std::unique_ptr<CliProcess>> shells;
  for (int w = 0; w < workers; ++w) {
    std::vector<std::string> args = {
        "/bin/sh", "-c", absl::StrCat("for i in $(seq ", runs, "); do \"$@\" || exit $?; done"),
        "sh"};
    for (std::string& a : lockmesh_run(w, {"sh", "-c", increment})) args.push_back(std::move(a));
    shells.push_back(std::make_unique<CliProcess>(std::move(args)));
  }
  for (auto& shell : shells) {
    std::optional<CliResult> r = shell->Wait(bound);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, 0) << r->err;
  }
  int value = 0;
  std::ifstream(counter) >> value;
  EXPECT_EQ(value, workers * runs);
  std::ifstream in(tokens);
  std::vector<uint64_t> seen;
  for (std::string line; std::getline(in, line);) {
    uint64_t t = 0;
    ASSERT_TRUE(absl::SimpleAtoi(line, &t)) << line;
    seen.push_back(t);
  }
  ASSERT_EQ(seen.size(), static_cast<std::size_t>(workers * runs));
  for (std::size_t i = 1; i < seen.size(); ++i) EXPECT_GT(seen[i], seen[i - 1]) << i;
}

}  // namespace lockmesh::testing
