// bench_cluster: what leases cost on a real three-voter cluster over loopback, next to the
// floor the network sets. Raw figures only, no pass/fail: machines are shared and noisy, so
// compare the ratios within one run.
//
//   bench/cluster                 # 5 s timed phases
//   bench/cluster --quick         # 1 s phases, fewer iterations: a smoke run
//   bench/cluster --seconds=10 --callers=32 --json=/tmp/cluster.json
//
// Layout: voters n1 and n2 are lockmesh-example-counter processes in serve mode (no
// increments), n0 is a lockmesh::Node in this process; all three bootstrap with
// Timing::kLocal and one freshly generated key. The remote voters only vote. Measured, in
// order (bench/cluster_phases.h):
//   1. udp round trip: plain ping-pong of 100-byte datagrams between two sockets on
//      127.0.0.1 (echo on another thread), before the cluster starts: the floor;
//   2. uncontended: sequential Acquire + Release on distinct resources (Acquire timed);
//   3. throughput: `callers` threads in n0, each Acquire + Release on resources of its own;
//   4. contention: `callers` threads in n0 on one resource. n0 queues requests for one
//      resource locally, so this measures handoffs among callers of one node through the
//      voters, not a race between nodes;
//   5. contention across processes: two more lockmesh-example-counter processes n3 and n4
//      (non-voters, 5 callers each making fenced increments of "counter") and 6 callers in
//      n0 on "counter", until both children are done: waiters on three nodes race after
//      each release.
// n0's metrics (deltas per phase) say how many datagrams and protocol attempts it took.
#include <sodium.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "bench/child_process.h"
#include "bench/cluster_phases.h"
#include "bench/cluster_report.h"
#include "lockmesh/lockmesh.h"

ABSL_FLAG(int, seconds, 5, "length of each timed phase (throughput, contention)");
ABSL_FLAG(int, callers, 16, "concurrent caller threads in the throughput and contention phases");
ABSL_FLAG(int, iterations, 3000, "sequential acquires in the uncontended phase");
ABSL_FLAG(int, round_trips, 20000, "UDP round trips for the floor");
ABSL_FLAG(bool, quick, false, "a smoke run: 1 s phases, a tenth of the iterations");
ABSL_FLAG(std::string, json, "", "also write the figures as JSON to this path");
ABSL_FLAG(bool, uncontended_only, false,
          "run the UDP floor and the uncontended phase only and print their line (for counting "
          "a cycle's system calls and context switches under perf stat)");

namespace lockmesh::bench {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr auto kChildReadyBound = 60s;
constexpr auto kMembersAliveBound = 30s;
constexpr int kVoters = 3;
constexpr const char* kCluster = "cluster-bench";
// The cross-process phase: n0's callers, each child's callers, and each child caller's
// increments per second of --seconds (40 in a full run, 8 with --quick).
constexpr int kCrossN0Callers = 6;
constexpr int kCrossChildCallers = 5;
constexpr int kCrossIncrementsMax = 1000000;  // more than any phase gets through

// n0's log records (warnings and up).
class LogTally {
 public:
  LogHook Hook() {
    return [this](const LogRecord& r) {
      std::lock_guard lock(mu_);
      ++by_event_[std::string(r.event)];
    };
  }
  std::map<std::string, int> ByEvent() const {
    std::lock_guard lock(mu_);
    return by_event_;
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, int> by_event_;
};

int Fail(const std::string& why) {
  std::fprintf(stderr, "bench_cluster: %s\n", why.c_str());
  return 1;
}

void Announce(const std::string& what) {
  std::printf("%s...\n", what.c_str());
  std::fflush(stdout);
}

// Starts voters n1 and n2 as child processes; an error text if one did not become ready.
std::string StartChildVoters(Children& group, const std::vector<std::string>& addresses,
                             const std::string& voters, const std::string& key_path) {
  for (int i = 1; i < kVoters; ++i) {
    group.children.push_back(
        Child::Spawn({LOCKMESH_COUNTER_BIN, absl::StrCat("--name=n", i),
                      absl::StrCat("--bind=", addresses[i]), absl::StrCat("--voters=", voters),
                      absl::StrCat("--cluster=", kCluster), absl::StrCat("--key_file=", key_path),
                      "--timing=local", "--bootstrap", "--lease_max_ms=10000", "--log=warning"}));
    if (!group.children.back()) return absl::StrCat("cannot spawn ", LOCKMESH_COUNTER_BIN);
  }
  for (std::size_t i = 0; i < group.children.size(); ++i) {
    if (!group.children[i]->WaitLine("READY", kChildReadyBound)) {
      std::string out;
      for (const std::string& l : group.children[i]->Lines()) absl::StrAppend(&out, "\n  ", l);
      return absl::StrCat("n", i + 1, " did not print READY:", out);
    }
  }
  for (auto& c : group.children) group.drains.emplace_back([&c] { c->Drain(); });
  return "";
}

// Stops voters n1 and n2 and keeps their unexpected lines.
void StopChildVoters(Children& group, Report& report) {
  for (std::size_t i = 0; i < group.children.size(); ++i) {
    const int status = group.children[i]->Terminate(kChildExitBound);
    group.drains[i].join();
    for (const std::string& l : group.children[i]->Lines()) {
      // READY, "DONE 0 fenced=0" (serve mode makes no increments) and STOPPED are expected.
      if (l.rfind("READY", 0) != 0 && l.rfind("DONE 0 ", 0) != 0 && l.rfind("STOPPED", 0) != 0) {
        report.child_log.push_back(absl::StrCat("n", i + 1, ": ", l));
      }
    }
    if (status != 0) {
      report.child_log.push_back(absl::StrCat("n", i + 1, ": exit status ", status));
    }
  }
}

absl::StatusOr<std::unique_ptr<Node>> StartN0(const std::vector<std::string>& addresses,
                                              const std::string& key, LogTally& tally) {
  NodeOptions options;
  options.name = "n0";
  options.bind_address = addresses[0];
  for (int i = 0; i < kVoters; ++i) options.voters.push_back({absl::StrCat("n", i), addresses[i]});
  options.cluster_name = kCluster;
  options.keys = {key};
  options.timing = Timing::kLocal;
  options.bootstrap = true;
  options.lease_duration_max = 10s;
  options.log = tally.Hook();
  options.log_level = LogLevel::kWarning;
  absl::StatusOr<std::unique_ptr<Node>> node = Node::Start(options);
  if (!node.ok()) return node;
  const Clock::time_point joined_by = Clock::now() + kMembersAliveBound;
  while ((*node)->GetMetrics().members_alive < kVoters) {
    if (Clock::now() > joined_by) {
      return absl::DeadlineExceededError("the three voters did not see each other");
    }
    std::this_thread::sleep_for(5ms);  // a benchmark's setup: polling is fine
  }
  return node;
}

// The four phases on a running cluster; an error text if the last could not run.
std::string RunPhases(Node& n0, const CrossProcessSetup& cross, Report& report) {
  const auto length = std::chrono::seconds(report.seconds);
  Announce("uncontended acquires");
  report.phases.push_back(Uncontended(n0, report.iterations));
  Announce(
      absl::StrCat(report.callers, " callers on their own resources for ", report.seconds, " s"));
  report.phases.push_back(
      Concurrent(n0, "throughput", report.callers, length,
                 [](int c, uint64_t k) { return absl::StrCat("d/", c, "/", k); }));
  Announce(absl::StrCat(report.callers, " callers on one resource for ", report.seconds, " s"));
  report.phases.push_back(Concurrent(n0, "contention", report.callers, length,
                                     [](int, uint64_t) { return std::string("hot"); }));
  Announce(absl::StrCat(cross.n0_callers, " callers in n0 and ", cross.child_callers,
                        " in each of n3, n4 on one resource"));
  absl::StatusOr<Phase> across =
      ContentionAcrossProcesses(n0, cross, report.cross, report.child_log);
  if (!across.ok()) return across.status().ToString();
  report.phases.push_back(*std::move(across));
  return "";
}

int Run(Report& report) {
  if (sodium_init() < 0) return Fail("libsodium did not initialize");
  Announce("udp round trips");
  report.udp = UdpRoundTrips(report.round_trips);

  const std::vector<std::string> addresses = FreeAddresses(kVoters);
  std::string voters;
  for (int i = 0; i < kVoters; ++i) {
    absl::StrAppend(&voters, i ? "," : "", "n", i, "@", addresses[i]);
  }
  const char* tmp = std::getenv("TMPDIR");
  const std::string stem = absl::StrCat(tmp ? tmp : "/tmp", "/lockmesh-cluster-bench-", ::getpid());
  const std::string key_path = stem + ".key";
  const std::optional<std::string> key = WriteNewKeyFile(key_path);
  if (!key) return Fail(absl::StrCat("cannot write ", key_path));
  absl::Cleanup remove_key = [&key_path] { ::unlink(key_path.c_str()); };

  Children group;
  if (std::string error = StartChildVoters(group, addresses, voters, key_path); !error.empty()) {
    return Fail(error);
  }
  LogTally tally;
  absl::StatusOr<std::unique_ptr<Node>> node = StartN0(addresses, *key, tally);
  if (!node.ok()) return Fail(absl::StrCat("n0 did not start: ", node.status().ToString()));

  const CrossProcessSetup cross{
      .counter_bin = LOCKMESH_COUNTER_BIN,
      .voters = voters,
      .cluster = kCluster,
      .key_path = key_path,
      .seeds = {addresses[1], addresses[2]},
      .counter_path = stem + ".counter",
      .n0_callers = kCrossN0Callers,
      .child_callers = kCrossChildCallers,
      .child_increments = kCrossIncrementsMax,
      .seconds = report.seconds,
  };
  std::string error;
  if (absl::GetFlag(FLAGS_uncontended_only)) {
    Announce("uncontended acquires");
    report.phases.push_back(Uncontended(**node, report.iterations));
    const Phase& p = report.phases.back();
    std::printf(
        "udp round trip p50 %.1f us; uncontended acquire p50 %.1f us, p99 %.1f us "
        "(%.1fx the round trip); %" PRIu64 " cycles in %.2f s\n",
        report.udp.p50, p.acquire.p50, p.acquire.p99,
        report.udp.p50 > 0 ? p.acquire.p50 / report.udp.p50 : 0.0, p.cycles, p.seconds);
  } else {
    error = RunPhases(**node, cross, report);
  }
  (*node)->Stop();
  report.n0_events = tally.ByEvent();
  StopChildVoters(group, report);
  return error.empty() ? 0 : Fail(error);
}

}  // namespace
}  // namespace lockmesh::bench

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "lease latency and throughput on a 3-voter loopback cluster (bench/cluster)");
  absl::ParseCommandLine(argc, argv);
  lockmesh::bench::Report report;
  report.quick = absl::GetFlag(FLAGS_quick);
  report.seconds = report.quick ? 1 : std::max(1, absl::GetFlag(FLAGS_seconds));
  report.callers = std::max(1, absl::GetFlag(FLAGS_callers));
  const int scale = report.quick ? 10 : 1;
  report.iterations = std::max(100, absl::GetFlag(FLAGS_iterations) / scale);
  report.round_trips = std::max(1000, absl::GetFlag(FLAGS_round_trips) / scale);
  if (const int rc = lockmesh::bench::Run(report); rc != 0) return rc;
  if (absl::GetFlag(FLAGS_uncontended_only)) return 0;
  lockmesh::bench::PrintTable(report);
  if (const std::string path = absl::GetFlag(FLAGS_json); !path.empty()) {
    if (!lockmesh::bench::WriteJson(report, path)) {
      std::fprintf(stderr, "bench_cluster: cannot write %s\n", path.c_str());
      return 1;
    }
    std::printf("\nJSON: %s\n", path.c_str());
  }
  return 0;
}
