// MakeServers / MakeClients: the systems by name. A system this build cannot run (its client
// library was not installed when bench_compare was configured, or its recipe is not built
// in) still has Servers, whose Start says why, so the driver reports it as skipped instead
// of leaving it out.
#include "absl/strings/str_cat.h"
#include "bench/comparison/system.h"
#include "bench/comparison/systems_internal.h"

namespace lockmesh::bench::comparison {
namespace {

class MissingServers : public Servers {
 public:
  explicit MissingServers(std::string why) : why_(std::move(why)) {}
  absl::Status Start(const std::string&) override { return absl::FailedPreconditionError(why_); }
  void Stop() override {}
  std::string Endpoints() const override { return ""; }
  std::vector<pid_t> Pids() const override { return {}; }

 private:
  const std::string why_;
};

// Why etcd and ZooKeeper are missing when their recipes are not linked in (CMakeLists.txt).
[[maybe_unused]] constexpr const char* kNoExternal =
    "its recipe is not in this build (it comes with -DLOCKMESH_BUILD_BENCH=ON and "
    "bench/comparison/external_systems.cmake)";

[[maybe_unused]] std::string NotBuilt(const char* package) {
  return absl::StrCat(package, " was not installed when bench_compare was built");
}

}  // namespace

std::unique_ptr<Servers> MakeMissingServers(std::string why) {
  return std::make_unique<MissingServers>(std::move(why));
}

std::unique_ptr<Servers> MakeServers(const std::string& system) {
  if (system == "lockmesh") return MakeLockmeshServers();
#if LOCKMESH_HAVE_HIREDIS
  if (system == "redis") return MakeRedisServers(1);
  if (system == "redlock") return MakeRedisServers(3);
#else
  if (system == "redis" || system == "redlock") {
    return MakeMissingServers(NotBuilt("libhiredis-dev"));
  }
#endif
#if LOCKMESH_HAVE_ETCD_CLIENT
  if (system == "etcd") return MakeEtcdServers();
#else
  if (system == "etcd") return MakeMissingServers(kNoExternal);
#endif
#if LOCKMESH_HAVE_ZOOKEEPER
  if (system == "zookeeper") return MakeZooKeeperServers();
#elif LOCKMESH_HAVE_ETCD_CLIENT
  if (system == "zookeeper") return MakeMissingServers(NotBuilt("libzookeeper-mt-dev"));
#else
  if (system == "zookeeper") return MakeMissingServers(kNoExternal);
#endif
  return nullptr;
}

absl::StatusOr<std::unique_ptr<Clients>> MakeClients(const std::string& system,
                                                     const std::string& endpoints,
                                                     const LockOptions& options) {
  if (system == "lockmesh") return MakeLockmeshClients(endpoints, options);
#if LOCKMESH_HAVE_HIREDIS
  if (system == "redis") return MakeRedisClients(endpoints, options);
  if (system == "redlock") return MakeRedlockClients(endpoints, options);
#endif
#if LOCKMESH_HAVE_ETCD_CLIENT
  if (system == "etcd") return MakeEtcdClients(endpoints, options);
#endif
#if LOCKMESH_HAVE_ZOOKEEPER
  if (system == "zookeeper") return MakeZooKeeperClients(endpoints, options);
#endif
  return absl::InvalidArgumentError(absl::StrCat("no client for system '", system, "' here"));
}

}  // namespace lockmesh::bench::comparison
