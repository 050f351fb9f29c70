// bench_compare_external_check: checks the etcd and ZooKeeper recipes against their real
// servers, started here. For each system:
//   1. mutual exclusion: --threads callers, each with its own Locker, contend on one resource
//      and increment a plain shared counter (read, yield, write) --iterations times each
//      under the lock; the counter must end exactly threads*iterations, and an atomic
//      "inside" flag must never find another holder inside;
//   2. a waiter gives up with DeadlineExceeded while another holds, and gets the lock once
//      it is released;
//   3. Hold keeps a lock that a second Locker can neither Hold nor Acquire;
//   4. holder killed: a child process (this program, --hold_for_kill) takes a lock and is
//      SIGKILLed; a waiter here must get the lock after the dead holder's lease / session
//      runs out: not before half the TTL (nobody steals a live lease), not after TTL + 3 s;
//   5. after Stop, every server PID is gone.
// Acquire rate and latency are printed for information, never checked.
//
// Exit status: 0 if every system that could start passed, 1 if any check failed, 77 (ctest
// SKIP_RETURN_CODE) if no system could start because its package is missing.
//
//   bench_compare_external_check --systems=etcd,zookeeper --threads=8 --iterations=100
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "bench/child_process.h"
#include "bench/comparison/etcd_system.h"
#include "bench/comparison/zookeeper_system.h"

ABSL_FLAG(std::string, systems, "etcd,zookeeper", "systems to check, comma-separated");
ABSL_FLAG(int, threads, 8, "callers contending on one resource");
ABSL_FLAG(int, iterations, 50, "lock cycles per caller");
ABSL_FLAG(int, ttl_ms, 4000, "LockOptions.ttl: etcd session lease, ZooKeeper session timeout");
ABSL_FLAG(std::string, hold_for_kill, "",
          "internal (the holder-killed check's child): system whose lock to take, print HELD, "
          "then wait to be killed");
ABSL_FLAG(std::string, endpoints, "", "internal: the servers for --hold_for_kill");

namespace lockmesh::bench::comparison {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Far above any wait in a healthy run: a caller still waiting then has failed.
constexpr std::chrono::milliseconds kAcquireBound = 60s;

struct Failures {
  int count = 0;
  void Check(bool ok, const std::string& what) {
    std::printf("  %s %s\n", ok ? "ok  " : "FAIL", what.c_str());
    if (!ok) ++count;
  }
};

double Percentile(std::vector<double> sorted, double q) {
  if (sorted.empty()) return 0;
  std::sort(sorted.begin(), sorted.end());
  return sorted[static_cast<std::size_t>(q * static_cast<double>(sorted.size() - 1))];
}

void CheckMutualExclusion(Clients& clients, Failures& failures) {
  const int threads = absl::GetFlag(FLAGS_threads);
  const int iterations = absl::GetFlag(FLAGS_iterations);
  std::vector<std::unique_ptr<Locker>> lockers;
  for (int i = 0; i < threads; ++i) {
    absl::StatusOr<std::unique_ptr<Locker>> locker = clients.NewLocker();
    if (!locker.ok()) {
      failures.Check(false, absl::StrCat("NewLocker: ", locker.status().ToString()));
      return;
    }
    lockers.push_back(*std::move(locker));
  }
  long counter = 0;  // plain on purpose: only the lock keeps the increments apart
  std::atomic<bool> inside{false};
  std::atomic<int> overlaps{0};
  std::atomic<int> errors{0};
  std::vector<std::vector<double>> latencies_us(threads);
  std::vector<std::string> first_error(threads);
  const Clock::time_point start = Clock::now();
  std::vector<std::thread> callers;
  for (int t = 0; t < threads; ++t) {
    callers.emplace_back([&, t] {
      for (int i = 0; i < iterations; ++i) {
        const Clock::time_point asked = Clock::now();
        absl::Status s = lockers[t]->Acquire("check/counter", kAcquireBound);
        if (!s.ok()) {
          if (errors.fetch_add(1) == 0) first_error[t] = s.ToString();
          continue;
        }
        latencies_us[t].push_back(
            std::chrono::duration<double, std::micro>(Clock::now() - asked).count());
        if (inside.exchange(true)) overlaps.fetch_add(1);
        const long seen = counter;
        std::this_thread::yield();
        counter = seen + 1;
        inside.store(false);
        if (absl::Status r = lockers[t]->Release(); !r.ok()) {
          if (errors.fetch_add(1) == 0) first_error[t] = r.ToString();
        }
      }
    });
  }
  for (std::thread& c : callers) c.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> all;
  for (const auto& l : latencies_us) all.insert(all.end(), l.begin(), l.end());
  std::string error_text;
  for (const std::string& e : first_error) error_text += e;
  failures.Check(errors.load() == 0,
                 absl::StrCat("no Acquire/Release errors (", errors.load(), ") ", error_text));
  failures.Check(counter == static_cast<long>(threads) * iterations,
                 absl::StrCat("counter ", counter, " == ", threads, "*", iterations));
  failures.Check(overlaps.load() == 0,
                 absl::StrCat("no overlapping holders (", overlaps.load(), ")"));
  std::printf(
      "  info: %d callers x %d cycles on one resource: %.0f acquires/s, acquire "
      "latency p50 %.2f ms, p99 %.2f ms\n",
      threads, iterations, static_cast<double>(all.size()) / seconds, Percentile(all, 0.50) / 1000,
      Percentile(all, 0.99) / 1000);
}

// For information: one caller, acquire + release on one resource, nobody else.
void ReportUncontended(Clients& clients, Failures& failures) {
  absl::StatusOr<std::unique_ptr<Locker>> locker = clients.NewLocker();
  if (!locker.ok()) {
    failures.Check(false, "NewLocker for the uncontended figures");
    return;
  }
  std::vector<double> acquire_us;
  std::vector<double> cycle_us;
  for (int i = 0; i < absl::GetFlag(FLAGS_iterations); ++i) {
    const Clock::time_point t0 = Clock::now();
    if (!(*locker)->Acquire("check/alone", kAcquireBound).ok()) continue;
    const Clock::time_point t1 = Clock::now();
    (void)(*locker)->Release();
    acquire_us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
    cycle_us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  std::printf(
      "  info: 1 caller alone: acquire p50 %.2f ms p99 %.2f ms, acquire+release p50 "
      "%.2f ms\n",
      Percentile(acquire_us, 0.50) / 1000, Percentile(acquire_us, 0.99) / 1000,
      Percentile(cycle_us, 0.50) / 1000);
}

void CheckDeadlineAndHold(Clients& clients, Failures& failures) {
  absl::StatusOr<std::unique_ptr<Locker>> a = clients.NewLocker();
  absl::StatusOr<std::unique_ptr<Locker>> b = clients.NewLocker();
  if (!a.ok() || !b.ok()) {
    failures.Check(false, "NewLocker for the deadline check");
    return;
  }
  failures.Check((*a)->Acquire("check/deadline", kAcquireBound).ok(), "A acquires");
  const Clock::time_point asked = Clock::now();
  absl::Status waited = (*b)->Acquire("check/deadline", 300ms);
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - asked);
  failures.Check(absl::IsDeadlineExceeded(waited),
                 absl::StrCat("B gives up while A holds: ", waited.ToString(), " after ",
                              took.count(), " ms"));
  failures.Check((*a)->Release().ok(), "A releases");
  failures.Check((*b)->Acquire("check/deadline", kAcquireBound).ok(),
                 "B acquires after A released (B's abandoned wait left nothing behind)");
  failures.Check((*b)->Release().ok(), "B releases");

  failures.Check((*a)->Hold("check/held/1", 10s).ok(), "A holds check/held/1");
  failures.Check((*a)->Hold("check/held/2", 10s).ok(), "A holds check/held/2 beside it");
  failures.Check(!(*b)->Hold("check/held/1", 10s).ok(), "B cannot hold check/held/1");
  failures.Check(absl::IsDeadlineExceeded((*b)->Acquire("check/held/2", 200ms)),
                 "B cannot acquire check/held/2");
}

constexpr char kKilledResource[] = "check/killed";
// How much later than the TTL the waiter may get a dead holder's lock: the servers check
// expiry on a tick (etcd every 500 ms, ZooKeeper every tickTime) and the handoff itself.
constexpr std::chrono::seconds kExpirySlack{3};

absl::StatusOr<std::unique_ptr<Clients>> MakeClients(const std::string& name,
                                                     const std::string& endpoints) {
  LockOptions options;
  options.ttl = std::chrono::milliseconds(absl::GetFlag(FLAGS_ttl_ms));
  return name == "etcd" ? MakeEtcdClients(endpoints, options)
                        : MakeZooKeeperClients(endpoints, options);
}

// The child of CheckHolderKilled: takes the lock, says so, and waits to be killed.
int HoldForKill(const std::string& name) {
  absl::StatusOr<std::unique_ptr<Clients>> clients =
      MakeClients(name, absl::GetFlag(FLAGS_endpoints));
  absl::StatusOr<std::unique_ptr<Locker>> locker =
      clients.ok() ? (*clients)->NewLocker() : clients.status();
  absl::Status held =
      locker.ok() ? (*locker)->Acquire(kKilledResource, kAcquireBound) : locker.status();
  if (!held.ok()) {
    std::printf("ERROR %s\n", held.ToString().c_str());
    return 1;
  }
  std::printf("HELD\n");
  std::fflush(stdout);
  while (true) ::pause();  // until the SIGKILL; the keep-alive goes on meanwhile
}

void CheckHolderKilled(const std::string& name, const std::string& endpoints, Clients& clients,
                       Failures& failures) {
  absl::StatusOr<std::unique_ptr<Locker>> waiter = clients.NewLocker();
  if (!waiter.ok()) {
    failures.Check(false, "NewLocker for the holder-killed check");
    return;
  }
  // This program again, as a holder of kKilledResource; destroying the Child SIGKILLs it.
  std::unique_ptr<Child> holder =
      Child::Spawn({"/proc/self/exe", absl::StrCat("--hold_for_kill=", name),
                    absl::StrCat("--endpoints=", endpoints),
                    absl::StrCat("--ttl_ms=", absl::GetFlag(FLAGS_ttl_ms))});
  const bool held = holder != nullptr && holder->WaitLine("HELD", kAcquireBound).has_value();
  failures.Check(held, absl::StrCat("a child process holds ", kKilledResource, ": ",
                                    holder ? absl::StrJoin(holder->Lines(), " / ") : "no spawn"));
  holder.reset();
  if (!held) return;
  const Clock::time_point killed = Clock::now();
  const std::chrono::milliseconds ttl(absl::GetFlag(FLAGS_ttl_ms));
  absl::Status got = (*waiter)->Acquire(kKilledResource, ttl + kAcquireBound);
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - killed);
  failures.Check(got.ok() && took >= ttl / 2 && took <= ttl + kExpirySlack,
                 absl::StrCat("the holder SIGKILLed, a waiter gets the lock after ", took.count(),
                              " ms (TTL ", ttl.count(), " ms): ", got.ToString()));
  if (got.ok()) (void)(*waiter)->Release();
}

// Returns false if the system was skipped (its package is missing).
bool CheckSystem(const std::string& name, const std::string& workdir, Failures& failures) {
  std::unique_ptr<Servers> servers = name == "etcd" ? MakeEtcdServers() : MakeZooKeeperServers();
  std::printf("%s:\n", name.c_str());
  const Clock::time_point t0 = Clock::now();
  absl::Status started = servers->Start(workdir);
  if (absl::IsFailedPrecondition(started)) {
    std::printf("  SKIP %s\n", std::string(started.message()).c_str());
    return false;
  }
  failures.Check(started.ok(), absl::StrCat("servers start: ", started.ToString()));
  if (!started.ok()) return true;
  std::printf("  info: servers serve after %.1f s at %s\n",
              std::chrono::duration<double>(Clock::now() - t0).count(),
              servers->Endpoints().c_str());
  {
    absl::StatusOr<std::unique_ptr<Clients>> clients = MakeClients(name, servers->Endpoints());
    failures.Check(clients.ok(), absl::StrCat("clients: ", clients.status().ToString()));
    if (clients.ok()) {
      ReportUncontended(**clients, failures);
      CheckMutualExclusion(**clients, failures);
      CheckDeadlineAndHold(**clients, failures);
      CheckHolderKilled(name, servers->Endpoints(), **clients, failures);
    }
  }
  const std::vector<pid_t> pids = servers->Pids();
  const Clock::time_point stopping = Clock::now();
  servers->Stop();
  std::printf("  info: servers stopped in %.1f s\n",
              std::chrono::duration<double>(Clock::now() - stopping).count());
  bool gone = true;
  for (pid_t pid : pids) gone = gone && ::kill(pid, 0) != 0 && errno == ESRCH;
  failures.Check(gone, absl::StrCat("all ", pids.size(), " server PIDs gone after Stop"));
  return true;
}

}  // namespace
}  // namespace lockmesh::bench::comparison

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  using namespace lockmesh::bench::comparison;
  if (!absl::GetFlag(FLAGS_hold_for_kill).empty()) {
    return HoldForKill(absl::GetFlag(FLAGS_hold_for_kill));
  }
  std::string root = "/tmp/lockmesh-external-check-XXXXXX";
  if (::mkdtemp(root.data()) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  Failures failures;
  int checked = 0;
  const std::vector<std::string> systems =
      absl::StrSplit(absl::GetFlag(FLAGS_systems), ',', absl::SkipEmpty());
  for (const std::string& name : systems) {
    if (name != "etcd" && name != "zookeeper") {
      std::fprintf(stderr, "unknown system %s\n", name.c_str());
      return 2;
    }
    const std::string workdir = absl::StrCat(root, "/", name);
    std::filesystem::create_directories(workdir);
    if (CheckSystem(name, workdir, failures)) ++checked;
  }
  std::error_code ignored;
  if (failures.count == 0) std::filesystem::remove_all(root, ignored);  // else keep the logs
  if (failures.count > 0) {
    std::printf("FAILED: %d checks (server logs in %s)\n", failures.count, root.c_str());
    return 1;
  }
  if (checked == 0) {
    std::printf("SKIPPED: no system could start\n");
    return 77;
  }
  std::printf("PASSED\n");
  return 0;
}
