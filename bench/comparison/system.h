// File: bench/comparison/system.h
//
// The seam between bench_compare's driver and the lock services it compares (lockmesh,
// single-instance Redis, Redlock over three Redis, etcd, ZooKeeper). Each system gives two
// things:
//
//   - Servers: the server processes it needs, started by this process on loopback with their
//     data in a temporary directory and stopped by the PIDs it started (never a system
//     service). Endpoints() is plain text handed to client processes on their command line.
//   - Clients: made once per client process from that text; each caller thread takes a
//     Locker of its own and drives it the way that system's users do (its usual recipe and
//     its usual C/C++ client).
//
//   std::unique_ptr<Servers> s = MakeServers("redis");
//   if (absl::Status st = s->Start(tmpdir); !st.ok()) { report skipped: st.message() }
//   absl::StatusOr<std::unique_ptr<Clients>> c = MakeClients("redis", s->Endpoints(), opts);
//   std::unique_ptr<Locker> l = *(*c)->NewLocker();
//   if (l->Acquire("r/1", 5s).ok()) { ...; l->Release(); }
//   s->Stop();
//
// Thread safety: Servers and Clients are used from one thread (the driver's, or a client
// process's main thread); a Locker is used by one caller thread at a time. Lockers from the
// same Clients may be used concurrently by different threads.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace lockmesh::bench::comparison {

// The same for every system in one run.
struct LockOptions {
  // Lease TTL (lockmesh lease duration, Redis PX, etcd session lease TTL, ZooKeeper session
  // timeout). The holder-killed workload measures how long a dead holder blocks others, so
  // every system gets the same value.
  std::chrono::milliseconds ttl{10000};
  // Contended callers that poll (Redis, Redlock) retry with this backoff: exponential from
  // `backoff_min` to `backoff_max`, full jitter, like lockmesh's retries.
  std::chrono::microseconds backoff_min{1000};
  std::chrono::microseconds backoff_max{50000};
};

// One caller's handle on a lock service. Holds at most one lock at a time.
class Locker {
 public:
  virtual ~Locker() = default;
  // Blocks until this caller holds `resource`; DeadlineExceeded if `wait` ran out first,
  // another error if the service failed (the caller counts it and goes on).
  virtual absl::Status Acquire(const std::string& resource, std::chrono::milliseconds wait) = 0;
  // Releases the lock Acquire took. REQUIRES: the last Acquire succeeded.
  virtual absl::Status Release() = 0;
  // For the workload "many held" only: one try (no waiting) to take `resource` and keep it,
  // beside every other lock this Locker took with Hold, for at least `ttl` (the recipe's own
  // keep-alive may keep it longer), until the Locker is destroyed. Each resource is held
  // once, so a refusal is an error. Unimplemented by default: the driver then reports the
  // workload as not run for that system.
  virtual absl::Status Hold(const std::string& resource, std::chrono::milliseconds ttl) {
    return absl::UnimplementedError("this recipe does not implement Hold");
  }
};

// The clients of one process for one system (a node, connections, sessions).
class Clients {
 public:
  virtual ~Clients() = default;
  // A Locker for one caller thread (its own connection/session where the recipe has one).
  virtual absl::StatusOr<std::unique_ptr<Locker>> NewLocker() = 0;
};

// The server processes of one system.
class Servers {
 public:
  virtual ~Servers() = default;
  // Starts the servers with data under `workdir` (created and removed by the caller) and
  // blocks until they serve (a bounded wait). FailedPrecondition naming the package if a
  // program is missing: the driver reports the system as skipped with that reason.
  virtual absl::Status Start(const std::string& workdir) = 0;
  // SIGTERM, then SIGKILL after a bound, to every PID Start started. Idempotent; also run by
  // the destructor.
  virtual void Stop() = 0;
  // What client processes need to connect (addresses, key file path, ...).
  virtual std::string Endpoints() const = 0;
  // The server processes, for resident memory (workload "many held").
  virtual std::vector<pid_t> Pids() const = 0;
};

// The systems by name: "lockmesh", "redis", "redlock", "etcd", "zookeeper". nullptr for an
// unknown name.
std::unique_ptr<Servers> MakeServers(const std::string& system);
absl::StatusOr<std::unique_ptr<Clients>> MakeClients(const std::string& system,
                                                     const std::string& endpoints,
                                                     const LockOptions& options);

// What MakeServers / MakeClients dispatch to for etcd and ZooKeeper (etcd_*.cc,
// zookeeper_*.cc). bench/comparison/CMakeLists.txt compiles every etcd_*.cc, and every
// zookeeper_*.cc only when libzookeeper-mt is found (defining LOCKMESH_HAVE_ZOOKEEPER;
// without it the driver reports ZooKeeper as skipped and never calls these).
std::unique_ptr<Servers> MakeEtcdServers();
absl::StatusOr<std::unique_ptr<Clients>> MakeEtcdClients(const std::string& endpoints,
                                                         const LockOptions& options);
std::unique_ptr<Servers> MakeZooKeeperServers();
absl::StatusOr<std::unique_ptr<Clients>> MakeZooKeeperClients(const std::string& endpoints,
                                                              const LockOptions& options);

}  // namespace lockmesh::bench::comparison
