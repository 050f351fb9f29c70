#include "sim/checker.h"

#include <algorithm>

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
  if (!rates_in_bound_) return;
  for (const Hold& h : holds_[resource]) {
    if (h.node == fresh.node && h.request == fresh.request) continue;
    if (!valid_(h.node, h.deadline_us)) continue;
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
  starved_since_.erase(resource);
  idle_since_.erase(resource);
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

void Checker::OnEnded(int node, uint64_t request, const std::string& resource) {
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
  if (!rates_in_bound_ || !walls_in_bound) return;
  for (Violation& v : out_of_order_) {
    if (violations_.size() < kReportsMax) violations_.push_back(std::move(v));
  }
  out_of_order_.clear();
  std::stable_sort(violations_.begin(), violations_.end(),
                   [](const Violation& a, const Violation& b) { return a.at_us < b.at_us; });
}

void Checker::OnWaitStart(const std::string& resource, int64_t now) {
  ++demand_[resource];
  // A client that gave up and asked again soon after is the same unmet demand:
  // the starvation clock runs on. After a long pause without demand it restarts.
  auto idle = idle_since_.find(resource);
  if (idle != idle_since_.end()) {
    if (now - idle->second > kDemandGapUsMax) starved_since_.erase(resource);
    idle_since_.erase(idle);
  }
}

void Checker::OnWaitEnd(const std::string& resource, int64_t now) {
  auto it = demand_.find(resource);
  if (it != demand_.end() && --it->second <= 0) {
    demand_.erase(it);
    idle_since_[resource] = now;
  }
}

int Checker::ValidHolder(const std::string& resource) const {
  auto it = holds_.find(resource);
  if (it == holds_.end()) return -1;
  for (const Hold& h : it->second) {
    if (valid_(h.node, h.deadline_us)) return h.node;
  }
  return -1;
}

void Checker::Poll(int64_t now) {
  if (now < quiet_us_) return;
  for (const auto& [resource, count] : demand_) {
    if (count <= 0) continue;
    if (ValidHolder(resource) >= 0) {
      starved_since_.erase(resource);
      continue;
    }
    auto [it, inserted] = starved_since_.try_emplace(resource, now);
    const int64_t waited = now - it->second;
    worst_wait_us_ = std::max(worst_wait_us_, waited);
    if (waited > bound_us_) {
      Add(now, "L1",
          absl::StrFormat("'%s' had waiting requests and no holder for %.1fs after faults stopped "
                          "(bound %.1fs)",
                          resource, waited / 1e6, bound_us_ / 1e6));
      it->second = now;  // report again only after another full bound
    }
  }
}

}  // namespace lockmesh::sim
