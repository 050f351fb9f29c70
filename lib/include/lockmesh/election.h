// File: lockmesh/election.h
//
// Leader election on top of leases: the leader is whoever holds the lease on the election's
// resource, kept by background renewal; every member can see who it is, because the leader
// publishes its name and token by gossip.
//
//   lockmesh::Election election(*node, "scheduler");
//   absl::StatusOr<lockmesh::Lease> term = election.Campaign({.duration = 5s, .wait = 60s});
//   if (term.ok()) { RunScheduler(term->token()); }     // until term->lost()
//   ...
//   std::optional<lockmesh::LeaderInfo> who = election.Leader();   // from any member
//   election.Resign();
//
// The token of a term is a fencing token like any lease's: a later leader's is greater, so
// work stamped with it can be fenced off from a deposed leader.
//
// Thread safety: all methods are thread-safe; Campaign blocks (not on an io_context thread).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "lockmesh/lease.h"
#include "lockmesh/node.h"

namespace lockmesh {

struct LeaderInfo {
  std::string name;    // the leader node's name
  uint64_t token = 0;  // its term's fencing token
};

class Election {
 public:
  // `name`: 1..24 bytes. The node must outlive the election.
  Election(Node& node, std::string name);
  // Resigns.
  ~Election();

  // Waits up to options.wait to become leader; the term renews itself in the background
  // (auto_renew is forced on) until Resign(), loss, or options.hold_max. Returns the term's
  // lease (keep it alive: destroying it resigns). FailedPrecondition while already leader;
  // InvalidArgument for a bad name; otherwise the codes of Node::Acquire.
  absl::StatusOr<Lease> Campaign(AcquireOptions options = {});

  // The current leader as this node sees it: itself while it holds a valid term, otherwise the
  // live member that publishes the highest term token for this election. nullopt if none.
  // Asks the node for its members (blocking briefly); on a thread that runs the node's
  // io_context it cannot, and knows only this node's own term.
  std::optional<LeaderInfo> Leader() const;

  // Ends this node's term if it holds one: unpublishes it and releases the lease.
  void Resign();

  const std::string& name() const { return name_; }
  // The gossip tag a leader publishes (the value is its term's token in decimal).
  std::string TagKey() const { return "le/" + name_; }

 private:
  Node& node_;
  const std::string name_;
  mutable absl::Mutex mu_;
  // The current term, shared with the lease the caller holds.
  std::shared_ptr<runtime::LeaseState> term_ ABSL_GUARDED_BY(mu_);
};

}  // namespace lockmesh
