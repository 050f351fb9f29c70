#include "bench/comparison/workloads.h"

#include <signal.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <memory>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "bench/comparison/cpu_usage.h"
#include "bench/comparison/process.h"

namespace lockmesh::bench::comparison {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// Bounds on the client processes: setup (a node joining, sessions opening) and the slack
// past a workload's own length before it counts as hung.
constexpr auto kClientReadyBound = 60s;
constexpr auto kClientSlack = 60s;
// How long the waiters of "holder killed" get to queue at the service before the holder is
// killed: there is no event telling that a request reached the server.
constexpr auto kWaitersSettle = 300ms;
constexpr int kKilledWaiters = 2;
constexpr int kManyCallers = 16;
constexpr int kCheckProcesses = 3, kCheckCallers = 4;

// "key=value" from the words of a line.
std::string Field(const std::string& line, absl::string_view key) {
  for (absl::string_view word : absl::StrSplit(line, ' ')) {
    if (absl::ConsumePrefix(&word, key) && absl::ConsumePrefix(&word, "="))
      return std::string(word);
  }
  return "";
}
uint64_t Number(const std::string& line, absl::string_view key) {
  uint64_t v = 0;
  return absl::SimpleAtoi(Field(line, key), &v) ? v : 0;
}
std::string ErrorOf(const std::string& line) {
  const std::size_t at = line.find(" error=");
  return at == std::string::npos ? "" : line.substr(at + 7);
}

// The client processes of one run, killed (by PID) on every way out.
class ClientGroup {
 public:
  ClientGroup(const Target& t, const Params& p) : target_(t), params_(p) {}

  // Starts one client process; false (with error()) if it did not get ready.
  bool Add(const std::string& workload, int callers, const std::vector<std::string>& extra) {
    std::vector<std::string> args = {
        target_.self,
        "--client=" + target_.system,
        "--endpoints=" + target_.endpoints,
        "--workload=" + workload,
        absl::StrCat("--callers=", callers),
        absl::StrCat("--backoff_min_us=", params_.lock.backoff_min.count()),
        absl::StrCat("--backoff_max_us=", params_.lock.backoff_max.count())};
    bool ttl_given = false;
    for (const std::string& e : extra) ttl_given |= e.rfind("--ttl_ms=", 0) == 0;
    if (!ttl_given) args.push_back(absl::StrCat("--ttl_ms=", params_.lock.ttl.count()));
    args.insert(args.end(), extra.begin(), extra.end());
    absl::StatusOr<std::unique_ptr<Process>> p = Process::Start(args, {.stdin_pipe = true});
    if (!p.ok()) return Fail(p.status().ToString());
    procs_.push_back(*std::move(p));
    std::optional<std::string> ready = procs_.back()->WaitLine("", kClientReadyBound);
    while (ready && *ready != "READY" && ready->rfind("FAILED", 0) != 0) {
      ready = procs_.back()->WaitLine("", kClientReadyBound);
    }
    if (!ready || *ready != "READY") {
      return Fail(
          absl::StrCat("client did not get ready: ", absl::StrJoin(procs_.back()->Lines(), " | ")));
    }
    return true;
  }
  void Go(std::size_t i) { procs_[i]->Send("GO"); }
  void GoAll() {
    for (std::size_t i = 0; i < procs_.size(); ++i) Go(i);
  }
  // Waits for DONE from every process; false (with error()) if one did not finish.
  bool WaitDone(Clock::duration bound) {
    const Clock::time_point until = Clock::now() + bound;
    for (auto& p : procs_) {
      if (!p->WaitLine("DONE", until - Clock::now())) {
        return Fail(absl::StrCat("client did not finish: ", absl::StrJoin(p->Lines(), " | ")));
      }
    }
    return true;
  }
  // Closes every stdin (the clients exit) and reaps them.
  void Finish() {
    for (auto& p : procs_) p->CloseStdin();
    for (auto& p : procs_) {
      if (!p->WaitExit(kClientSlack)) p->Kill();
    }
  }
  Process& operator[](std::size_t i) { return *procs_[i]; }
  std::size_t size() const { return procs_.size(); }
  const std::string& error() const { return error_; }

 private:
  bool Fail(std::string why) {
    error_ = std::move(why);
    return false;
  }
  const Target& target_;
  const Params& params_;
  std::vector<std::unique_ptr<Process>> procs_;
  std::string error_;
};

// Grants, failures and samples from the CALLER and SAMPLES lines of one process.
void Collect(const Process& p, Run& r) {
  double process_grants = 0;
  for (const std::string& line : p.Lines()) {
    if (line.rfind("CALLER ", 0) == 0) {
      const uint64_t g = Number(line, "grants");
      r.grants += g;
      r.failures += Number(line, "failures");
      if (r.first_error.empty()) r.first_error = ErrorOf(line);
      r.per_caller.push_back(static_cast<double>(g));
      process_grants += static_cast<double>(g);
    } else if (line.rfind("SAMPLES ", 0) == 0) {
      std::vector<absl::string_view> words = absl::StrSplit(line, ' ', absl::SkipEmpty());
      for (std::size_t i = 2; i < words.size(); ++i) {
        double v = 0;
        if (absl::SimpleAtod(words[i], &v)) r.samples.push_back(v);
      }
    }
  }
  r.per_process.push_back(process_grants);
}

Run Cycles(const Target& t, const Params& p, int processes, int callers, const std::string& pattern,
           const std::string& prefix) {
  Run r;
  ClientGroup group(t, p);
  for (int i = 0; i < processes; ++i) {
    if (!group.Add("cycle", callers,
                   {"--pattern=" + pattern, absl::StrCat("--prefix=", prefix),
                    absl::StrCat("--run_ms=", p.run.count()),
                    absl::StrCat("--warmup_ms=", p.warmup.count())})) {
      r.error = group.error();
      group.Finish();
      return r;
    }
  }
  // CPU over the measured window, of the servers and of the client processes (the driver
  // only waits and is left out). The clients start their window `warmup` after GO; a pipe
  // write later, which is a few µs of a window of seconds.
  std::vector<pid_t> pids = t.server_pids;
  for (std::size_t i = 0; i < group.size(); ++i) pids.push_back(group[i].pid());
  const Clock::time_point go = Clock::now();
  group.GoAll();
  std::this_thread::sleep_until(go + p.warmup);
  const CpuSnapshot before = TakeCpuSnapshot(pids);
  std::this_thread::sleep_until(go + p.warmup + p.run);
  const CpuUsage used = CpuBetween(before, TakeCpuSnapshot(pids));
  r.cpu_ns = used.cpu_ns;
  r.context_switches = used.switches;
  r.cpu_vanished = used.vanished;
  r.cpu_threads_exited = used.threads_exited;
  if (!group.WaitDone(p.warmup + p.run + kClientSlack)) r.error = group.error();
  group.Finish();
  for (std::size_t i = 0; i < group.size(); ++i) Collect(group[i], r);
  r.seconds = std::chrono::duration<double>(p.run).count();
  return r;
}

Run ManyHeld(const Target& t, const Params& p) {
  Run r;
  r.target = static_cast<uint64_t>(p.many);
  const int per_caller = (p.many + kManyCallers - 1) / kManyCallers;
  ClientGroup group(t, p);
  for (int i = 0; i < kManyCallers; ++i) {
    if (!group.Add(
            "many", 1,
            {absl::StrCat("--count=", per_caller), absl::StrCat("--prefix=m", p.round, "/", i),
             absl::StrCat("--ttl_ms=", std::chrono::milliseconds(600000).count()),
             absl::StrCat("--run_ms=", p.many_bound.count()), "--warmup_ms=0"})) {
      r.error = group.error();
      group.Finish();
      return r;
    }
  }
  for (pid_t pid : t.server_pids) r.rss_before.push_back(ResidentBytes(pid));
  group.GoAll();
  if (!group.WaitDone(p.many_bound + kClientSlack)) r.error = group.error();
  for (pid_t pid : t.server_pids) r.rss_after.push_back(ResidentBytes(pid));
  for (std::size_t i = 0; i < group.size(); ++i) {
    for (const std::string& line : group[i].Lines()) {
      if (line.rfind("HELD ", 0) != 0) continue;
      r.held += Number(line, "count");
      if (r.held_stop.empty()) r.held_stop = ErrorOf(line);
    }
  }
  group.Finish();
  return r;
}

int64_t MonotonicNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

Run HolderKilled(const Target& t, const Params& p) {
  Run r;
  const std::string resource = absl::StrCat("k", p.round);
  const std::string wait = absl::StrCat("--wait_ms=", 3 * p.lock.ttl.count() + 30000);
  ClientGroup group(t, p);
  if (!group.Add("hold_one", 1, {"--prefix=" + resource, wait}) ||
      !group.Add("wait_one", kKilledWaiters, {"--prefix=" + resource, wait})) {
    r.error = group.error();
    group.Finish();
    return r;
  }
  group.Go(0);
  const std::optional<std::string> holding = group[0].WaitLine("HOLDING", kClientSlack);
  const Clock::time_point granted = Clock::now();
  if (!holding) {
    r.error = "the holder did not get the lock: " + absl::StrJoin(group[0].Lines(), " | ");
    group.Finish();
    return r;
  }
  group.Go(1);
  for (int i = 0; i < kKilledWaiters; ++i) group[1].WaitLine("WAITING", kClientSlack);
  std::this_thread::sleep_for(kWaitersSettle);
  r.held_before_kill_ms = std::chrono::duration<double, std::milli>(Clock::now() - granted).count();
  const int64_t killed_ns = MonotonicNs();
  group[0].Kill();
  const std::optional<std::string> next =
      group[1].WaitLine("GRANTED", 3 * p.lock.ttl + kClientSlack);
  if (!next) {
    r.error = "no waiter got the lock after the kill: " + absl::StrJoin(group[1].Lines(), " | ");
  } else {
    const int64_t at = static_cast<int64_t>(Number(*next, "mono_ns"));
    r.takeover_ms = static_cast<double>(at - killed_ns) / 1e6;
    r.samples.push_back(r.takeover_ms * 1000);
    if (!group[1].WaitLine("DONE", 3 * p.lock.ttl + kClientSlack)) r.error = "waiters hung";
  }
  group.Finish();
  return r;
}

}  // namespace

Run RunWorkload(Workload w, const Target& t, const Params& p) {
  const std::string round = absl::StrCat(p.round);
  switch (w) {
    case Workload::kUncontended:
      return Cycles(t, p, 1, 1, "each", "u" + round);
    case Workload::kThroughput:
      return Cycles(t, p, 1, p.callers, "each", "t" + round);
    case Workload::kContention:
      return Cycles(t, p, 1, p.callers, "one", "hot" + round);
    case Workload::kAcross:
      return Cycles(t, p, p.across_processes, p.across_callers, "one", "shared" + round);
    case Workload::kManyHeld:
      return ManyHeld(t, p);
    case Workload::kHolderKilled:
      return HolderKilled(t, p);
  }
  return Run{.error = "unknown workload"};
}

CheckResult RunCheck(const Target& t, const Params& p, int increments) {
  CheckResult c;
  const std::string file = absl::StrCat(p.workdir, "/check-", t.system, ".counter");
  ::unlink(file.c_str());
  ClientGroup group(t, p);
  for (int i = 0; i < kCheckProcesses; ++i) {
    if (!group.Add("check", kCheckCallers,
                   {absl::StrCat("--increments=", increments), "--counter_file=" + file,
                    "--prefix=check"})) {
      c.error = group.error();
      group.Finish();
      return c;
    }
  }
  group.GoAll();
  if (!group.WaitDone(10min)) c.error = group.error();
  group.Finish();
  for (std::size_t i = 0; i < group.size(); ++i) {
    for (const std::string& line : group[i].Lines()) {
      if (line.rfind("CHECKED ", 0) != 0) continue;
      c.expected += Number(line, "done");
      c.failures += Number(line, "failures");
      if (c.error.empty()) c.error = ErrorOf(line);
    }
  }
  if (std::FILE* f = std::fopen(file.c_str(), "r")) {
    if (std::fscanf(f, "%" SCNu64, &c.counter) != 1) c.counter = 0;
    std::fclose(f);
  }
  c.ok = c.expected > 0 && c.counter == c.expected;
  return c;
}

}  // namespace lockmesh::bench::comparison
