// redis-server instances for the "redis" (one) and "redlock" (three) systems: each started
// by this process on a free loopback port, no persistence (--save "" --appendonly no), its
// working directory under the run's temporary directory, never the packaged service.
//
// Endpoints text: the instances' "ip:port" joined by commas.
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "bench/comparison/process.h"
#include "bench/comparison/systems_internal.h"

namespace lockmesh::bench::comparison {
namespace {

// A free TCP port on 127.0.0.1 (the kernel's pick, released at once for the server).
int FreeTcpPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  int port = 0;
  if (fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  if (fd >= 0) ::close(fd);
  return port;
}

class RedisServers : public Servers {
 public:
  explicit RedisServers(int instances) : instances_(instances) {}
  ~RedisServers() override { Stop(); }

  absl::Status Start(const std::string& workdir) override {
    const std::optional<std::string> program = FindProgram("redis-server");
    if (!program) {
      return absl::FailedPreconditionError("redis-server not installed (package redis-server)");
    }
    for (int i = 0; i < instances_; ++i) {
      const int port = FreeTcpPort();
      if (port == 0) return absl::InternalError("no free TCP port");
      const std::string dir = absl::StrCat(workdir, "/redis-", port);
      ::mkdir(dir.c_str(), 0700);
      absl::StatusOr<std::unique_ptr<Process>> p =
          Process::Start({*program, "--port", absl::StrCat(port), "--bind", "127.0.0.1", "--save",
                          "", "--appendonly", "no", "--dir", dir, "--daemonize", "no", "--logfile",
                          "", "--protected-mode", "no"},
                         {.log_path = dir + ".log"});
      if (!p.ok()) return p.status();
      servers_.push_back(*std::move(p));
      addresses_.push_back(absl::StrCat("127.0.0.1:", port));
    }
    for (std::size_t i = 0; i < servers_.size(); ++i) {
      if (!WaitReady(*servers_[i])) {
        return absl::UnavailableError(
            absl::StrCat("redis-server ", addresses_[i],
                         " did not get ready: ", absl::StrJoin(servers_[i]->Lines(), " | ")));
      }
    }
    return absl::OkStatus();
  }

  void Stop() override {
    for (auto& s : servers_) s->Stop(kServerExitBound);
  }
  std::string Endpoints() const override { return absl::StrJoin(addresses_, ","); }
  std::vector<pid_t> Pids() const override {
    std::vector<pid_t> pids;
    for (const auto& s : servers_) pids.push_back(s->pid());
    return pids;
  }

 private:
  // redis-server logs "Ready to accept connections" once it listens.
  static bool WaitReady(Process& p) {
    const auto until = std::chrono::steady_clock::now() + kServerReadyBound;
    while (std::optional<std::string> line =
               p.WaitLine("", until - std::chrono::steady_clock::now())) {
      if (line->find("Ready to accept connections") != std::string::npos) return true;
    }
    return false;
  }

  const int instances_;
  std::vector<std::unique_ptr<Process>> servers_;
  std::vector<std::string> addresses_;
};

}  // namespace

std::unique_ptr<Servers> MakeRedisServers(int instances) {
  return std::make_unique<RedisServers>(instances);
}

}  // namespace lockmesh::bench::comparison
