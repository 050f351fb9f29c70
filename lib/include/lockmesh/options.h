// File: lockmesh/options.h
//
// Everything a node is started with. Node::Start validates the whole set and refuses it with
// InvalidArgument naming the first problem: a malformed address, a voter set that contradicts
// itself or this node, a missing or malformed key, timing that would break the lease safety
// rules (docs/protocol.md).
//
//   lockmesh::NodeOptions options;
//   options.name = "app-1";
//   options.bind_address = "10.0.0.1:7946";
//   options.voters = {{"app-1", "10.0.0.1:7946"}, {"app-2", "10.0.0.2:7946"},
//                     {"app-3", "10.0.0.3:7946"}};
//   options.cluster_name = "orders-prod";
//   options.keys = {ReadFile("/etc/lockmesh/key")};   // 64 hex digits or base64 of 32 bytes
//
// Plain value type; thread-compatible.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "lockmesh/log.h"

namespace lockmesh {

// Timing of failure detection and of lease retransmissions, after hashicorp/memberlist's
// presets. kLocal suits loopback and test clusters; kWan tolerates long, lossy paths.
enum class Timing : uint8_t { kLan, kWan, kLocal };

// A voter: its node name and, when known in advance, its address ("host:port"). A voter
// without an address is found by gossip.
struct Peer {
  std::string name;
  std::string address;
};

struct NodeOptions {
  // This node's name, unique in the cluster; its identity is the name's hash. 1..64 bytes.
  std::string name;
  // Where the node's UDP socket binds: "ip:port", "[ipv6]:port", or "host:port" resolved at
  // start. Port 0 picks a free port (Node::address() tells which).
  std::string bind_address = "127.0.0.1:7946";
  // The address others reach this node at; the bound address when empty. Required when
  // binding to a wildcard address (0.0.0.0 or ::).
  std::string advertise_address;
  // Addresses to join through. Empty: the addresses of the other voters.
  std::vector<std::string> seeds;
  // The voter set, identical on every node of the cluster (its hash travels in every lease
  // message, and a node with another set is refused loudly). 1..9 voters; 3 to 7 is normal.
  // This node is a voter if its name is listed.
  std::vector<Peer> voters;
  // Sealed into every datagram as additional data: clusters with different names never hear
  // each other, even when they share a key. 1..64 bytes.
  std::string cluster_name;
  // Cluster keys as text (64 hex digits or base64 of 32 bytes). The first seals; the others
  // are accepted for opening (key rotation, see Node::AddKey). At least one.
  std::vector<std::string> keys;

  Timing timing = Timing::kLan;
  // True only for the very first start of a brand-new cluster: the voters skip the restart
  // quarantine. Any later start must leave it false, or a lease granted by this voter's
  // earlier life could be granted again.
  bool bootstrap = false;
  // The longest lease a request may ask for (D_max), and the bound on any clock's rate error.
  std::chrono::milliseconds lease_duration_max{30'000};
  int64_t clock_error_ppm = 1000;
  // How long a restarted voter refuses to vote. Zero: the least safe value,
  // D_max * (1 + rho) / (1 - rho). Must never shrink across restarts.
  std::chrono::milliseconds quarantine{0};

  // Published to every member by gossip (keys 1..32 bytes, values up to 128).
  std::map<std::string, std::string> tags;

  // The circuit breaker: after this many requests in a row failed for lack of a quorum, new
  // requests wait (or fail at once if their wait limit is shorter) for `breaker_cooldown`,
  // doubling on each failed probe up to 32 times that.
  int breaker_failures = 5;
  std::chrono::milliseconds breaker_cooldown{1'000};

  // How long Stop() waits for the leave announcement to spread before closing the socket.
  std::chrono::milliseconds leave_timeout{2'000};

  // Structured log records at or above `log_level`; nothing when empty.
  LogHook log;
  LogLevel log_level = LogLevel::kInfo;
};

}  // namespace lockmesh
