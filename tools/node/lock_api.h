// File: tools/node/lock_api.h
//
// The local lock API of lockmesh-node (docs/local-api.md): HTTP/1.1 + JSON sessions, one per
// connection of the API socket, taking leases through the node for programs that do not
// embed the library. A lease belongs to the connection that took it: when the connection
// closes, its leases are released and its waiting acquire is cancelled.
//
//   LockApi api(*node, io, options.lease_duration_max);
//   auto server = http::Server::ListenUnix(io, path, access, api.Sessions(), limits);
//
// Thread safety: a LockApi and its sessions live on the HTTP server's io thread (`io`);
// results of the node's acquires are posted there. It must outlive the server's sessions and
// the node's pending callbacks must not outlive `io`.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>

#include "lockmesh/node.h"
#include "tools/http/json.h"
#include "tools/http/server.h"

namespace lockmesh::tools {

class LockApi {
 public:
  LockApi(Node& node, boost::asio::io_context& io, std::chrono::milliseconds lease_max);

  // The sessions of the API socket's connections.
  http::SessionFactory Sessions();
  // The leases held through the API, every connection's, as /status lists them.
  void WriteLeases(JsonWriter& w) const;

  // One lease held by a connection.
  struct Held {
    uint64_t connection = 0;
    int64_t ttl_ms = 0;
    bool auto_renew = false;
    Lease lease;
  };

 private:
  friend class ApiSession;

  Node& node_;
  boost::asio::io_context& io_;
  std::chrono::milliseconds lease_max_;
  uint64_t next_lease_id_ = 1;
  // By lease id.
  std::map<uint64_t, Held> leases_;
};

}  // namespace lockmesh::tools
