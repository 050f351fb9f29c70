#include "sim/checker.h"

#include <algorithm>

#include "absl/container/btree_map.h"
#include "absl/strings/str_format.h"

namespace lockmesh::sim {

std::string FormatToken(core::Ballot token) {
  return absl::StrFormat("%d.%d", core::BallotPhysicalMs(token), token & core::kHlcLogicalMask);
}

int64_t FencedStore::Read(const std::string& resource, core::Ballot token) {
  Register& r = registers_[resource];
  if (token < r.highest) {
    ++r.refused;
    return -1;
  }
  r.highest = token;
  return static_cast<int64_t>(r.version);
}

bool FencedStore::Write(const std::string& resource, core::Ballot token, uint64_t read_version,
                        bool* lost) {
  Register& r = registers_[resource];
  *lost = false;
  if (token < r.highest) {
    ++r.refused;
    return false;
  }
  r.highest = token;
  if (read_version != r.version) {
    *lost = true;
    ++r.lost;
  }
  ++r.version;
  ++r.writes;
  return true;
}

namespace {
// A few reports of each kind are enough to act on; keep the lists short.
constexpr std::size_t kReportsMax = 20;
}  // namespace

void Checker::Add(int64_t now, const std::string& property, std::string detail) {
  if (violations_.size() >= kReportsMax) return;
  violations_.push_back(Violation{property, now, std::move(detail)});
}

void Checker::CheckExclusive(int64_t now, const std::string& resource, const Hold& fresh) {
  if (!o_.rates_in_bound) return;
  for (const Hold& h : holds_[resource]) {
    if (h.node == fresh.node && h.request == fresh.request) continue;
    if (!o_.valid(h.node, h.deadline_us)) continue;
    Add(now, "S1",
        absl::StrFormat("'%s' held by n%d (token %s) and n%d (token %s) at once", resource, h.node,
                        FormatToken(h.token), fresh.node, FormatToken(fresh.token)));
  }
}

void Checker::OnGranted(int64_t now, int node, uint64_t request, const std::string& resource,
                        core::Ballot token, int64_t deadline_us) {
  const Hold fresh{node, request, token, deadline_us};
  CheckExclusive(now, resource, fresh);
  core::Ballot& last = last_token_[resource];
  if (token <= last) {
    ++tokens_out_of_order_;
    if (out_of_order_.size() < kReportsMax) {
      out_of_order_.push_back(Violation{
          "S2", now,
          absl::StrFormat("'%s' granted to n%d with token %s, not above the previous grant's %s",
                          resource, node, FormatToken(token), FormatToken(last))});
    }
  }
  last = std::max(last, token);
  holds_[resource].push_back(fresh);
  if (auto ended = ended_with_waiters_at_.find(resource); ended != ended_with_waiters_at_.end()) {
    handoff_gaps_us_.push_back(now - ended->second);
    ended_with_waiters_at_.erase(ended);
  }
  starved_since_.erase(resource);
  idle_since_.erase(resource);
  stalled_since_.erase(resource);
  fault_starved_since_.erase(resource);
}

void Checker::OnRenewed(int64_t now, int node, uint64_t request, const std::string& resource,
                        int64_t deadline_us) {
  for (Hold& h : holds_[resource]) {
    if (h.node == node && h.request == request) {
      h.deadline_us = deadline_us;
      CheckExclusive(now, resource, h);
    }
  }
}

void Checker::OnEnded(int64_t now, int node, uint64_t request, const std::string& resource) {
  if (demand_.contains(resource)) ended_with_waiters_at_[resource] = now;
  auto it = holds_.find(resource);
  if (it == holds_.end()) return;
  std::erase_if(it->second, [&](const Hold& h) { return h.node == node && h.request == request; });
  if (it->second.empty()) holds_.erase(it);
}

void Checker::OnNodeCrashed(int node) {
  for (auto it = holds_.begin(); it != holds_.end();) {
    std::erase_if(it->second, [&](const Hold& h) { return h.node == node; });
    it = it->second.empty() ? holds_.erase(it) : std::next(it);
  }
}

void Checker::OnLostUpdate(int64_t now, const std::string& resource, core::Ballot token) {
  Add(now, "S3",
      absl::StrFormat("the fenced store accepted a write to '%s' with token %s that was based on "
                      "a replaced version: an update was lost",
                      resource, FormatToken(token)));
}

void Checker::Finish(bool walls_in_bound) {
  if (!o_.rates_in_bound || !walls_in_bound) return;
  for (Violation& v : out_of_order_) {
    if (violations_.size() < kReportsMax) violations_.push_back(std::move(v));
  }
  out_of_order_.clear();
  std::stable_sort(violations_.begin(), violations_.end(),
                   [](const Violation& a, const Violation& b) { return a.at_us < b.at_us; });
}

void Checker::OnWaitStart(const std::string& resource, int node, int64_t now) {
  ++demand_[resource];
  Want& want = wants_[resource][node];
  ++want.waiting;
  want.gave_up_at = -1;
  // A client that gave up and asked again soon after is the same unmet demand:
  // the starvation clock runs on. After a long pause without demand it restarts.
  auto idle = idle_since_.find(resource);
  if (idle != idle_since_.end()) {
    if (now - idle->second > kDemandGapUsMax) starved_since_.erase(resource);
    idle_since_.erase(idle);
  }
}

void Checker::OnWaitEnd(const std::string& resource, int node, int64_t now, bool gave_up) {
  auto it = demand_.find(resource);
  if (it != demand_.end() && --it->second <= 0) {
    demand_.erase(it);
    idle_since_[resource] = now;
  }
  auto wants = wants_.find(resource);
  if (wants == wants_.end()) return;
  auto want = wants->second.find(node);
  if (want == wants->second.end()) return;
  if (--want->second.waiting > 0) return;
  if (gave_up) {
    want->second.gave_up_at = now;
  } else {
    wants->second.erase(want);
    if (wants->second.empty()) {
      // Nobody waits (the waiter was granted, or its node crashed): a later wait starts its
      // own stretch, or a crash now and a new wait 20 s later read as 20 s without progress.
      wants_.erase(wants);
      stalled_since_.erase(resource);
      fault_starved_since_.erase(resource);
    }
  }
}

int Checker::ValidHolder(const std::string& resource) const {
  auto it = holds_.find(resource);
  if (it == holds_.end()) return -1;
  for (const Hold& h : it->second) {
    if (o_.valid(h.node, h.deadline_us)) return h.node;
  }
  return -1;
}

int64_t Checker::Starved(absl::btree_map<std::string, int64_t>& since, const std::string& resource,
                         int64_t now) {
  auto [it, inserted] = since.try_emplace(resource, now);
  return now - it->second;
}

void Checker::CheckProgress(int64_t now, const std::string& resource,
                            const absl::btree_map<int, Want>& wants) {
  bool waiting = false;  // anyone at all (during faults: the measure of progress)
  bool can_progress = false;
  for (const auto& [node, want] : wants) {
    const bool wanting =
        want.waiting > 0 || (want.gave_up_at >= 0 && now - want.gave_up_at <= kDemandGapUsMax);
    if (!wanting) continue;
    waiting |= want.waiting > 0;
    can_progress = can_progress || o_.can_progress(node);
  }
  const bool held = ValidHolder(resource) >= 0;
  if (now < o_.quiet_us && waiting && !held) {
    worst_gap_during_faults_us_ =
        std::max(worst_gap_during_faults_us_, Starved(fault_starved_since_, resource, now));
  } else {
    fault_starved_since_.erase(resource);
  }
  if (!can_progress || held) {
    stalled_since_.erase(resource);
    return;
  }
  const int64_t stalled = Starved(stalled_since_, resource, now);
  worst_progress_gap_us_ = std::max(worst_progress_gap_us_, stalled);
  if (o_.judge_progress && stalled > o_.progress_bound_us) {
    Add(now, "L2",
        absl::StrFormat("'%s' had no holder for %.1fs while a waiting node and a majority of "
                        "voters could talk (bound %.1fs)",
                        resource, stalled / 1e6, o_.progress_bound_us / 1e6));
    stalled_since_[resource] = now;  // report again only after another full bound
  }
}

void Checker::Poll(int64_t now) {
  for (auto it = wants_.begin(); it != wants_.end();) {
    // Forget a node that gave up long ago and did not ask again.
    absl::erase_if(it->second, [&](const auto& entry) {
      return entry.second.waiting == 0 && now - entry.second.gave_up_at > kDemandGapUsMax;
    });
    if (it->second.empty()) {
      stalled_since_.erase(it->first);
      fault_starved_since_.erase(it->first);
      it = wants_.erase(it);
      continue;
    }
    CheckProgress(now, it->first, it->second);
    ++it;
  }
  if (now < o_.quiet_us) return;
  for (const auto& [resource, count] : demand_) {
    if (count <= 0) continue;
    if (ValidHolder(resource) >= 0) {
      starved_since_.erase(resource);
      continue;
    }
    const int64_t waited = Starved(starved_since_, resource, now);
    worst_wait_us_ = std::max(worst_wait_us_, waited);
    if (waited > o_.liveness_bound_us) {
      Add(now, "L1",
          absl::StrFormat("'%s' had waiting requests and no holder for %.1fs after faults stopped "
                          "(bound %.1fs)",
                          resource, waited / 1e6, o_.liveness_bound_us / 1e6));
      starved_since_[resource] = now;  // report again only after another full bound
    }
  }
}

}  // namespace lockmesh::sim
