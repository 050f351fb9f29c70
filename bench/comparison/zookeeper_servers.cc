// ZooKeeper's Servers: a 3-node ensemble of Debian's ZooKeeper 3.8, each node's JVM started
// directly by this process (never the system service) with its own zoo.cfg.
#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "bench/comparison/etcd_zookeeper_process.h"
#include "bench/comparison/zookeeper_system.h"

namespace lockmesh::bench::comparison {
namespace {

using Clock = std::chrono::steady_clock;

constexpr char kJava[] = "/usr/bin/java";
constexpr char kJar[] = "/usr/share/java/zookeeper.jar";
// Debian's classpath (/etc/zookeeper/conf/environment): its conf dir, then the jar.
constexpr char kClassPath[] = "/etc/zookeeper/conf:/usr/share/java/zookeeper.jar";
constexpr int kNodes = 3;
// Three JVMs starting on a machine shared with builds, then a leader election.
constexpr std::chrono::seconds kStartBound{120};
constexpr std::chrono::seconds kProbeBound{2};

class ZookeeperServers final : public Servers {
 public:
  ~ZookeeperServers() override { Stop(); }

  absl::Status Start(const std::string& workdir) override {
    if (!IsReadable(kJar)) {
      return absl::FailedPreconditionError(
          "ZooKeeper not installed (package zookeeperd, which brings zookeeper)");
    }
    if (!IsExecutable(kJava)) {
      return absl::FailedPreconditionError(
          "java not installed (package default-jre-headless, a dependency of zookeeper)");
    }
    absl::Status started = StartNodes(workdir);
    if (!started.ok()) Stop();  // every node started so far
    return started;
  }

  void Stop() override { StopAll(nodes_); }

  std::string Endpoints() const override {
    std::vector<std::string> hosts;
    for (uint16_t port : client_ports_) hosts.push_back(absl::StrCat("127.0.0.1:", port));
    return absl::StrJoin(hosts, ",");
  }

  std::vector<pid_t> Pids() const override {
    std::vector<pid_t> pids;
    for (const auto& n : nodes_) pids.push_back(n->pid());
    return pids;
  }

 private:
  absl::Status StartNodes(const std::string& workdir) {
    const std::vector<uint16_t> ports = FreeTcpPorts(3 * kNodes);
    client_ports_.assign(ports.begin(), ports.begin() + kNodes);
    std::string servers;
    for (int i = 0; i < kNodes; ++i) {
      absl::StrAppend(&servers, "server.", i + 1, "=127.0.0.1:", ports[kNodes + i], ":",
                      ports[2 * kNodes + i], "\n");
    }
    for (int i = 0; i < kNodes; ++i) {
      const std::string dir = absl::StrCat(workdir, "/zookeeper-n", i + 1);
      std::error_code ec;
      std::filesystem::create_directories(dir + "/data", ec);
      if (ec) return absl::InternalError(absl::StrCat("cannot make ", dir, ": ", ec.message()));
      std::ofstream(dir + "/data/myid") << i + 1 << "\n";
      std::ofstream cfg(dir + "/zoo.cfg");
      cfg << "tickTime=500\n"
          << "initLimit=20\nsyncLimit=10\n"
          << "minSessionTimeout=1000\nmaxSessionTimeout=120000\n"
          << "dataDir=" << dir << "/data\n"
          << "clientPort=" << client_ports_[i] << "\nclientPortAddress=127.0.0.1\n"
          << "admin.enableServer=false\n"
          << "4lw.commands.whitelist=srvr,ruok\n"
          << servers;
      cfg.close();
      if (!cfg) return absl::InternalError(absl::StrCat("cannot write ", dir, "/zoo.cfg"));
      absl::StatusOr<std::unique_ptr<ServerProcess>> node = ServerProcess::Spawn(
          {kJava, "-Xmx256m", "-cp", kClassPath,
           "org.apache.zookeeper.server.quorum.QuorumPeerMain", dir + "/zoo.cfg"},
          dir + "/zookeeper.log");
      if (!node.ok()) return node.status();
      nodes_.push_back(*std::move(node));
    }
    return AwaitNodes();
  }

  // Until every node answers "srvr" with a mode (it has joined a quorum), or a node exits, or
  // the bound passes.
  absl::Status AwaitNodes() {
    const Clock::time_point until = Clock::now() + kStartBound;
    std::string last;
    for (int i = 0; i < kNodes; ++i) {
      while (true) {
        for (int j = 0; j < kNodes; ++j) {
          if (nodes_[j]->Exited()) {
            return absl::InternalError(absl::StrCat("ZooKeeper node ", j + 1,
                                                    " exited at start: ", nodes_[j]->LogTail(600)));
          }
        }
        const Clock::time_point now = Clock::now();
        if (now >= until) {
          return absl::DeadlineExceededError(absl::StrCat("ZooKeeper node ", i + 1,
                                                          " did not serve within ",
                                                          kStartBound.count(), " s: ", last));
        }
        absl::StatusOr<std::string> reply =
            TcpExchange(client_ports_[i], "srvr", std::min(until, now + kProbeBound));
        if (reply.ok() && absl::StrContains(*reply, "Mode: ")) break;
        last = reply.ok() ? *reply : std::string(reply.status().message());
        // A JVM still starting or a node without a quorum yet refuses or answers at once; no
        // event says when it will serve, so ask again shortly (bounded above).
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }
    return absl::OkStatus();
  }

  std::vector<std::unique_ptr<ServerProcess>> nodes_;
  std::vector<uint16_t> client_ports_;
};

}  // namespace

std::unique_ptr<Servers> MakeZooKeeperServers() { return std::make_unique<ZookeeperServers>(); }

}  // namespace lockmesh::bench::comparison
