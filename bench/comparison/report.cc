#include "bench/comparison/report.h"

#include <cstdio>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace lockmesh::bench::comparison {
namespace {

constexpr const char* kLockmesh = "lockmesh";

bool IsCycle(Workload w) { return w != Workload::kManyHeld && w != Workload::kHolderKilled; }

const char* RateUnit(Workload w) {
  return w == Workload::kContention || w == Workload::kAcross ? "handoffs/s" : "cycles/s";
}

// "a/b" as "0.42x", or "-" when either is missing.
std::string Ratio(double a, double b) {
  if (a <= 0 || b <= 0) return "-";
  return absl::StrFormat("%.2fx", a / b);
}

void PrintLoads(const Results& r, Workload w) {
  auto it = r.round_load1.find(w);
  if (it == r.round_load1.end()) return;
  std::vector<std::string> loads;
  for (double l : it->second) loads.push_back(absl::StrFormat("%.2f", l));
  std::printf("load average (1 min) at the start of each round: %s\n",
              absl::StrJoin(loads, ", ").c_str());
}

void PrintCycleTable(const Results& r, Workload w, const std::map<std::string, Merged>& m) {
  std::printf("%-10s %8s %9s %9s %9s %12s %6s %10s %10s %13s %10s\n", "system", "count", "p50 us",
              "p99 us", "p999 us", RateUnit(w), "fail", "lm p50/x", "lm rate/x", "cpu us/cycle",
              "csw/cycle");
  const Merged* lm = m.count(kLockmesh) ? &m.at(kLockmesh) : nullptr;
  for (const std::string& s : r.systems) {
    const Merged& x = m.at(s);
    if (x.rounds_ok == 0) {
      std::printf("%-10s not run: %s\n", s.c_str(), x.error.c_str());
      continue;
    }
    std::printf("%-10s %8zu %9.1f %9.1f %9.1f %12.0f %6llu %10s %10s %13.1f %10.1f\n", s.c_str(),
                x.latency.count, x.latency.p50, x.latency.p99, x.latency.p999, x.rate,
                static_cast<unsigned long long>(x.failures),
                lm && lm->rounds_ok ? Ratio(lm->latency.p50, x.latency.p50).c_str() : "-",
                lm && lm->rounds_ok ? Ratio(lm->rate, x.rate).c_str() : "-", x.cpu_us_per_cycle,
                x.switches_per_cycle);
    if (!x.first_error.empty()) std::printf("           first error: %s\n", x.first_error.c_str());
    if (!x.cpu_vanished.empty() || x.cpu_threads_exited > 0) {
      std::printf(
          "           cpu undercounted: pids gone in the window (counted as 0): [%s]; "
          "threads exited in it: %d\n",
          absl::StrJoin(x.cpu_vanished, ",").c_str(), x.cpu_threads_exited);
    }
  }
  std::printf(
      "cpu us/cycle, csw/cycle: CPU time and context switches of every process (the "
      "servers and the client processes, all threads; /proc/<pid>/task/*/schedstat and "
      "status) over the measured window, per counted %s\n",
      w == Workload::kContention || w == Workload::kAcross ? "handoff" : "cycle");
  if (w == Workload::kAcross) {
    std::printf("fairness: grants per caller (15) and per process (3): min / max / Jain's index\n");
    for (const std::string& s : r.systems) {
      const Merged& x = m.at(s);
      if (x.rounds_ok == 0) continue;
      std::printf("%-10s callers %6.0f / %6.0f / %.3f   processes %7.0f / %7.0f / %.3f\n",
                  s.c_str(), x.callers.min, x.callers.max, x.jain_callers, x.processes.min,
                  x.processes.max, x.jain_processes);
    }
  }
}

void PrintManyTable(const Results& r, const std::map<std::string, Merged>& m) {
  std::printf("%-10s %9s %9s %16s %16s  %s\n", "system", "target", "held", "B/lease (mean)",
              "B/lease (max)", "note");
  for (const std::string& s : r.systems) {
    const Merged& x = m.at(s);
    if (x.rounds_ok == 0) {
      std::printf("%-10s not run: %s\n", s.c_str(), x.error.c_str());
      continue;
    }
    std::string note = x.held < x.target
                           ? absl::StrCat("reached ", x.held, " of ", x.target, ": ", x.held_stop)
                           : "";
    std::printf("%-10s %9llu %9llu %16.0f %16.0f  %s\n", s.c_str(),
                static_cast<unsigned long long>(x.target), static_cast<unsigned long long>(x.held),
                x.bytes_per_lease_mean, x.bytes_per_lease_max, note.c_str());
  }
  std::printf(
      "(RSS delta of each server process / leases held; mean and max over a system's\n"
      " server processes: lockmesh's 3 voters, Redlock's 3 redis-servers, ...)\n");
}

void PrintKilledTable(const Results& r, const std::map<std::string, Merged>& m) {
  std::printf(
      "%-10s SIGKILL -> next grant, ms, per round (TTL / session timeout %d ms "
      "everywhere)\n",
      "system", r.ttl_ms);
  for (const std::string& s : r.systems) {
    const Merged& x = m.at(s);
    if (x.rounds_ok == 0) {
      std::printf("%-10s not run: %s\n", s.c_str(), x.error.c_str());
      continue;
    }
    std::vector<std::string> v;
    for (double t : x.takeover_ms) v.push_back(absl::StrFormat("%.0f", t));
    double held = 0;
    for (const Run& run : r.runs.at(Workload::kHolderKilled).at(s)) held = run.held_before_kill_ms;
    std::printf("%-10s %s   (holder killed ~%.0f ms after its grant)\n", s.c_str(),
                absl::StrJoin(v, ", ").c_str(), held);
  }
}

std::map<std::string, Merged> MergeAll(const Results& r, Workload w) {
  std::map<std::string, Merged> m;
  auto it = r.runs.find(w);
  for (const std::string& s : r.systems) {
    if (it != r.runs.end() && it->second.count(s))
      m[s] = Merge(it->second.at(s));
    else
      m[s].error = "not run";
  }
  return m;
}

void PrintGoals(const Results& r);

}  // namespace

void PrintReport(const Results& r) {
  std::printf("\n==== bench_compare: lockmesh and the lock services people run today ====\n");
  std::printf(
      "%s; %d round(s), %d s measured per system per round; lock TTL %d ms; "
      "systems interleaved within each round in the order %s\n",
      r.quick ? "--quick smoke run" : "full run", r.rounds, r.seconds, r.ttl_ms,
      absl::StrJoin(r.systems, ", ").c_str());
  for (const auto& [s, why] : r.skipped) std::printf("skipped %s: %s\n", s.c_str(), why.c_str());
  std::printf(
      "lm p50/x: lockmesh's p50 over this system's (below 1: lockmesh is faster); "
      "lm rate/x: lockmesh's rate over this system's (above 1: lockmesh does more)\n");
  const Distribution udp = Distribution::Of(r.udp_samples);
  std::printf(
      "floor: plain UDP round trip on 127.0.0.1, 100 B: p50 %.1f us, p99 %.1f us, "
      "p999 %.1f us (%zu samples)\n",
      udp.p50, udp.p99, udp.p999, udp.count);
  for (Workload w : kWorkloads) {
    if (!r.runs.count(w)) continue;
    std::printf("\n-- %s\n", WorkloadTitle(w));
    PrintLoads(r, w);
    const std::map<std::string, Merged> m = MergeAll(r, w);
    if (IsCycle(w)) PrintCycleTable(r, w, m);
    if (w == Workload::kManyHeld) PrintManyTable(r, m);
    if (w == Workload::kHolderKilled) PrintKilledTable(r, m);
  }
  PrintGoals(r);
}

namespace {

// The goals of issues 9 and 12, each with the figure that decides it, as they stand in this run.
void Goal(const std::string& what, bool known, bool met, const std::string& figures) {
  std::printf("  [%s] %s: %s\n",
              !known ? " n/a  "
              : met  ? " met  "
                     : "MISSED",
              what.c_str(), figures.c_str());
}

void PrintGoals(const Results& r) {
  std::printf("\n-- goals of issues 9 and 12 in this run\n");
  std::map<std::pair<int, std::string>, Merged> cache;  // node-based: pointers stay valid
  auto merged = [&](Workload w, const std::string& s) -> const Merged* {
    auto key = std::make_pair(static_cast<int>(w), s);
    if (!r.runs.count(w) || !r.runs.at(w).count(s)) return nullptr;
    cache[key] = Merge(r.runs.at(w).at(s));
    return cache[key].rounds_ok ? &cache[key] : nullptr;
  };
  const Merged* lu = merged(Workload::kUncontended, kLockmesh);
  const Merged* ru = merged(Workload::kUncontended, "redis");
  const Merged* qu = merged(Workload::kUncontended, "redlock");
  const double udp = Distribution::Of(r.udp_samples).p50;
  auto f = [](double v) { return absl::StrFormat("%.1f", v); };
  Goal("uncontended p50 <= Redis's", lu && ru, lu && ru && lu->latency.p50 <= ru->latency.p50,
       lu && ru ? f(lu->latency.p50) + " us vs " + f(ru->latency.p50) + " us" : "");
  Goal("uncontended p50 <= half of Redlock's", lu && qu,
       lu && qu && lu->latency.p50 <= qu->latency.p50 / 2,
       lu && qu ? f(lu->latency.p50) + " us vs " + f(qu->latency.p50) + " us / 2" : "");
  Goal("uncontended p50 <= 2.5x UDP round trip", lu != nullptr, lu && lu->latency.p50 <= 2.5 * udp,
       lu ? f(lu->latency.p50) + " us vs 2.5 x " + f(udp) + " us" : "");
  Goal("issue 12: CPU per cycle <= 2x Redis's (all processes, uncontended)",
       lu && ru && ru->cpu_us_per_cycle > 0,
       lu && ru && lu->cpu_us_per_cycle <= 2 * ru->cpu_us_per_cycle,
       lu && ru ? f(lu->cpu_us_per_cycle) + " us vs 2 x " + f(ru->cpu_us_per_cycle) + " us" : "");
  const Merged* lt = merged(Workload::kThroughput, kLockmesh);
  const Merged* rt = merged(Workload::kThroughput, "redis");
  const Merged* qt = merged(Workload::kThroughput, "redlock");
  Goal("throughput >= 2x Redlock's", lt && qt, lt && qt && lt->rate >= 2 * qt->rate,
       lt && qt ? f(lt->rate) + " vs 2 x " + f(qt->rate) + " cycles/s" : "");
  Goal("throughput >= Redis's", lt && rt, lt && rt && lt->rate >= rt->rate,
       lt && rt ? f(lt->rate) + " vs " + f(rt->rate) + " cycles/s" : "");
  const Merged* la = merged(Workload::kAcross, kLockmesh);
  const Merged* ra = merged(Workload::kAcross, "redis");
  Goal("across processes: handoffs/s > Redis's", la && ra, la && ra && la->rate > ra->rate,
       la && ra ? f(la->rate) + " vs " + f(ra->rate) : "");
  Goal("across processes: wait p99 >= 5x lower than Redis's", la && ra,
       la && ra && la->latency.p99 * 5 <= ra->latency.p99,
       la && ra ? f(la->latency.p99) + " us vs " + f(ra->latency.p99) + " us" : "");
  Goal("across processes: Jain's index >= 0.95 across callers", la != nullptr,
       la && la->jain_callers >= 0.95, la ? absl::StrFormat("%.3f", la->jain_callers) : "");
  for (const char* other : {"etcd", "zookeeper"}) {
    bool known = lu != nullptr, met = known;
    std::vector<std::string> fig;
    for (Workload w : {Workload::kUncontended, Workload::kThroughput, Workload::kContention,
                       Workload::kAcross}) {
      const Merged* l = merged(w, kLockmesh);
      const Merged* o = merged(w, other);
      if (!l || !o) {
        known = false;
        continue;
      }
      met = met && l->rate >= 20 * o->rate && l->latency.p50 * 20 <= o->latency.p50;
      fig.push_back(absl::StrFormat("%s %.1fx rate, %.1fx p50", WorkloadName(w),
                                    o->rate > 0 ? l->rate / o->rate : 0,
                                    l->latency.p50 > 0 ? o->latency.p50 / l->latency.p50 : 0));
    }
    Goal(absl::StrCat(">= 20x ", other, " in throughput and latency"), known, met,
         known ? absl::StrJoin(fig, "; ") : absl::StrCat(other, " did not run"));
  }
  const Merged* lm = merged(Workload::kManyHeld, kLockmesh);
  Goal("memory per held lease on a voter <= 200 B", lm != nullptr,
       lm && lm->bytes_per_lease_max <= 200,
       lm ? absl::StrFormat("%.0f B (max over voters), %llu leases held", lm->bytes_per_lease_max,
                            static_cast<unsigned long long>(lm->held))
          : "");
}

}  // namespace

}  // namespace lockmesh::bench::comparison
