// File: sim/simulation_internal.h
//
// The pieces of a Simulation shared by simulation.cc (event loop, faults) and
// workload.cc (clients). Not part of the simulator's interface.
#pragma once

#include <memory>
#include <ostream>
#include <string>

#include "absl/container/btree_map.h"
#include "absl/strings/str_cat.h"
#include "lib/core/lease_node.h"
#include "lib/core/membership/gossip.h"
#include "sim/simulation.h"

namespace lockmesh::sim {

enum class Simulation::EventKind : uint8_t {
  kDeliver,      // a datagram arrives at `node`
  kTick,         // the core asked for a tick (valid while gen matches)
  kAction,       // scenario fault `index`
  kQuiet,        // faults stop
  kResume,       // a pause ends
  kClient,       // a client's next step (valid while gen matches)
  kClientWrite,  // the write half of a fenced update
  kPoll,         // the liveness check
};

// Kept small: the event heap moves events on every push and pop. Datagrams and
// pending writes live in side tables, named by `index`.
struct Simulation::Event {
  int64_t at = 0;
  uint64_t seq = 0;
  uint64_t gen = 0;
  int32_t node = 0;
  int32_t index = 0;  // action, client, datagram or write slot
  EventKind kind = EventKind::kTick;
  bool delayed = false;  // already held back once by a slow (CPU-starved) node
  // Earliest first; ties in the order they were scheduled.
  bool operator>(const Event& o) const { return at != o.at ? at > o.at : seq > o.seq; }
};

struct Simulation::Datagram {
  int from = 0;
  std::string bytes;
};

// The write half of a fenced update, pending.
struct Simulation::PendingWrite {
  int client = 0;
  uint64_t incarnation = 0;
  core::Ballot token = 0;
  uint64_t version = 0;
  std::string resource;
};

// A table of values named by small integers, reusing freed slots.
template <typename T>
class Slots {
 public:
  int32_t Put(T value) {
    if (free_.empty()) {
      items_.push_back(std::move(value));
      return static_cast<int32_t>(items_.size() - 1);
    }
    const int32_t slot = free_.back();
    free_.pop_back();
    items_[slot] = std::move(value);
    return slot;
  }
  T& operator[](int32_t slot) { return items_[slot]; }
  void Free(int32_t slot) { free_.push_back(slot); }

 private:
  std::vector<T> items_;
  std::vector<int32_t> free_;
};

struct Simulation::Node {
  int index = 0;
  core::NodeId id = 0;
  core::LeaseConfig config;
  SimClock clock;
  int64_t base_drift_ppm = 0;
  bool up = true;
  int64_t paused_until = 0;
  // What arrived while paused, in arrival order: handled when the pause ends,
  // however it ends (its planned end, or cut short when faults stop).
  std::vector<Event> held;
  uint64_t incarnation = 1;
  std::unique_ptr<core::Rng> rng;
  std::unique_ptr<core::LeaseNode> core;
  std::unique_ptr<core::Gossip> gossip;  // when the scenario runs gossip
  bool start_late = false;               // down until a `start` fault
  int64_t slow_us = 0;                   // each input handled this much later
  uint64_t tick_gen = 0;
  int64_t tick_at = -1;
  absl::btree_map<uint64_t, int> client_of_request;
  std::vector<int> clients;
  core::Now Now(int64_t true_us) const { return clock.NowAt(true_us); }
  bool Paused(int64_t true_us) const { return true_us < paused_until; }
  std::string Name() const { return absl::StrCat("n", index); }
};

struct Simulation::Client {
  enum class State : uint8_t { kIdle, kWaiting, kHolding };
  int id = 0;
  int node = 0;
  State state = State::kIdle;
  uint64_t gen = 0;
  uint64_t request = 0;
  std::string resource;
  core::Ballot token = 0;
  int64_t hold_end = 0;             // true time to release
  int64_t pause_after_read_us = 0;  // the GC-pause story: pause between read and write
};

template <typename... Args>
void Simulation::Say(const Args&... args) {
  if (narrate_ != nullptr) *narrate_ << FormatTime(now_) << "  " << absl::StrCat(args...) << "\n";
}

}  // namespace lockmesh::sim
