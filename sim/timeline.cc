// The timeline's recorder: turns the simulation's hooks into spans (leases,
// waits, down and paused stretches) and points (faults, store operations),
// within the caps of sim/limits.h.
#include "sim/timeline.h"

#include "absl/strings/str_cat.h"
#include "sim/checker.h"
#include "sim/limits.h"

namespace lockmesh::sim {

TimelineRecorder::TimelineRecorder(int nodes)
    : nodes_(nodes), open_down_(nodes, -1), open_pause_(nodes, -1) {}

bool TimelineRecorder::Room(std::size_t kept, int64_t limit, uint64_t& dropped) {
  if (static_cast<int64_t>(kept) < limit) return true;
  ++dropped;
  return false;
}

void TimelineRecorder::NodeDown(int64_t at_us, int node, absl::string_view why) {
  CloseNode(at_us, node, "crashed");
  if (open_down_[node] >= 0) return;
  if (!Room(down_.size() + pauses_.size(), kTimelineSpansMax, spans_dropped_)) return;
  open_down_[node] = static_cast<int>(down_.size());
  down_.push_back(Span{node, at_us, -1, std::string(why)});
}

void TimelineRecorder::NodeUp(int64_t at_us, int node) {
  if (open_down_[node] < 0) return;
  down_[open_down_[node]].end_us = at_us;
  open_down_[node] = -1;
}

void TimelineRecorder::Paused(int64_t at_us, int node, int64_t until_us) {
  if (open_pause_[node] >= 0) return;  // a longer pause extends the open one
  if (!Room(down_.size() + pauses_.size(), kTimelineSpansMax, spans_dropped_)) return;
  open_pause_[node] = static_cast<int>(pauses_.size());
  pauses_.push_back(
      Span{node, at_us, -1, absl::StrCat("paused for ", (until_us - at_us) / 1000, "ms")});
}

void TimelineRecorder::Resumed(int64_t at_us, int node) {
  if (open_pause_[node] < 0) return;
  pauses_[open_pause_[node]].end_us = at_us;
  open_pause_[node] = -1;
}

void TimelineRecorder::FaultApplied(int64_t at_us, const Action& action, int target) {
  using Kind = Action::Kind;
  if (!Room(faults_.size(), kTimelineFaultsMax, faults_dropped_)) return;
  Fault f{at_us, -1, ActionText(action), ""};
  switch (action.kind) {
    case Kind::kPartitionHalves:
    case Kind::kPartitionRandomHalves:
    case Kind::kPartitionRing:
    case Kind::kPartitionBridge:
    case Kind::kHeal:
      f.kind = "network";
      break;
    case Kind::kPartitionIsolate:
    case Kind::kCutInbound:
    case Kind::kCutOutbound:
      f.kind = "network";
      f.node = target;
      break;
    case Kind::kLoss:
    case Kind::kDuplicate:
    case Kind::kDelay:
    case Kind::kTail:
      f.kind = "link";
      break;
    case Kind::kCrash:
      f.kind = "crash";
      f.node = target;
      break;
    case Kind::kCrashAll:
    case Kind::kCrashMajority:
      f.kind = "crash";
      break;
    case Kind::kRestart:
    case Kind::kStart:
      f.kind = "restart";
      f.node = target;
      break;
    case Kind::kRestartAll:
      f.kind = "restart";
      break;
    case Kind::kPause:
      f.kind = "pause";
      f.node = target;
      break;
    case Kind::kDrift:
    case Kind::kClockJump:
      f.kind = "clock";
      f.node = target;
      break;
    case Kind::kSlow:
      f.kind = "slow";
      f.node = target;
      break;
  }
  if (action.target.node == Target::kHolder && f.node >= 0) {
    absl::StrAppend(&f.text, " (n", f.node, ")");
  }
  faults_.push_back(std::move(f));
}

void TimelineRecorder::NetworkChanged(int64_t at_us, const Network& network) {
  NetworkState state{at_us, network.Describe(), {}};
  for (int from = 0; from < nodes_; ++from) {
    std::string row(nodes_, '0');
    for (int to = 0; to < nodes_; ++to) row[to] = network.CanReach(from, to) ? '1' : '0';
    state.reach.push_back(std::move(row));
  }
  // The same state again (a heal of a healed network) draws nothing new.
  if (!network_.empty() && network_.back().reach == state.reach) return;
  if (!Room(network_.size(), kTimelineNetworkStatesMax, network_dropped_)) return;
  network_.push_back(std::move(state));
}

void TimelineRecorder::Asked(int64_t at_us, int node, int client, uint64_t request,
                             const std::string& resource) {
  if (!Room(waits_.size(), kTimelineWaitsMax, waits_dropped_)) return;
  open_waits_[{node, request}] = waits_.size();
  waits_.push_back(Wait{node, client, resource, at_us, -1, ""});
}

void TimelineRecorder::CloseWait(int64_t at_us, const Key& key, std::string why) {
  auto it = open_waits_.find(key);
  if (it == open_waits_.end()) return;
  waits_[it->second].end_us = at_us;
  waits_[it->second].end = std::move(why);
  open_waits_.erase(it);
}

void TimelineRecorder::LeaseEvent(int64_t at_us, int node, int client,
                                  const core::LeaseEvent& event, int64_t valid_until_us) {
  using Kind = core::LeaseEvent::Kind;
  const Key key{node, event.request};
  auto open = open_leases_.find(key);
  switch (event.kind) {
    case Kind::kGranted:
      CloseWait(at_us, key, "granted");
      if (!Room(leases_.size(), kTimelineLeasesMax, leases_dropped_)) return;
      open_leases_[key] = leases_.size();
      leases_.push_back(Lease{node, client, event.resource, event.token, at_us, valid_until_us});
      return;
    case Kind::kFailed:
      CloseWait(at_us, key, absl::StrCat("gave up: ", event.status.message()));
      return;
    case Kind::kRenewed:
      if (open == open_leases_.end()) return;
      leases_[open->second].valid_until_us = valid_until_us;
      ++leases_[open->second].renewals;
      return;
    case Kind::kRenewFailed:
      if (open == open_leases_.end()) return;
      leases_[open->second].renew_failed_us.push_back(at_us);
      return;
    case Kind::kReleased:
    case Kind::kExpired:
      if (open == open_leases_.end()) return;
      leases_[open->second].end_us = at_us;
      leases_[open->second].end = event.kind == Kind::kReleased ? "released" : "lost";
      open_leases_.erase(open);
      return;
  }
}

void TimelineRecorder::StoreOperation(int64_t at_us, int node, int client,
                                      const std::string& resource, core::Ballot token,
                                      core::Ballot highest, StoreOutcome outcome) {
  const bool written = outcome == StoreOutcome::kWritten;
  const int64_t limit = written ? kTimelineWritesMax : kTimelineRefusalsMax;
  std::size_t& count = written ? writes_kept_ : refusals_kept_;
  if (!Room(count, limit, store_dropped_)) return;
  ++count;
  store_.push_back(StoreOp{at_us, node, client, resource, token, highest, outcome});
}

void TimelineRecorder::CloseNode(int64_t at_us, int node, absl::string_view why) {
  for (auto it = open_leases_.begin(); it != open_leases_.end();) {
    if (it->first.first != node) {
      ++it;
      continue;
    }
    leases_[it->second].end_us = at_us;
    leases_[it->second].end = std::string(why);
    it = open_leases_.erase(it);
  }
  for (auto it = open_waits_.begin(); it != open_waits_.end();) {
    if (it->first.first != node) {
      ++it;
      continue;
    }
    waits_[it->second].end_us = at_us;
    waits_[it->second].end = std::string(why);
    it = open_waits_.erase(it);
  }
  Resumed(at_us, node);  // a crash ends a pause
}

void TimelineRecorder::Finish(int64_t end_us) {
  for (int node = 0; node < nodes_; ++node) {
    CloseNode(end_us, node, "run ends");
    NodeUp(end_us, node);
  }
}

std::vector<std::string> TimelineRecorder::Truncated() const {
  std::vector<std::string> lines;
  auto note = [&](uint64_t dropped, absl::string_view what, int64_t limit) {
    if (dropped == 0) return;
    lines.push_back(
        absl::StrCat(dropped, " ", what, " not shown (the page keeps the first ", limit, ")"));
  };
  note(leases_dropped_, "leases", kTimelineLeasesMax);
  note(waits_dropped_, "waits", kTimelineWaitsMax);
  note(spans_dropped_, "down or paused stretches", kTimelineSpansMax);
  note(faults_dropped_, "faults", kTimelineFaultsMax);
  note(network_dropped_, "network changes", kTimelineNetworkStatesMax);
  if (store_dropped_ > 0) {
    lines.push_back(absl::StrCat(
        store_dropped_, " fenced store operations not shown (the page keeps the first ",
        kTimelineWritesMax, " writes and ", kTimelineRefusalsMax, " refusals)"));
  }
  return lines;
}

}  // namespace lockmesh::sim
