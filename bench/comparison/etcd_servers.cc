// etcd's Servers: three members of Debian's etcd 3.4, each started directly by this process
// (never the system service) on free loopback ports, data on tmpfs, output in the workdir.
#include <stdlib.h>

#include <filesystem>
#include <system_error>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "bench/comparison/etcd_gateway.h"
#include "bench/comparison/etcd_system.h"
#include "bench/comparison/etcd_zookeeper_process.h"

namespace lockmesh::bench::comparison {
namespace {

using Clock = std::chrono::steady_clock;

constexpr char kEtcdBin[] = "/usr/bin/etcd";
constexpr int kMembers = 3;
// A fresh cluster elects a leader within a few election timeouts (1 s each by default); the
// bound leaves room for a machine shared with builds.
constexpr std::chrono::seconds kStartBound{60};
// Each readiness probe; a member that has no leader yet answers after its own timeout.
constexpr std::chrono::seconds kProbeBound{3};

class EtcdServers final : public Servers {
 public:
  ~EtcdServers() override { Stop(); }

  absl::Status Start(const std::string& workdir) override {
    if (!IsExecutable(kEtcdBin)) {
      return absl::FailedPreconditionError("etcd not installed (package etcd-server)");
    }
    absl::Status started = StartMembers(workdir);
    if (!started.ok()) Stop();  // every member started so far, and the tmpfs data
    return started;
  }

  void Stop() override {
    StopAll(members_);
    if (!data_dir_.empty()) {
      std::error_code ignored;
      std::filesystem::remove_all(data_dir_, ignored);
      data_dir_.clear();
    }
  }

  std::string Endpoints() const override {
    std::vector<std::string> urls;
    for (uint16_t port : client_ports_) urls.push_back(absl::StrCat("127.0.0.1:", port));
    return absl::StrJoin(urls, ",");
  }

  std::vector<pid_t> Pids() const override {
    std::vector<pid_t> pids;
    for (const auto& m : members_) pids.push_back(m->pid());
    return pids;
  }

 private:
  absl::Status StartMembers(const std::string& workdir) {
    std::string tmpfs_dir = "/dev/shm/lockmesh-etcd-XXXXXX";
    if (::mkdtemp(tmpfs_dir.data()) == nullptr) {
      return absl::InternalError("cannot make a data directory under /dev/shm");
    }
    data_dir_ = tmpfs_dir;
    const std::vector<uint16_t> ports = FreeTcpPorts(2 * kMembers);
    client_ports_.assign(ports.begin(), ports.begin() + kMembers);
    std::vector<std::string> peers;
    for (int i = 0; i < kMembers; ++i) {
      peers.push_back(absl::StrCat("m", i + 1, "=http://127.0.0.1:", ports[kMembers + i]));
    }
    const std::string initial_cluster = absl::StrJoin(peers, ",");
    for (int i = 0; i < kMembers; ++i) {
      const std::string client_url = absl::StrCat("http://127.0.0.1:", client_ports_[i]);
      const std::string peer_url = absl::StrCat("http://127.0.0.1:", ports[kMembers + i]);
      absl::StatusOr<std::unique_ptr<ServerProcess>> member = ServerProcess::Spawn(
          {kEtcdBin, absl::StrCat("--name=m", i + 1),
           absl::StrCat("--data-dir=", data_dir_, "/m", i + 1),
           absl::StrCat("--listen-client-urls=", client_url),
           absl::StrCat("--advertise-client-urls=", client_url),
           absl::StrCat("--listen-peer-urls=", peer_url),
           absl::StrCat("--initial-advertise-peer-urls=", peer_url),
           absl::StrCat("--initial-cluster=", initial_cluster), "--initial-cluster-state=new",
           absl::StrCat("--initial-cluster-token=", data_dir_)},
          absl::StrCat(workdir, "/etcd-m", i + 1, ".log"));
      if (!member.ok()) return member.status();
      members_.push_back(*std::move(member));
    }
    return AwaitMembers();
  }

  // Until each member answers a linearizable range through the gateway (which needs a
  // leader and a quorum), or a member exits, or the bound passes.
  absl::Status AwaitMembers() {
    const Clock::time_point until = Clock::now() + kStartBound;
    const std::string probe = R"({"key":"bG9ja21lc2gtYmVuY2gvcmVhZHk="})";  // lockmesh-bench/ready
    absl::Status last;
    for (int i = 0; i < kMembers; ++i) {
      EtcdGateway member("127.0.0.1", client_ports_[i]);
      while (true) {
        for (int j = 0; j < kMembers; ++j) {
          if (members_[j]->Exited()) {
            return absl::InternalError(absl::StrCat(
                "etcd member m", j + 1, " exited at start: ", members_[j]->LogTail(600)));
          }
        }
        const Clock::time_point now = Clock::now();
        if (now >= until) {
          return absl::DeadlineExceededError(
              absl::StrCat("etcd member m", i + 1, " did not serve within ", kStartBound.count(),
                           " s: ", last.message()));
        }
        const absl::StatusOr<Json> reply =
            member.Call("/v3/kv/range", probe, std::min(until, now + kProbeBound));
        if (reply.ok()) break;
        last = reply.status();
        // Not listening yet fails at once: wait for the member's next chance, bounded.
        if (absl::IsUnavailable(last)) {
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
      }
    }
    return absl::OkStatus();
  }

  std::vector<std::unique_ptr<ServerProcess>> members_;
  std::vector<uint16_t> client_ports_;
  std::string data_dir_;  // on tmpfs, removed by Stop
};

}  // namespace

std::unique_ptr<Servers> MakeEtcdServers() { return std::make_unique<EtcdServers>(); }

}  // namespace lockmesh::bench::comparison
