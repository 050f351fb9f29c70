#include "lib/core/membership/broadcast_queue.h"

#include <iterator>
#include <utility>

#include "lib/core/check.h"
#include "lib/core/limits.h"

namespace lockmesh::core {

namespace {

// Fill gives up after this many updates in a row that do not fit: the message is then
// nearly full, and scanning a long queue for a small enough update costs more than the
// few bytes it would use.
constexpr int kMisfitsMax = 8;

}  // namespace

void BroadcastQueue::Push(MemberUpdate update, int extra_transmits) {
  const NodeId node = update.node;
  Erase(node);
  if (by_node_.size() >= kMembersMax) {
    // Full: the most-sent update has done most of its work already.
    auto last = std::prev(order_.end());
    by_node_.erase(last->second.update.node);
    order_.erase(last);
  }
  // A head start of negative transmissions: sent first, and more often.
  const Key key{-extra_transmits, ~next_id_++};
  const WireSize size = WireSizeOf(update);
  order_.emplace(key, Entry{std::move(update), size});
  by_node_.emplace(node, key);
  LM_CHECK(order_.size() == by_node_.size());
}

std::size_t BroadcastQueue::Fill(int limit, WireSize& size, std::vector<MemberUpdate>& out) {
  std::vector<Key> taken;
  int misfits = 0;
  for (const auto& [key, entry] : order_) {
    if (out.size() >= kGossipUpdatesPerMessageMax || misfits >= kMisfitsMax) break;
    const WireSize grown = size + entry.size;
    if (!Fits(grown)) {
      ++misfits;
      continue;
    }
    misfits = 0;
    size = grown;
    out.push_back(entry.update);
    taken.push_back(key);
  }
  for (const Key& key : taken) {
    auto it = order_.find(key);
    const Key next{key.first + 1, key.second};
    if (next.first >= limit) {
      by_node_.erase(it->second.update.node);
      order_.erase(it);
      continue;
    }
    by_node_[it->second.update.node] = next;
    Entry entry = std::move(it->second);
    order_.erase(it);
    order_.emplace(next, std::move(entry));
  }
  LM_CHECK(order_.size() == by_node_.size());
  return taken.size();
}

void BroadcastQueue::Erase(NodeId node) {
  auto it = by_node_.find(node);
  if (it == by_node_.end()) return;
  order_.erase(it->second);
  by_node_.erase(it);
}

int BroadcastQueue::Transmits(NodeId node) const {
  auto it = by_node_.find(node);
  return it == by_node_.end() ? -1 : it->second.first;
}

const MemberUpdate* BroadcastQueue::Find(NodeId node) const {
  auto it = by_node_.find(node);
  return it == by_node_.end() ? nullptr : &order_.at(it->second).update;
}

}  // namespace lockmesh::core
