// lockmesh as bench_compare runs it: three voters, each a lockmesh-example-counter process
// in serve mode (as bench/cluster runs its remote voters), and in every client process one
// embedded lockmesh::Node, a non-voter, through the public API only.
//
// Endpoints text: "voters=<n0@ip:port,...>;key_file=<path>;cluster=<name>".
#include <sodium.h>
#include <unistd.h>

#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "bench/child_process.h"
#include "bench/comparison/process.h"
#include "bench/comparison/systems_internal.h"
#include "lockmesh/lockmesh.h"

namespace lockmesh::bench::comparison {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr int kVoters = 3;
constexpr const char* kCluster = "bench-compare";

class LockmeshServers : public Servers {
 public:
  ~LockmeshServers() override { Stop(); }

  absl::Status Start(const std::string& workdir) override {
    if (::access(LOCKMESH_COUNTER_BIN, X_OK) != 0) {
      return absl::FailedPreconditionError(
          absl::StrCat(LOCKMESH_COUNTER_BIN, " is not built (target lockmesh-example-counter)"));
    }
    if (sodium_init() < 0) return absl::InternalError("libsodium did not initialize");
    const std::string key_path = workdir + "/lockmesh.key";
    if (!WriteNewKeyFile(key_path)) return absl::InternalError("cannot write " + key_path);
    const std::vector<std::string> addresses = FreeAddresses(kVoters);
    std::vector<std::string> voters;
    for (int i = 0; i < kVoters; ++i) voters.push_back(absl::StrCat("n", i, "@", addresses[i]));
    endpoints_ = absl::StrCat("voters=", absl::StrJoin(voters, ","), ";key_file=", key_path,
                              ";cluster=", kCluster);
    for (int i = 0; i < kVoters; ++i) {
      absl::StatusOr<std::unique_ptr<Process>> p = Process::Start(
          {LOCKMESH_COUNTER_BIN, absl::StrCat("--name=n", i), absl::StrCat("--bind=", addresses[i]),
           "--voters=" + absl::StrJoin(voters, ","), absl::StrCat("--cluster=", kCluster),
           "--key_file=" + key_path, "--timing=local", "--bootstrap",
           absl::StrCat("--lease_max_ms=", kHoldTtl.count()), "--log=warning"},
          {.log_path = absl::StrCat(workdir, "/lockmesh-n", i, ".log")});
      if (!p.ok()) return p.status();
      voters_.push_back(*std::move(p));
    }
    for (int i = 0; i < kVoters; ++i) {
      if (!voters_[i]->WaitLine("READY", kServerReadyBound)) {
        return absl::UnavailableError(absl::StrCat(
            "voter n", i, " did not print READY: ", absl::StrJoin(voters_[i]->Lines(), " | ")));
      }
    }
    return absl::OkStatus();
  }

  void Stop() override {
    for (auto& v : voters_) v->Stop(kServerExitBound);
  }
  std::string Endpoints() const override { return endpoints_; }
  std::vector<pid_t> Pids() const override {
    std::vector<pid_t> pids;
    for (const auto& v : voters_) pids.push_back(v->pid());
    return pids;
  }

 private:
  std::vector<std::unique_ptr<Process>> voters_;
  std::string endpoints_;
};

class LockmeshLocker : public Locker {
 public:
  LockmeshLocker(Node& node, std::chrono::milliseconds ttl) : node_(node), ttl_(ttl) {}

  absl::Status Acquire(const std::string& resource, std::chrono::milliseconds wait) override {
    absl::StatusOr<Lease> lease = node_.Acquire(resource, {.duration = ttl_, .wait = wait});
    if (!lease.ok()) return lease.status();
    lease_ = *std::move(lease);
    return absl::OkStatus();
  }
  absl::Status Release() override { return lease_.Release(); }
  absl::Status Hold(const std::string& resource, std::chrono::milliseconds ttl) override {
    absl::StatusOr<Lease> lease = node_.TryAcquire(resource, {.duration = ttl});
    if (!lease.ok()) return lease.status();
    held_.push_back(*std::move(lease));
    return absl::OkStatus();
  }

 private:
  Node& node_;
  const std::chrono::milliseconds ttl_;
  Lease lease_;
  std::vector<Lease> held_;
};

class LockmeshClients : public Clients {
 public:
  LockmeshClients(std::unique_ptr<Node> node, std::chrono::milliseconds ttl)
      : node_(std::move(node)), ttl_(ttl) {}
  absl::StatusOr<std::unique_ptr<Locker>> NewLocker() override {
    return std::make_unique<LockmeshLocker>(*node_, ttl_);
  }

 private:
  std::unique_ptr<Node> node_;
  const std::chrono::milliseconds ttl_;
};

}  // namespace

std::unique_ptr<Servers> MakeLockmeshServers() { return std::make_unique<LockmeshServers>(); }

absl::StatusOr<std::unique_ptr<Clients>> MakeLockmeshClients(const std::string& endpoints,
                                                             const LockOptions& lock_options) {
  NodeOptions options;
  std::string key_path;
  for (absl::string_view part : absl::StrSplit(endpoints, ';', absl::SkipEmpty())) {
    std::pair<std::string, std::string> kv = absl::StrSplit(part, absl::MaxSplits('=', 1));
    if (kv.first == "voters") {
      for (absl::string_view v : absl::StrSplit(kv.second, ',')) {
        std::pair<std::string, std::string> na = absl::StrSplit(v, absl::MaxSplits('@', 1));
        options.voters.push_back({na.first, na.second});
        options.seeds.push_back(na.second);
      }
    } else if (kv.first == "key_file") {
      key_path = kv.second;
    } else if (kv.first == "cluster") {
      options.cluster_name = kv.second;
    }
  }
  std::FILE* f = std::fopen(key_path.c_str(), "r");
  if (f == nullptr) return absl::InvalidArgumentError("cannot read the key file " + key_path);
  char key[129] = {};
  const bool read = std::fgets(key, sizeof key, f) != nullptr;
  std::fclose(f);
  if (!read) return absl::InvalidArgumentError("empty key file " + key_path);
  options.keys = {key};
  options.name = absl::StrCat("c", ::getpid());
  options.bind_address = "127.0.0.1:0";
  options.timing = Timing::kLocal;
  options.lease_duration_max = kHoldTtl;
  options.log_level = LogLevel::kError;
  options.log = [](const LogRecord& r) {
    std::fprintf(stderr, "lockmesh %s: %s\n", std::string(r.event).c_str(), r.message.c_str());
  };
  absl::StatusOr<std::unique_ptr<Node>> node = Node::Start(options);
  if (!node.ok()) return node.status();
  // Ready once it sees the three voters and itself alive: a benchmark's setup, polled.
  const Clock::time_point until = Clock::now() + kServerReadyBound;
  while ((*node)->GetMetrics().members_alive < kVoters + 1) {
    if (Clock::now() > until) return absl::DeadlineExceededError("the voters did not answer");
    std::this_thread::sleep_for(5ms);
  }
  return std::make_unique<LockmeshClients>(*std::move(node), lock_options.ttl);
}

}  // namespace lockmesh::bench::comparison
