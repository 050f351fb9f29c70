// File: bench/comparison/systems_internal.h
//
// The factories behind MakeServers / MakeClients (systems.cc) for the systems written in
// this directory besides etcd and ZooKeeper (whose factories system.h names), and the
// Servers stand-in for a system that cannot run here.
#pragma once

#include <memory>
#include <string>

#include "bench/comparison/system.h"

namespace lockmesh::bench::comparison {

// How long a server or a client's connection may take to become ready.
inline constexpr std::chrono::seconds kServerReadyBound{30};
// How long a server may take to exit after SIGTERM before it is killed.
inline constexpr std::chrono::seconds kServerExitBound{10};
// The longest lease the lockmesh voters allow: the many-held workload keeps its leases this
// long without renewing (see LockOptions::ttl for the others).
inline constexpr std::chrono::milliseconds kHoldTtl{600'000};

// lockmesh: three voters, each a lockmesh-example-counter process in serve mode; callers
// are lockmesh::Node non-voters embedded in the client process (one per Clients).
std::unique_ptr<Servers> MakeLockmeshServers();
absl::StatusOr<std::unique_ptr<Clients>> MakeLockmeshClients(const std::string& endpoints,
                                                             const LockOptions& options);

// `instances` redis-server processes (1 for "redis", 3 for "redlock").
std::unique_ptr<Servers> MakeRedisServers(int instances);
// Single-instance Redis: SET NX PX, compare-and-delete by EVALSHA.
absl::StatusOr<std::unique_ptr<Clients>> MakeRedisClients(const std::string& endpoints,
                                                          const LockOptions& options);
// Redlock over the instances in `endpoints`.
absl::StatusOr<std::unique_ptr<Clients>> MakeRedlockClients(const std::string& endpoints,
                                                            const LockOptions& options);

// Servers whose Start always fails with FailedPrecondition(`why`): a system this build or
// this machine cannot run, reported as skipped.
std::unique_ptr<Servers> MakeMissingServers(std::string why);

}  // namespace lockmesh::bench::comparison
