// File: bench/comparison/zookeeper_system.h
//
// ZooKeeper behind the comparison seam (system.h): a 3-node ensemble of Debian's ZooKeeper
// 3.8 (package zookeeperd) started by this process, and callers that lock with ZooKeeper's
// lock recipe through the C client libzookeeper-mt (package libzookeeper-mt-dev).
//
//   std::unique_ptr<Servers> servers = MakeZooKeeperServers();
//   if (absl::Status s = servers->Start(workdir); !s.ok()) { skipped: s.message() }
//   absl::StatusOr<std::unique_ptr<Clients>> clients =
//       MakeZooKeeperClients(servers->Endpoints(), LockOptions{});
//   std::unique_ptr<Locker> locker = *(*clients)->NewLocker();
//
// Servers: each node runs `java -Xmx256m -cp /etc/zookeeper/conf:/usr/share/java/zookeeper.jar
// org.apache.zookeeper.server.quorum.QuorumPeerMain zoo.cfg` (Debian's classpath, the jar's
// manifest names its dependencies), with its own zoo.cfg, myid and dataDir under the workdir,
// free loopback ports, the admin server off and the "srvr"/"ruok" four-letter words allowed.
// tickTime is 500 ms with sessions allowed from 1 s to 120 s, so LockOptions.ttl is the
// session timeout the server grants. Start returns once every node reports a mode
// (leader/follower) to "srvr". FailedPrecondition naming the package when the jar or java is
// missing. Endpoints() is the client connection string "127.0.0.1:<port>,...".
//
// Clients: each Locker is one ZooKeeper session (zhandle) with session timeout
// LockOptions.ttl; NewLocker returns once it is connected. Locks live under
// /locks/<resource>/. If libzookeeper-mt was missing at build time
// (LOCKMESH_HAVE_ZOOKEEPER=0), MakeZooKeeperClients answers FailedPrecondition.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "bench/comparison/system.h"

namespace lockmesh::bench::comparison {

std::unique_ptr<Servers> MakeZooKeeperServers();
absl::StatusOr<std::unique_ptr<Clients>> MakeZooKeeperClients(const std::string& endpoints,
                                                              const LockOptions& options);

}  // namespace lockmesh::bench::comparison
