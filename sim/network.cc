#include "sim/network.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace lockmesh::sim {

void Network::SetGroups(const std::vector<std::vector<int>>& groups) {
  std::fill(blocked_.begin(), blocked_.end(), 1);
  for (int i = 0; i < n_; ++i) blocked_[Index(i, i)] = 0;
  for (const auto& g : groups) {
    for (int a : g) {
      for (int b : g) blocked_[Index(a, b)] = 0;
    }
  }
}

void Network::Halves(const std::vector<int>& order) {
  const std::size_t half = order.size() / 2;
  SetGroups({std::vector<int>(order.begin(), order.begin() + half),
             std::vector<int>(order.begin() + half, order.end())});
}

void Network::Isolate(int node) {
  std::vector<int> rest;
  for (int i = 0; i < n_; ++i) {
    if (i != node) rest.push_back(i);
  }
  SetGroups({{node}, rest});
}

void Network::Ring() {
  // Node i talks to the nodes within `reach` places of it around the ring:
  // 2 * reach + 1 nodes, a majority, and each node's majority is different.
  const int reach = n_ / 2 / 2 + (n_ / 2) % 2;
  std::fill(blocked_.begin(), blocked_.end(), 1);
  for (int i = 0; i < n_; ++i) {
    for (int j = 0; j < n_; ++j) {
      const int d = std::abs(i - j);
      if (std::min(d, n_ - d) <= reach) blocked_[Index(i, j)] = 0;
    }
  }
}

void Network::Bridge() {
  const int middle = n_ / 2;
  std::vector<int> left, right;
  for (int i = 0; i < n_; ++i) {
    if (i <= middle) left.push_back(i);
    if (i >= middle) right.push_back(i);
  }
  SetGroups({left, right});
}

void Network::CutInbound(int node) {
  for (int i = 0; i < n_; ++i) {
    if (i != node) blocked_[Index(i, node)] = 1;
  }
}

void Network::CutOutbound(int node) {
  for (int i = 0; i < n_; ++i) {
    if (i != node) blocked_[Index(node, i)] = 1;
  }
}

bool Network::Partitioned() const {
  return std::any_of(blocked_.begin(), blocked_.end(), [](uint8_t b) { return b != 0; });
}

std::string Network::Describe() const {
  if (!Partitioned()) return "fully connected";
  std::string out;
  for (int i = 0; i < n_; ++i) {
    absl::StrAppend(&out, i ? " " : "", "n", i, "->{");
    bool first = true;
    for (int j = 0; j < n_; ++j) {
      if (j != i && CanReach(i, j)) {
        absl::StrAppend(&out, first ? "" : ",", j);
        first = false;
      }
    }
    absl::StrAppend(&out, "}");
  }
  return out;
}

std::vector<int64_t> Network::Fate(const NetParams& p, core::Rng& rng) const {
  std::vector<int64_t> delays;
  if (rng.Chance(p.loss)) return delays;
  const int copies = rng.Chance(p.duplicate) ? 2 : 1;
  for (int c = 0; c < copies; ++c) {
    int64_t d = rng.Between(p.delay_us_min, p.delay_us_max);
    if (rng.Chance(p.tail)) d += rng.Between(0, p.tail_us_max);
    delays.push_back(d);
  }
  return delays;
}

}  // namespace lockmesh::sim
