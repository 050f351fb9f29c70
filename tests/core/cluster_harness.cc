#include "tests/core/cluster_harness.h"

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <utility>

#include "gtest/gtest.h"

namespace lockmesh::core::harness {
namespace {
// A run that needs more steps than this is looping; the test fails instead of hanging.
constexpr int kStepsMax = 100'000;
}  // namespace

LeaseConfig TestConfig(NodeId self, std::vector<NodeId> voters) {
  LeaseConfig config;
  config.self = self;
  config.voters = std::move(voters);
  return config;
}

Cluster::Cluster(int voters, int non_voters) : Cluster(Options{voters, non_voters}) {}

Cluster::Cluster(Options options) : options_(std::move(options)) {
  for (int i = 0; i < options_.voters; ++i) voter_ids_.push_back(static_cast<NodeId>(i + 1));
  for (int i = 0; i < options_.non_voters; ++i) {
    non_voter_ids_.push_back(static_cast<NodeId>(101 + i));
  }
  std::vector<NodeId> all = voter_ids_;
  all.insert(all.end(), non_voter_ids_.begin(), non_voter_ids_.end());
  uint64_t seeds = options_.seed;
  for (NodeId id : all) {
    Member& m = members_[id];
    m.config = TestConfig(id, voter_ids_);
    if (options_.tweak) options_.tweak(m.config);
    EXPECT_TRUE(m.config.Validate().ok()) << m.config.Validate();
    m.rng = std::make_unique<Rng>(SplitMix64(seeds));
    m.node = std::make_unique<LeaseNode>(m.config, m.incarnation, options_.mode, now(id), *m.rng);
  }
}

Cluster::Member& Cluster::member(NodeId id) {
  auto it = members_.find(id);
  if (it == members_.end()) {
    ADD_FAILURE() << "no node " << id << " in the cluster";
    std::abort();
  }
  return it->second;
}

const Cluster::Member& Cluster::member(NodeId id) const {
  return const_cast<Cluster*>(this)->member(id);
}

Now Cluster::now(NodeId id) const {
  return Now{now_us_, kWallBaseMs + now_us_ / 1000 + member(id).wall_offset_ms};
}

void Cluster::AdvanceTo(int64_t mono_us) {
  EXPECT_GE(mono_us, now_us_) << "time only moves forward";
  now_us_ = std::max(now_us_, mono_us);
}

void Cluster::Collect(NodeId id, Effects& fx) {
  Member& m = member(id);
  for (const LeaseEvent& event : fx.events) m.events.push_back(TimedEvent{now_us_, event});
  for (const Envelope& message : fx.messages) {
    EXPECT_EQ(message.from, id);
    network_.push_back(message);
    sent_log_.push_back(message);
  }
  last_ = std::move(fx);
}

absl::StatusOr<uint64_t> Cluster::Acquire(NodeId id, std::string resource, int64_t duration_us,
                                          int64_t wait_us) {
  Effects fx;
  absl::StatusOr<uint64_t> request = node(id).Acquire(
      std::move(resource),
      AcquireOptions{.duration_us = duration_us, .wait_us = wait_us, .try_once = wait_us == 0},
      now(id), fx);
  Collect(id, fx);
  return request;
}

absl::Status Cluster::Renew(NodeId id, uint64_t request, int64_t duration_us) {
  Effects fx;
  absl::Status status = node(id).Renew(request, duration_us, now(id), fx);
  Collect(id, fx);
  return status;
}

absl::Status Cluster::Release(NodeId id, uint64_t request) {
  Effects fx;
  absl::Status status = node(id).Release(request, now(id), fx);
  Collect(id, fx);
  return status;
}

void Cluster::Tick(NodeId id) {
  Effects fx;
  node(id).OnTick(now(id), fx);
  Collect(id, fx);
}

void Cluster::TickDue() {
  for (auto& [id, m] : members_) {
    if (m.node->NextTickUs() <= now_us_) Tick(id);
  }
}

void Cluster::Restart(NodeId id, StartMode mode) {
  Member& m = member(id);
  m.node.reset();
  ++m.incarnation;
  m.node = std::make_unique<LeaseNode>(m.config, m.incarnation, mode, now(id), *m.rng);
}

std::size_t Cluster::Pending(const Match& match) const {
  return static_cast<std::size_t>(std::count_if(network_.begin(), network_.end(), match));
}

std::optional<Envelope> Cluster::Take(const Match& match) {
  auto it = std::find_if(network_.begin(), network_.end(), match);
  if (it == network_.end()) return std::nullopt;
  Envelope message = std::move(*it);
  network_.erase(it);
  return message;
}

bool Cluster::Deliver(const Match& match) {
  std::optional<Envelope> message = Take(match);
  if (!message) return false;
  Inject(*message);
  return true;
}

int Cluster::DeliverAll(const Match& match) {
  int delivered = 0;
  while (Deliver(match)) {
    if (++delivered > kStepsMax) {
      ADD_FAILURE() << "DeliverAll did not settle";
      break;
    }
  }
  return delivered;
}

int Cluster::Drop(const Match& match) {
  int dropped = 0;
  while (Take(match)) ++dropped;
  return dropped;
}

void Cluster::Inject(const Envelope& message) {
  if (members_.find(message.to) == members_.end()) return;  // nobody there
  Effects fx;
  node(message.to).OnMessage(message, now(message.to), fx);
  Collect(message.to, fx);
}

bool Cluster::RunUntil(int64_t mono_us, const std::function<bool()>& stop) {
  for (int step = 0; step < kStepsMax; ++step) {
    DeliverAll();
    if (stop && stop()) return true;
    int64_t next = std::numeric_limits<int64_t>::max();
    for (const auto& [id, m] : members_) next = std::min(next, m.node->NextTickUs());
    if (next > mono_us) {
      AdvanceTo(std::max(now_us_, mono_us));
      return false;
    }
    AdvanceTo(std::max(now_us_, next));
    TickDue();
    if (stop && stop()) return true;
  }
  ADD_FAILURE() << "RunUntil did not settle";
  return false;
}

std::optional<TimedEvent> Cluster::RunUntilEventOf(NodeId id, uint64_t request, int64_t mono_us) {
  const std::size_t before = EventsOf(id, request).size();
  if (!RunUntil(mono_us, [&] { return EventsOf(id, request).size() > before; })) {
    return std::nullopt;
  }
  return EventsOf(id, request).at(before);
}

std::vector<TimedEvent> Cluster::EventsOf(NodeId id, uint64_t request) {
  std::vector<TimedEvent> out;
  for (const TimedEvent& e : events(id)) {
    if (e.event.request == request) out.push_back(e);
  }
  return out;
}

std::optional<TimedEvent> Cluster::LastEventOf(NodeId id, uint64_t request) {
  std::vector<TimedEvent> all = EventsOf(id, request);
  if (all.empty()) return std::nullopt;
  return all.back();
}

std::size_t Cluster::CountSent(const Match& match) const {
  return static_cast<std::size_t>(std::count_if(sent_log_.begin(), sent_log_.end(), match));
}

}  // namespace lockmesh::core::harness
