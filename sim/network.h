// File: sim/network.h
//
// The simulated network between nodes: who can reach whom (partitions, one-way
// cuts) and what happens to a datagram on the way (loss, duplication, delay,
// stragglers). All randomness comes from the caller's generator.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "lib/core/random.h"
#include "sim/scenario.h"

namespace lockmesh::sim {

class Network {
 public:
  explicit Network(int nodes) : n_(nodes), blocked_(static_cast<std::size_t>(nodes) * nodes, 0) {}

  bool CanReach(int from, int to) const { return !blocked_[Index(from, to)]; }
  void Heal() { std::fill(blocked_.begin(), blocked_.end(), 0); }

  // Splits the nodes into groups; only nodes in a common group talk. A node may
  // be in several groups (bridge) or none.
  void SetGroups(const std::vector<std::vector<int>>& groups);
  void Halves(const std::vector<int>& order);  // first half / second half of `order`
  void Isolate(int node);
  void Ring();    // majorities ring: each node sees a majority, no two the same one
  void Bridge();  // two halves joined by one node that sees both
  void CutInbound(int node);
  void CutOutbound(int node);
  bool Partitioned() const;
  std::string Describe() const;

  // Delivery delays for one datagram: empty when it is lost, two when
  // duplicated.
  std::vector<int64_t> Fate(const NetParams& params, core::Rng& rng) const;

 private:
  std::size_t Index(int from, int to) const { return static_cast<std::size_t>(from) * n_ + to; }
  int n_;
  std::vector<uint8_t> blocked_;
};

}  // namespace lockmesh::sim
