// File: lease/release_queue.cc
#include "lib/core/lease/release_queue.h"

#include <algorithm>
#include <limits>

#include "lib/core/check.h"

namespace lockmesh::core {

bool ReleaseQueue::Add(const Key& key, const Owner& owner, uint32_t voters, int64_t resend_at_us,
                       int64_t give_up_at_us, bool still_waiting) {
  auto [it, inserted] = releases_.try_emplace(key);
  if (inserted && releases_.size() > max_) {
    releases_.erase(it);
    return false;
  }
  Release& r = it->second;
  if (!inserted) due_.erase({r.resend_at_us, key});
  r.owner = owner;
  r.voters |= voters;
  r.resend_at_us = resend_at_us;
  r.give_up_at_us = std::max(r.give_up_at_us, give_up_at_us);
  r.still_waiting = still_waiting;
  due_.insert({resend_at_us, key});
  return true;
}

void ReleaseQueue::Confirm(const Key& key, const Owner& owner, int voter_index) {
  auto it = releases_.find(key);
  if (it == releases_.end() || !(it->second.owner == owner)) return;
  it->second.voters &= ~(1u << voter_index);
  if (it->second.voters == 0) Erase(it);
}

std::size_t ReleaseQueue::Tick(int64_t now_us,
                               absl::FunctionRef<int64_t(const Key&, Release&)> resend) {
  std::size_t given_up = 0;
  while (!due_.empty() && due_.begin()->first <= now_us) {
    const Key key = due_.begin()->second;
    due_.erase(due_.begin());
    auto it = releases_.find(key);
    LM_CHECK(it != releases_.end());
    Release& r = it->second;
    if (now_us >= r.give_up_at_us) {
      releases_.erase(it);
      ++given_up;
      continue;
    }
    r.resend_at_us = resend(key, r);
    LM_CHECK(r.resend_at_us > now_us);
    due_.insert({r.resend_at_us, key});
  }
  return given_up;
}

int64_t ReleaseQueue::NextDueUs() const {
  return due_.empty() ? std::numeric_limits<int64_t>::max() : due_.begin()->first;
}

void ReleaseQueue::Erase(absl::btree_map<Key, Release>::iterator it) {
  due_.erase({it->second.resend_at_us, it->first});
  releases_.erase(it);
}

}  // namespace lockmesh::core
