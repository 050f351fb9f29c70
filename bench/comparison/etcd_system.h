// File: bench/comparison/etcd_system.h
//
// etcd behind the comparison seam (system.h): a 3-member cluster of Debian's etcd 3.4
// (package etcd-server) started by this process with its data on tmpfs, and callers that
// lock the way etcd's Go users do, with the `concurrency` package's Mutex recipe, spoken
// through the member's gRPC gateway (etcd_gateway.h).
//
//   std::unique_ptr<Servers> servers = MakeEtcdServers();
//   if (absl::Status s = servers->Start(workdir); !s.ok()) { skipped: s.message() }
//   absl::StatusOr<std::unique_ptr<Clients>> clients =
//       MakeEtcdClients(servers->Endpoints(), LockOptions{});
//   std::unique_ptr<Locker> locker = *(*clients)->NewLocker();
//
// Servers: Start fails with FailedPrecondition("etcd not installed (package etcd-server)")
// when /usr/bin/etcd is missing. Endpoints() is "127.0.0.1:<client port>,..." for the three
// members.
//
// Clients: each Locker is one concurrency.Session: a lease of LockOptions.ttl (whole seconds,
// rounded up, at least 1) granted by NewLocker and revoked by the Locker's destructor, plus
// its own kept-alive HTTP connection to one member (members dealt round-robin, as clientv3's
// balancer spreads requests). One keep-alive thread per Clients renews every Locker's lease
// every ttl/3 (clientv3's rhythm) while callers wait or hold. A Locker whose lease expired
// (its process stalled past the TTL) fails that Acquire with Aborted and takes a new session
// for the next one, as a Go caller makes a new Session after Session.Done().
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "bench/comparison/system.h"

namespace lockmesh::bench::comparison {

std::unique_ptr<Servers> MakeEtcdServers();
absl::StatusOr<std::unique_ptr<Clients>> MakeEtcdClients(const std::string& endpoints,
                                                         const LockOptions& options);

}  // namespace lockmesh::bench::comparison
