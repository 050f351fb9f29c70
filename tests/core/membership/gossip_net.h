// File: tests/core/membership/gossip_net.h
//
// A small hand-driven network of Gossip instances for unit tests: one virtual clock
// that jumps to the next event (a delivery or a node's NextTickUs), a fixed latency,
// and every message through the real codec (so each test also checks that every
// encoded datagram stays within 1400 bytes). Faults: crash a node, drop messages by a
// predicate (cuts, partitions, content filters), delay what one node receives.
//
//   GossipNet net(GossipConfig::Lan());
//   for (int i = 0; i < 3; ++i) net.Add();
//   net.Join(1, {0});
//   net.Join(2, {0});
//   net.RunFor(5'000'000);
//   EXPECT_TRUE(net.Converged());
//
// Single-threaded; deterministic for a given seed.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "lib/core/membership/gossip.h"
#include "lib/core/random.h"

namespace lockmesh::core::testing {

class GossipNet {
 public:
  struct EventRecord {
    int64_t at = 0;
    int observer = 0;
    MemberEvent event;
  };
  struct SentRecord {
    int64_t at = 0;
    int from = 0;
    int to = -1;  // -1: no node has that address
    std::size_t kind = 0;
    Envelope envelope;  // as decoded by the receiver
    std::size_t bytes = 0;
  };
  // Returns true to drop a message from `from` to `to`.
  using DropFn = std::function<bool(int from, int to, const Envelope& envelope)>;

  explicit GossipNet(GossipConfig config, uint64_t seed = 1, int64_t latency_us = 1'000);

  // Adds a node named "node-<i>" at address "addr-<i>" (or `name`), started now.
  int Add(std::string name = "", uint64_t incarnation = 0);
  Gossip& operator[](int i) { return *nodes_[i].gossip; }
  int size() const { return static_cast<int>(nodes_.size()); }
  NodeId Id(int i) const { return nodes_[i].gossip->id(); }
  static std::string Address(int i) { return "addr-" + std::to_string(i); }
  int IndexOf(NodeId id) const;

  // Runs an input on node i and routes its effects.
  void Do(int i, const std::function<void(Gossip&, Now, GossipEffects&)>& input);
  void Join(int i, const std::vector<int>& seeds);
  // Delivers `body` to node `to` now, as if node `from` had sent it (not logged as sent).
  void Inject(int from, int to, MessageBody body);

  void RunFor(int64_t us) { RunUntil(now_ + us); }
  void RunUntil(int64_t t);
  // Runs until `done()` holds (checked after every step) or `deadline`; true if it held.
  bool RunUntil(const std::function<bool()>& done, int64_t deadline);

  void Crash(int i) { nodes_[i].up = false; }
  // Restarts node i as a fresh process (new Gossip, given incarnation), not yet joined.
  void Restart(int i, uint64_t incarnation);
  bool up(int i) const { return nodes_[i].up; }
  void SetDrop(DropFn drop) { drop_ = std::move(drop); }
  void SetInboundDelay(int i, int64_t us) { nodes_[i].inbound_delay_us = us; }

  int64_t now() const { return now_; }
  Now NowOf() const { return Now{now_, 1'700'000'000'000 + now_ / 1000}; }

  const std::vector<EventRecord>& events() const { return events_; }
  // Events node `observer` reported about node `subject`, in order.
  std::vector<MemberEvent::Kind> EventsAbout(int observer, int subject) const;
  const std::vector<SentRecord>& sent() const { return sent_; }
  std::size_t max_datagram_bytes() const { return max_bytes_; }
  int encode_failures() const { return encode_failures_; }

  // State of `subject` in the view of `observer`, or nullopt when unknown.
  std::optional<MemberState> StateOf(int observer, int subject) const;
  // Every up node sees every up node alive, and no down node alive or suspect.
  bool Converged() const;
  // Every up node other than `subject` sees `subject` in `state`.
  bool AllSee(int subject, MemberState state) const;

 private:
  struct Node {
    std::unique_ptr<Rng> rng;
    std::unique_ptr<Gossip> gossip;
    std::string name;
    bool up = true;
    int64_t inbound_delay_us = 0;
  };
  struct Pending {
    int from = 0;
    int to = 0;
    std::string bytes;
  };
  void Route(int from, GossipEffects& fx);
  void Deliver(const Pending& p);
  int64_t NextTick() const;

  GossipConfig config_;
  uint64_t seed_;
  int64_t latency_us_;
  std::vector<Node> nodes_;
  std::map<std::string, int> by_address_;
  std::map<std::pair<int64_t, uint64_t>, Pending> queue_;
  uint64_t order_ = 0;
  int64_t now_ = 0;
  DropFn drop_;
  std::vector<EventRecord> events_;
  std::vector<SentRecord> sent_;
  std::size_t max_bytes_ = 0;
  int encode_failures_ = 0;
};

}  // namespace lockmesh::core::testing
