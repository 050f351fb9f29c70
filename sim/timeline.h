// File: sim/timeline.h
//
// The timeline of one simulation run as a self-contained HTML page: per node a
// lane over simulated time with the leases it held (and their tokens), the
// faults (partitions, crashes, pauses, clock changes), the fenced store's
// accepted and refused operations, and the checker's violations.
//
//   TimelineRecorder timeline(scenario.Nodes());
//   Simulation sim(scenario, seed, nullptr);
//   sim.RecordTimeline(&timeline);      // before Run(); off by default
//   RunResult result = sim.Run();
//   absl::Status s = WriteTimelinePage("out.html", scenario, seed, result, timeline);
//
// The recorder only observes: a run with a recorder draws the same random
// numbers and gives the same trace as a run without. Each kind of record is
// capped (sim/limits.h); what is left out is counted and the page says so.
// Single-threaded, like the Simulation that feeds it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "lib/core/lease/events.h"
#include "sim/network.h"
#include "sim/scenario.h"

namespace lockmesh::sim {

struct RunResult;

// The fenced store's answer to one operation of a client.
enum class StoreOutcome : uint8_t {
  kWritten,     // a write accepted
  kLostUpdate,  // a write accepted that was based on a replaced version (S3 broken)
  kRefused,     // a write refused: its token is below the highest seen
  kReadRefused  // a read refused: its token is below the highest seen
};

class TimelineRecorder {
 public:
  // A lease a client held, from its grant to its end.
  struct Lease {
    int node = 0;
    int client = 0;
    std::string resource;
    core::Ballot token = 0;
    int64_t start_us = 0;
    // True time at which the holder's own clock reached its deadline (as of the
    // last grant or renewal): past it the lease is no longer valid, told or not.
    int64_t valid_until_us = 0;
    int64_t end_us = -1;  // -1: still held when the run ended
    std::string end;      // "released", "lost" (expired), "crashed", "run ends"
    int renewals = 0;
    std::vector<int64_t> renew_failed_us;
  };
  // A client's wait for a grant.
  struct Wait {
    int node = 0;
    int client = 0;
    std::string resource;
    int64_t start_us = 0;
    int64_t end_us = -1;
    std::string end;  // "granted", "gave up: ...", "crashed", "run ends"
  };
  // A stretch of time a node spent down (crashed or not yet started) or paused.
  struct Span {
    int node = 0;
    int64_t start_us = 0;
    int64_t end_us = -1;
    std::string what;
  };
  struct Fault {
    int64_t at_us = 0;
    int node = -1;  // the node it hit, -1 for the whole cluster or network
    std::string text;
    std::string kind;  // "network", "link", "crash", "restart", "pause", "clock", "slow"
  };
  // Who could reach whom from `at_us` on: reach[from][to] is '1' or '0'.
  struct NetworkState {
    int64_t at_us = 0;
    std::string description;
    std::vector<std::string> reach;
  };
  struct StoreOp {
    int64_t at_us = 0;
    int node = 0;
    int client = 0;
    std::string resource;
    core::Ballot token = 0;
    core::Ballot highest = 0;  // the store's highest token after the operation
    StoreOutcome outcome = StoreOutcome::kWritten;
  };

  explicit TimelineRecorder(int nodes);

  // Simulation hooks, in true (simulated) time.
  void NodeDown(int64_t at_us, int node, absl::string_view why);
  void NodeUp(int64_t at_us, int node);
  void Paused(int64_t at_us, int node, int64_t until_us);
  void Resumed(int64_t at_us, int node);
  void FaultApplied(int64_t at_us, const Action& action, int target);
  void NetworkChanged(int64_t at_us, const Network& network);
  void Quiet(int64_t at_us) { quiet_us_ = at_us; }
  void Asked(int64_t at_us, int node, int client, uint64_t request, const std::string& resource);
  // `valid_until_us`: true time at which the node's clock reaches the event's
  // deadline (granted and renewed only).
  void LeaseEvent(int64_t at_us, int node, int client, const core::LeaseEvent& event,
                  int64_t valid_until_us);
  void StoreOperation(int64_t at_us, int node, int client, const std::string& resource,
                      core::Ballot token, core::Ballot highest, StoreOutcome outcome);
  // Closes whatever is still open at the end of the run.
  void Finish(int64_t end_us);

  const std::vector<Lease>& leases() const { return leases_; }
  const std::vector<Wait>& waits() const { return waits_; }
  const std::vector<Span>& down() const { return down_; }
  const std::vector<Span>& pauses() const { return pauses_; }
  const std::vector<Fault>& faults() const { return faults_; }
  const std::vector<NetworkState>& network() const { return network_; }
  const std::vector<StoreOp>& store() const { return store_; }
  int64_t quiet_us() const { return quiet_us_; }
  // What the caps left out, one readable line each (empty: nothing).
  std::vector<std::string> Truncated() const;

 private:
  // Keys an open lease or wait: (node, request).
  using Key = std::pair<int, uint64_t>;
  void CloseNode(int64_t at_us, int node, absl::string_view why);
  void CloseWait(int64_t at_us, const Key& key, std::string why);
  // Whether a kind of record with `kept` records so far may keep another.
  static bool Room(std::size_t kept, int64_t limit, uint64_t& dropped);

  int nodes_;
  std::vector<Lease> leases_;
  std::vector<Wait> waits_;
  std::vector<Span> down_;
  std::vector<Span> pauses_;
  std::vector<Fault> faults_;
  std::vector<NetworkState> network_;
  std::vector<StoreOp> store_;
  absl::btree_map<Key, std::size_t> open_leases_;  // -> index in leases_
  absl::btree_map<Key, std::size_t> open_waits_;   // -> index in waits_
  std::vector<int> open_down_;                     // per node: index in down_, or -1
  std::vector<int> open_pause_;                    // per node: index in pauses_, or -1
  uint64_t leases_dropped_ = 0, waits_dropped_ = 0, spans_dropped_ = 0;
  uint64_t faults_dropped_ = 0, network_dropped_ = 0, store_dropped_ = 0;
  std::size_t writes_kept_ = 0, refusals_kept_ = 0;
  int64_t quiet_us_ = -1;
};

// The run's timeline as JSON (the data the page embeds). Every string is
// escaped so that the text can sit inside an HTML <script> element: no '<',
// '>' or '&' appears unescaped, and invalid UTF-8 becomes U+FFFD.
std::string TimelineJson(const Scenario& scenario, uint64_t seed, const RunResult& result,
                         const TimelineRecorder& timeline);
// A JSON string literal (with its quotes) for `text`, escaped as above.
std::string JsonString(absl::string_view text);
// The whole page: markup, style, script and TimelineJson, with no reference to
// anything outside the file.
std::string TimelinePage(const Scenario& scenario, uint64_t seed, const RunResult& result,
                         const TimelineRecorder& timeline);
// Writes TimelinePage to `path`; an error names the path when it cannot.
absl::Status WriteTimelinePage(const std::string& path, const Scenario& scenario, uint64_t seed,
                               const RunResult& result, const TimelineRecorder& timeline);

}  // namespace lockmesh::sim
