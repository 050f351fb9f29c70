// bench_compare: lockmesh side by side with single-instance Redis, Redlock, etcd and
// ZooKeeper, every server started here on loopback and stopped here, the same workloads
// and parameters for all, the systems interleaved round by round (bench/compare runs it).
//
//   bench/compare                              # all systems, full run (about 10 minutes)
//   bench/compare --quick --systems=lockmesh   # a smoke run of a few seconds per system
//   bench/compare --json=out.json --svg=out.html
//   bench/compare --check                      # each recipe's correctness on its real server
//
// With --client=SYSTEM it is one of its own client processes (client.h).
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "bench/cluster_phases.h"
#include "bench/comparison/client.h"
#include "bench/comparison/process.h"
#include "bench/comparison/report.h"
#include "bench/comparison/workloads.h"

ABSL_FLAG(std::string, systems, "lockmesh,redis,redlock,etcd,zookeeper",
          "systems to compare, in round order");
ABSL_FLAG(std::string, workloads, "1,2,3,4,5,6", "workloads to run (numbers of issue 9)");
ABSL_FLAG(bool, quick, false, "smoke run: 1 round of 1 s, TTL 2 s, 10,000 leases held");
ABSL_FLAG(int, rounds, 3, "rounds of each workload (many-held runs once)");
ABSL_FLAG(int, seconds, 5, "measured seconds per system per round");
ABSL_FLAG(int, ttl_ms, 10000, "lock TTL / lease duration / session timeout, the same for all");
ABSL_FLAG(int, many, 100000, "leases held at once in workload 5");
ABSL_FLAG(std::string, json, "", "also write the figures as JSON to this file");
ABSL_FLAG(std::string, svg, "", "also write an HTML page with SVG latency charts to this file");
ABSL_FLAG(bool, check, false, "run each recipe's correctness check instead of the benchmark");
ABSL_FLAG(int, check_increments, 200, "increments per caller in --check (12 callers)");
// Client mode (the driver passes these to its client processes).
ABSL_FLAG(std::string, client, "", "internal: run as a client process of this system");
ABSL_FLAG(std::string, endpoints, "", "internal: the servers' endpoints");
ABSL_FLAG(std::string, workload, "cycle", "internal: cycle, hold_one, wait_one, many, check");
ABSL_FLAG(int, callers, 1, "internal: caller threads");
ABSL_FLAG(int, run_ms, 1000, "internal: measured time");
ABSL_FLAG(int, warmup_ms, 200, "internal: warm-up before it");
ABSL_FLAG(int, wait_ms, 30000, "internal: how long one acquire may wait");
ABSL_FLAG(std::string, pattern, "one", "internal: one resource, or each a new one");
ABSL_FLAG(std::string, prefix, "r", "internal: resource name or prefix");
ABSL_FLAG(int, count, 0, "internal: leases per caller (many)");
ABSL_FLAG(int, increments, 0, "internal: increments per caller (check)");
ABSL_FLAG(std::string, counter_file, "", "internal: the counter (check)");
ABSL_FLAG(int, backoff_min_us, 1000, "internal: retry backoff, shortest cap");
ABSL_FLAG(int, backoff_max_us, 50000, "internal: retry backoff, longest cap");

namespace lockmesh::bench::comparison {
namespace {

using std::chrono::milliseconds;

double LoadAverage() {
  std::ifstream in("/proc/loadavg");
  double l = 0;
  in >> l;
  return l;
}

void Say(const std::string& s) {
  std::printf("%s\n", s.c_str());
  std::fflush(stdout);
}

int ClientMain() {
  ClientSpec s;
  s.system = absl::GetFlag(FLAGS_client);
  s.endpoints = absl::GetFlag(FLAGS_endpoints);
  s.workload = absl::GetFlag(FLAGS_workload);
  s.lock.ttl = milliseconds(absl::GetFlag(FLAGS_ttl_ms));
  s.lock.backoff_min = std::chrono::microseconds(absl::GetFlag(FLAGS_backoff_min_us));
  s.lock.backoff_max = std::chrono::microseconds(absl::GetFlag(FLAGS_backoff_max_us));
  s.callers = std::max(1, absl::GetFlag(FLAGS_callers));
  s.run = milliseconds(absl::GetFlag(FLAGS_run_ms));
  s.warmup = milliseconds(absl::GetFlag(FLAGS_warmup_ms));
  s.wait = milliseconds(absl::GetFlag(FLAGS_wait_ms));
  s.pattern = absl::GetFlag(FLAGS_pattern);
  s.prefix = absl::GetFlag(FLAGS_prefix);
  s.count = absl::GetFlag(FLAGS_count);
  s.increments = absl::GetFlag(FLAGS_increments);
  s.counter_file = absl::GetFlag(FLAGS_counter_file);
  return RunClient(s);
}

// The servers of every selected system, started at once and stopped on every way out.
struct Fleet {
  std::vector<std::string> running;
  std::map<std::string, std::unique_ptr<Servers>> servers;
  ~Fleet() {
    for (auto& [name, s] : servers) s->Stop();
  }
};

void StartFleet(const std::vector<std::string>& systems, const std::string& workdir, Fleet& fleet,
                Results& results) {
  for (const std::string& s : systems) {
    std::unique_ptr<Servers> servers = MakeServers(s);
    if (!servers) {
      results.skipped[s] = "unknown system (lockmesh, redis, redlock, etcd, zookeeper)";
      continue;
    }
    const std::string dir = absl::StrCat(workdir, "/", s);
    std::filesystem::create_directories(dir);
    Say(absl::StrCat("starting ", s, "..."));
    if (absl::Status st = servers->Start(dir); !st.ok()) {
      results.skipped[s] = std::string(st.message());
      Say(absl::StrCat("skipped ", s, ": ", st.message()));
      servers->Stop();
      continue;
    }
    fleet.running.push_back(s);
    fleet.servers[s] = std::move(servers);
  }
}

Params MakeParams(bool quick, const std::string& workdir) {
  Params p;
  p.workdir = workdir;
  p.lock.ttl = milliseconds(quick ? 2000 : absl::GetFlag(FLAGS_ttl_ms));
  p.run =
      quick ? milliseconds(1000) : std::chrono::seconds(std::max(1, absl::GetFlag(FLAGS_seconds)));
  p.warmup = quick ? milliseconds(200) : milliseconds(500);
  p.many = quick ? 10000 : absl::GetFlag(FLAGS_many);
  p.many_bound = quick ? milliseconds(30000) : milliseconds(120000);
  return p;
}

Target TargetOf(const Fleet& fleet, const std::string& s, const std::string& self) {
  return {.system = s,
          .endpoints = fleet.servers.at(s)->Endpoints(),
          .server_pids = fleet.servers.at(s)->Pids(),
          .self = self};
}

int Check(const Fleet& fleet, const Params& params, const std::string& self,
          const Results& results) {
  int failed = 0;
  for (const auto& [s, why] : results.skipped) Say(absl::StrCat("SKIPPED ", s, ": ", why));
  for (const std::string& s : fleet.running) {
    const CheckResult c =
        RunCheck(TargetOf(fleet, s, self), params, absl::GetFlag(FLAGS_check_increments));
    Say(absl::StrCat(c.ok ? "PASS " : "FAIL ", s, ": counter ", c.counter, " after ", c.expected,
                     " increments under the lock by 3 processes x 4 callers (", c.failures,
                     " failed acquires)", c.error.empty() ? "" : "; " + c.error));
    failed += !c.ok;
  }
  return failed == 0 ? 0 : 1;
}

int DriverMain() {
  InstallStopHandler();
  const bool quick = absl::GetFlag(FLAGS_quick);
  char self[4096] = {};
  if (::readlink("/proc/self/exe", self, sizeof self - 1) <= 0) return 1;
  const char* tmp = std::getenv("TMPDIR");
  std::string workdir = absl::StrCat(tmp ? tmp : "/tmp", "/lockmesh-compare-XXXXXX");
  if (::mkdtemp(workdir.data()) == nullptr) {
    std::fprintf(stderr, "bench_compare: cannot create %s\n", workdir.c_str());
    return 1;
  }
  struct RemoveDir {
    std::string path;
    ~RemoveDir() { std::filesystem::remove_all(path); }
  } remove_workdir{workdir};

  Results results;
  results.quick = quick;
  results.rounds = quick ? 1 : std::max(1, absl::GetFlag(FLAGS_rounds));
  Params params = MakeParams(quick, workdir);
  results.seconds = static_cast<int>(params.run.count() / 1000);
  results.ttl_ms = static_cast<int>(params.lock.ttl.count());
  results.many = params.many;
  const std::vector<std::string> systems =
      absl::StrSplit(absl::GetFlag(FLAGS_systems), ',', absl::SkipEmpty());
  results.systems = systems;

  Fleet fleet;  // declared after the workdir guard: the servers stop before it is removed
  StartFleet(systems, workdir, fleet, results);
  if (absl::GetFlag(FLAGS_check)) return Check(fleet, params, self, results);

  Say("udp round trips (the floor)...");
  results.udp_samples = UdpRoundTripSamples(quick ? 2000 : 20000);
  std::vector<int> selected;
  for (absl::string_view n :
       absl::StrSplit(absl::GetFlag(FLAGS_workloads), ',', absl::SkipEmpty())) {
    selected.push_back(std::atoi(std::string(n).c_str()));
  }
  for (std::size_t i = 0; i < std::size(kWorkloads); ++i) {
    const Workload w = kWorkloads[i];
    if (std::find(selected.begin(), selected.end(), static_cast<int>(i) + 1) == selected.end()) {
      continue;
    }
    const int rounds = w == Workload::kManyHeld ? 1 : results.rounds;
    for (int round = 0; round < rounds; ++round) {
      params.round = round;
      const double load = LoadAverage();
      results.round_load1[w].push_back(load);
      for (const std::string& s : fleet.running) {
        Say(absl::StrCat(WorkloadName(w), ", round ", round + 1, "/", rounds, ": ", s, " (load ",
                         load, ")"));
        Run run = RunWorkload(w, TargetOf(fleet, s, self), params);
        run.load1 = load;
        if (!run.error.empty()) Say("  failed: " + run.error);
        results.runs[w][s].push_back(std::move(run));
      }
      for (const auto& [s, why] : results.skipped) {
        results.runs[w][s].push_back(Run{.error = "skipped: " + why});
      }
    }
  }
  PrintReport(results);
  // Figures are never judged here, but a run that failed (not a skipped system) is an error.
  int rc = 0;
  for (const auto& [w, by_system] : results.runs) {
    for (const std::string& s : fleet.running) {
      for (const Run& run : by_system.at(s)) rc = run.error.empty() ? rc : 3;
    }
  }
  if (rc != 0) Say("bench_compare: some runs failed (see \"failed:\" above)");
  if (const std::string path = absl::GetFlag(FLAGS_json); !path.empty()) {
    if (WriteJson(results, path))
      Say("JSON: " + path);
    else
      rc = 1;
  }
  if (const std::string path = absl::GetFlag(FLAGS_svg); !path.empty()) {
    if (WriteHtml(results, path))
      Say("HTML: " + path);
    else
      rc = 1;
  }
  return rc;
}

}  // namespace
}  // namespace lockmesh::bench::comparison

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "lockmesh against Redis, Redlock, etcd and ZooKeeper (bench/compare)");
  absl::ParseCommandLine(argc, argv);
  if (!absl::GetFlag(FLAGS_client).empty()) return lockmesh::bench::comparison::ClientMain();
  return lockmesh::bench::comparison::DriverMain();
}
