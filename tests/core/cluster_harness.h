// File: cluster_harness.h
//
// A hand-driven message pump for LeaseNode tests. A few nodes share one virtual
// monotonic clock (each may have its own wall-clock offset); every envelope a
// node sends waits in a FIFO "network" until the test delivers, holds back,
// duplicates or drops it; time moves only when the test says so. Lease events
// are logged per node with the time they were emitted.
//
//   Cluster c(/*voters=*/3);
//   absl::StatusOr<uint64_t> id = c.Acquire(c.voter(0), "orders", 5'000'000, 1'000'000);
//   EXPECT_EQ(c.last().messages.size(), 2u);      // to the two other voters
//   c.Deliver(ToNode(c.voter(1)));                // the acquire reaches voter 1
//   c.Deliver(ToNode(c.voter(0)));                // its accept comes back
//   EXPECT_TRUE(c.IsHolding(c.voter(0), *id));
//
// Not thread-safe; one per test.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "lib/core/config.h"
#include "lib/core/lease/events.h"
#include "lib/core/lease_node.h"
#include "lib/core/random.h"
#include "tests/core/printers.h"

namespace lockmesh::core::harness {

inline constexpr int64_t kStartMonoUs = 1'000'000;
inline constexpr int64_t kWallBaseMs = 1'700'000'000'000;

// The default config with `voters`, seen from `self`.
LeaseConfig TestConfig(NodeId self, std::vector<NodeId> voters);

using Match = std::function<bool(const Envelope&)>;

template <typename T>
bool Is(const Envelope& e) {
  return std::holds_alternative<T>(e.body);
}
template <typename T>
const T& As(const Envelope& e) {
  return std::get<T>(e.body);
}
inline Match Any() {
  return [](const Envelope&) { return true; };
}
inline Match ToNode(NodeId to) {
  return [to](const Envelope& e) { return e.to == to; };
}
inline Match FromNode(NodeId from) {
  return [from](const Envelope& e) { return e.from == from; };
}
template <typename T>
Match OfKind() {
  return [](const Envelope& e) { return Is<T>(e); };
}
template <typename T>
Match OfKindTo(NodeId to) {
  return [to](const Envelope& e) { return e.to == to && Is<T>(e); };
}

struct TimedEvent {
  int64_t at_us = 0;
  LeaseEvent event;
};

class Cluster {
 public:
  struct Options {
    int voters = 3;
    int non_voters = 0;
    StartMode mode = StartMode::kBootstrap;
    uint64_t seed = 1;
    // Applied to every node's config before the nodes start.
    std::function<void(LeaseConfig&)> tweak;
  };

  // Voters get ids 1..voters, non-voters 101.., all started at kStartMonoUs.
  explicit Cluster(int voters, int non_voters = 0);
  explicit Cluster(Options options);

  NodeId voter(int i) const { return voter_ids_.at(i); }
  NodeId non_voter(int i) const { return non_voter_ids_.at(i); }
  LeaseNode& node(NodeId id) { return *member(id).node; }
  const LeaseConfig& config(NodeId id) { return member(id).config; }

  // Time.
  int64_t now_us() const { return now_us_; }
  Now now(NodeId id) const;
  void Advance(int64_t us) { AdvanceTo(now_us_ + us); }
  void AdvanceTo(int64_t mono_us);
  void SetWallOffsetMs(NodeId id, int64_t offset_ms) { member(id).wall_offset_ms = offset_ms; }

  // Inputs to one node; their effects go to the network and the event log. Acquire with
  // wait_us 0 is a try-acquire (try_once), as in the public API.
  absl::StatusOr<uint64_t> Acquire(NodeId id, std::string resource, int64_t duration_us,
                                   int64_t wait_us);
  absl::Status Renew(NodeId id, uint64_t request, int64_t duration_us = 0);
  absl::Status Release(NodeId id, uint64_t request);
  void Tick(NodeId id);
  // Ticks every node whose NextTickUs() has come.
  void TickDue();
  // Replaces the node by a fresh one (memory lost) with the next incarnation.
  void Restart(NodeId id, StartMode mode = StartMode::kRestart);
  // The effects of the most recent input to any node.
  const Effects& last() const { return last_; }

  // The network: every message sent and not yet delivered or dropped, in order.
  const std::deque<Envelope>& network() const { return network_; }
  std::size_t Pending(const Match& match = Any()) const;
  // Delivers the first pending message that matches; false if none does.
  bool Deliver(const Match& match = Any());
  // Delivers until nothing matching is pending (replies included); returns how many.
  int DeliverAll(const Match& match = Any());
  // Removes the first matching message without delivering it (to hold it back).
  std::optional<Envelope> Take(const Match& match);
  // Removes every matching message; returns how many.
  int Drop(const Match& match = Any());
  // Delivers `message` now, as if it just arrived (a held, duplicated or forged one).
  void Inject(const Envelope& message);

  // Delivers everything, then moves time to the next tick any node wants and
  // ticks it, until the next tick lies beyond `mono_us`; ends at `mono_us`.
  // With `stop`, ends early (returning true) as soon as `stop()` holds.
  bool RunUntil(int64_t mono_us, const std::function<bool()>& stop = nullptr);
  void RunFor(int64_t us) { RunUntil(now_us_ + us); }
  // Runs until `request` on `id` has an event it did not have before, or `mono_us`.
  std::optional<TimedEvent> RunUntilEventOf(NodeId id, uint64_t request, int64_t mono_us);

  // Events.
  const std::vector<TimedEvent>& events(NodeId id) { return member(id).events; }
  // The events of one request, in order.
  std::vector<TimedEvent> EventsOf(NodeId id, uint64_t request);
  // The last event of one request; nullopt if none.
  std::optional<TimedEvent> LastEventOf(NodeId id, uint64_t request);
  bool IsHolding(NodeId id, uint64_t request) { return node(id).IsHolding(request, now(id)); }

  // Every message ever sent, in order, including dropped ones.
  const std::vector<Envelope>& sent_log() const { return sent_log_; }
  std::size_t CountSent(const Match& match) const;

 private:
  struct Member {
    LeaseConfig config;
    std::unique_ptr<Rng> rng;
    std::unique_ptr<LeaseNode> node;
    uint64_t incarnation = 1;
    int64_t wall_offset_ms = 0;
    std::vector<TimedEvent> events;
  };
  Member& member(NodeId id);
  const Member& member(NodeId id) const;
  void Collect(NodeId id, Effects& fx);

  Options options_;
  int64_t now_us_ = kStartMonoUs;
  std::vector<NodeId> voter_ids_;
  std::vector<NodeId> non_voter_ids_;
  std::map<NodeId, Member> members_;
  std::deque<Envelope> network_;
  std::vector<Envelope> sent_log_;
  Effects last_;
};

}  // namespace lockmesh::core::harness
