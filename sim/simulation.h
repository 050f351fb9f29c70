// File: sim/simulation.h
//
// One deterministic simulation run: N nodes running the real lease core, every
// message through the real codec, on virtual time that jumps from event to
// event, with the scenario's faults and workload, judged by the Checker.
//
//   absl::StatusOr<Scenario> s = LoadScenario("sim/scenarios/split.scn");
//   Simulation sim(*s, /*seed=*/7, &std::cout);  // nullptr: no narration
//   RunResult r = sim.Run();
//   if (!r.violations.empty()) ...
//
// Everything random flows from the seed; the same scenario and seed give the
// same trace hash on every run and machine. Single-threaded; one Simulation per
// thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/strings/string_view.h"
#include "lib/core/lease_node.h"
#include "lib/core/membership/gossip.h"
#include "sim/checker.h"
#include "sim/clock.h"
#include "sim/network.h"
#include "sim/scenario.h"

namespace lockmesh::sim {

struct RunStats {
  uint64_t events = 0;
  uint64_t sent[core::kMessageKindCount] = {};
  uint64_t bytes_by_kind[core::kMessageKindCount] = {};
  uint64_t unroutable = 0;
  uint64_t bytes_sent = 0;
  uint64_t dropped_partition = 0;
  uint64_t lost = 0;
  uint64_t duplicated = 0;
  uint64_t dropped_down = 0;
  uint64_t decode_errors = 0;
  uint64_t acquires = 0;
  uint64_t grants = 0;
  // Grants before the first fault, while faults last, and after they stop: the
  // progress a run makes during faults, not only after.
  uint64_t grants_before_faults = 0;
  uint64_t grants_during_faults = 0;
  std::vector<uint64_t> grants_by_node;  // index: node (fairness between nodes)
  uint64_t failures = 0;
  uint64_t releases = 0;
  uint64_t expiries = 0;
  uint64_t renewals = 0;
  uint64_t renewals_failed = 0;
  uint64_t attempts = 0;
  uint64_t writes = 0;
  uint64_t stale_refused = 0;
  uint64_t faults = 0;
  int64_t virtual_us = 0;
  uint64_t MessagesSent() const;
};

struct RunResult {
  std::vector<Violation> violations;
  uint64_t trace_hash = 0;
  RunStats stats;
  // Which promises applied (sim/checker.h): S1 and S2 need every clock rate within rho,
  // S2 also every wall clock within D_Q / 4 of true time.
  bool rates_in_bound = true;
  bool walls_in_bound = true;
  int64_t wall_offset_us_max = 0;  // the furthest any wall clock got from true time
  uint64_t tokens_out_of_order = 0;
  int64_t worst_wait_after_quiet_us = 0;
  int64_t worst_progress_gap_us = 0;  // L2's measure (sim/checker.h)
  bool progress_judged = true;
  int64_t worst_gap_during_faults_us = 0;  // anyone waiting, no holder, before quiet
  std::vector<int64_t> handoff_gaps_us;    // sim/checker.h
  uint64_t fairness_grants_judged = 0;     // F1 (sim/fairness.h)
  uint64_t fairness_grants_contested = 0;  // of those, behind an earlier ticket everywhere
  absl::btree_map<std::string, FencedStore::Register> store;
};

template <typename T>
class Slots;
class TimelineRecorder;
class Fairness;

class Simulation {
 public:
  // `narrate`: where to write the readable account (nullptr: silent).
  Simulation(Scenario scenario, uint64_t seed, std::ostream* narrate);
  // Also narrate every datagram delivered (very verbose).
  void TraceMessages(bool on) { trace_messages_ = on; }
  // Feed `timeline` (sim/timeline.h) as the run goes; nullptr (the default):
  // record nothing. Observing only: the trace is the same either way.
  void RecordTimeline(TimelineRecorder* timeline) { timeline_ = timeline; }
  ~Simulation();
  Simulation(const Simulation&) = delete;
  Simulation& operator=(const Simulation&) = delete;

  RunResult Run();

  // Called for every membership event on every node (measurements).
  using MemberObserver =
      std::function<void(int64_t now_us, int observer, const core::MemberEvent& event)>;
  void ObserveMembers(MemberObserver observer) { member_observer_ = std::move(observer); }
  // The gossip view of `node` (nullptr when gossip is off or the node is down).
  const core::Gossip* GossipOf(int node) const;

 private:
  struct Node;
  struct Client;
  struct Event;
  struct Datagram;
  struct PendingWrite;
  enum class EventKind : uint8_t;

  // simulation.cc: the event loop, nodes, network and faults.
  void Push(Event event);
  void Process(Event& event);
  void Deliver(Event& event);
  // Runs every timer due on the node: its lease core, then its gossip.
  void TickNode(Node& node);
  bool HeldBackBySlowness(const Node& node, Event& event);
  void SendDatagram(const Node& from, int to, const core::Envelope& envelope);
  void AfterCore(Node& node, core::Effects& fx);
  void StartNode(Node& node, core::StartMode mode);
  void Reschedule(Node& node);
  void ApplyAction(const Action& action);
  void Quiet();
  void Crash(int index);
  void Restart(int index);
  void Pause(int index, int64_t length_us);
  int Resolve(const Target& target) const;
  bool Deferred(Node& node, Event& event);
  // Up, not paused, not starved of CPU.
  bool Healthy(const Node& node) const;
  // Whether L2 applies to a request of node `index` now (sim/checker.h).
  bool CanProgress(int index) const;
  // Hands what a paused or crashed node held back to the event loop, in order.
  void ReleaseHeld(Node& node);
  // Records how far the node's wall clock is from true time (call around every
  // change of its rate or offset: between changes the distance is linear).
  void NoteWallOffset(const Node& node);
  template <typename... Args>
  void Say(const Args&... args);
  void Hash(uint64_t value);
  void HashBytes(absl::string_view bytes);

  // membership.cc: gossip on every node.
  void StartGossip(Node& node);
  void AfterGossip(Node& node, core::GossipEffects& fx);
  void DeliverGossip(Node& node, const core::Envelope& envelope);

  // workload.cc: the clients and the fenced store.
  void StartClients(Node& node);
  void ClientStep(Client& client);
  void ClientWrite(Event& event);
  void OnLeaseEvent(Node& node, const core::LeaseEvent& event);
  void ScheduleClient(Client& client, int64_t delay_us);

  Scenario scenario_;
  uint64_t seed_;
  std::ostream* narrate_;
  core::Rng rng_;
  int64_t now_ = 0;
  uint64_t seq_ = 0;
  uint64_t hash_;
  std::vector<Event> queue_;
  std::unique_ptr<Slots<Datagram>> datagrams_;
  std::unique_ptr<Slots<PendingWrite>> writes_;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::vector<std::unique_ptr<Client>> clients_;
  absl::btree_map<core::NodeId, int> index_of_;
  absl::btree_map<std::string, int> index_of_address_;
  MemberObserver member_observer_;
  Network network_;
  NetParams net_;
  FencedStore store_;
  std::unique_ptr<Checker> checker_;
  std::unique_ptr<Fairness> fairness_;
  RunStats stats_;
  bool quiet_ = false;
  bool trace_messages_ = false;
  TimelineRecorder* timeline_ = nullptr;
  int64_t wall_offset_us_max_ = 0;
};

std::string FormatTime(int64_t us);

}  // namespace lockmesh::sim
