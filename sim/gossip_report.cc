#include "sim/gossip_report.h"

#include <algorithm>
#include <chrono>

#include "absl/container/btree_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "sim/simulation.h"

namespace lockmesh::sim {
namespace {

using Kind = core::MemberEvent::Kind;

// Time for a cluster that joined at t=0 to settle before faults start.
int64_t ConvergeUs(int members) { return 15'000'000 + members * 50'000; }

core::NodeId IdOf(int index) { return core::NodeIdFromName(absl::StrCat("n", index)); }

Action At(int64_t at_us, Action::Kind kind, int node, int64_t value = 0) {
  Action a;
  a.at_us = at_us;
  a.kind = kind;
  a.target = Target{node};
  a.value = value;
  return a;
}

int64_t Percentile(std::vector<int64_t> v, double p) {
  if (v.empty()) return -1;
  std::sort(v.begin(), v.end());
  const std::size_t i = std::min(v.size() - 1, static_cast<std::size_t>(p * (v.size() - 1) + 0.5));
  return v[i];
}

uint64_t GossipBytes(const RunStats& s) {
  uint64_t b = 0;
  for (int k = 0; k < core::kMessageKindCount; ++k) {
    if (k >= 6) b += s.bytes_by_kind[k];  // the membership kinds follow the six lease kinds
  }
  return b;
}

}  // namespace

Scenario GossipScenario(const GossipRun& run) {
  Scenario s;
  s.name = absl::StrCat("gossip-", run.members);
  s.voters = std::min(3, run.members);
  s.members = run.members - s.voters;
  s.clients_per_node = 0;
  s.gossip = true;
  s.gossip_preset = run.preset;
  s.lifeguard = run.lifeguard;
  s.net.loss = run.loss;
  s.timing = SimTiming(10'000'000);
  s.run_us = ConvergeUs(run.members) + 60'000'000;
  s.quiet_us = s.run_us;  // the measured faults last to the end
  return s;
}

DetectionResult MeasureDetection(const GossipRun& run, uint64_t seed) {
  Scenario s = GossipScenario(run);
  const int victim = run.members - 1;
  const int64_t crash_at = ConvergeUs(run.members);
  s.actions.push_back(At(crash_at, Action::Kind::kCrash, victim));
  s.run_us = crash_at + 90'000'000;
  s.quiet_us = s.run_us;
  Simulation sim(s, seed, nullptr);
  absl::btree_map<int, int64_t> seen;
  DetectionResult r;
  sim.ObserveMembers([&](int64_t now, int observer, const core::MemberEvent& e) {
    if (e.kind != Kind::kDead || now < crash_at) return;
    if (e.node == IdOf(victim)) {
      seen.try_emplace(observer, now - crash_at);
    } else {
      ++r.false_deaths;
    }
  });
  sim.Run();
  r.detected = static_cast<int>(seen.size()) == run.members - 1;
  for (const auto& [observer, t] : seen) {
    (void)observer;
    r.seen_by_all_us = std::max(r.seen_by_all_us, t);
    r.seen_by_first_us = r.seen_by_first_us == 0 ? t : std::min(r.seen_by_first_us, t);
  }
  return r;
}

FalsePositiveResult MeasureFalsePositives(const GossipRun& run, int64_t duration_us,
                                          uint64_t seed) {
  Scenario s = GossipScenario(run);
  const int64_t from = ConvergeUs(run.members);
  s.run_us = from + duration_us;
  s.quiet_us = s.run_us;
  Simulation sim(s, seed, nullptr);
  FalsePositiveResult r;
  sim.ObserveMembers([&](int64_t now, int, const core::MemberEvent& e) {
    if (now < from) return;
    if (e.kind == Kind::kDead) ++r.false_deaths;
  });
  sim.Run();
  for (int i = 0; i < run.members; ++i) {
    // Suspicions each member raised itself (a probe nobody answered), not the
    // ones it heard of.
    if (const core::Gossip* g = sim.GossipOf(i)) r.suspicions += g->stats().probe_failures;
  }
  r.suspicions_per_member_minute =
      static_cast<double>(r.suspicions) / run.members / (s.run_us / 60e6);
  return r;
}

SlowMemberResult MeasureSlowMember(const GossipRun& run, int64_t slow_us, int64_t duration_us,
                                   uint64_t seed) {
  Scenario s = GossipScenario(run);
  const int slow = run.members - 1;
  const int64_t from = ConvergeUs(run.members);
  s.actions.push_back(At(from, Action::Kind::kSlow, slow, slow_us));
  s.run_us = from + duration_us;
  s.quiet_us = s.run_us;
  Simulation sim(s, seed, nullptr);
  SlowMemberResult r;
  sim.ObserveMembers([&](int64_t, int, const core::MemberEvent& e) {
    if (e.kind != Kind::kDead) return;
    if (e.node == IdOf(slow)) {
      ++r.slow_declared_dead;
    } else {
      ++r.healthy_declared_dead;
    }
  });
  sim.Run();
  if (const core::Gossip* g = sim.GossipOf(slow)) r.slow_own_suspicions = g->stats().probe_failures;
  return r;
}

JoinResult MeasureJoin(const GossipRun& run, uint64_t seed) {
  Scenario s = GossipScenario(run);
  const int newcomer = run.members - 1;
  const int64_t start_at = ConvergeUs(run.members);
  s.actions.push_back(At(start_at, Action::Kind::kStart, newcomer));
  s.run_us = start_at + 40'000'000;
  s.quiet_us = s.run_us;
  Simulation sim(s, seed, nullptr);
  std::vector<int64_t> learned;
  absl::btree_map<int, bool> knows;
  sim.ObserveMembers([&](int64_t now, int observer, const core::MemberEvent& e) {
    if (e.node == IdOf(newcomer) && e.kind == Kind::kJoined && now >= start_at &&
        knows.try_emplace(observer, true).second) {
      learned.push_back(now - start_at);
    }
  });
  sim.Run();
  JoinResult r;
  const std::size_t others = run.members - 1;
  std::sort(learned.begin(), learned.end());
  const std::size_t p99 = (others * 99 + 99) / 100;
  if (learned.size() >= p99 && p99 > 0) r.p99_us = learned[p99 - 1];
  if (learned.size() == others && others > 0) r.all_us = learned.back();
  return r;
}

double MeasureIdleBytesPerMemberSecond(const GossipRun& run, uint64_t seed) {
  // One seed replays exactly, so the longer run's first part is the shorter run:
  // the difference is the traffic of the last minute alone.
  Scenario s = GossipScenario(run);
  const int64_t from = ConvergeUs(run.members) + 30'000'000;
  s.run_us = from;
  s.quiet_us = s.run_us;
  const uint64_t before = GossipBytes(Simulation(s, seed, nullptr).Run().stats);
  s.run_us = from + 60'000'000;
  s.quiet_us = s.run_us;
  const uint64_t after = GossipBytes(Simulation(s, seed, nullptr).Run().stats);
  return static_cast<double>(after - before) / run.members / 60.0;
}

double MeasureSpeed(const GossipRun& run, int64_t duration_us, uint64_t seed) {
  // Steady state only: a run to convergence, and the same run `duration_us` longer
  // (a seed replays exactly), so the join storm at t=0 is not counted.
  Scenario s = GossipScenario(run);
  auto wall_seconds = [&](int64_t run_us) {
    s.run_us = run_us;
    s.quiet_us = run_us;
    const auto start = std::chrono::steady_clock::now();
    Simulation(s, seed, nullptr).Run();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  const int64_t from = ConvergeUs(run.members) + 30'000'000;
  const double settle = wall_seconds(from);
  const double total = wall_seconds(from + duration_us);
  return (duration_us / 1e6) / std::max(total - settle, 1e-6);
}

void PrintGossipReport(const ReportOptions& o, std::ostream& out) {
  out << "gossip membership, LAN preset (memberlist's DefaultLANConfig values)\n\n";
  out << "time until every live member sees a crashed member dead (seconds):\n";
  out << "      N   loss   median    worst   undetected   false deaths\n";
  for (int n : o.sizes) {
    for (double loss : {0.0, 0.1}) {
      std::vector<int64_t> times;
      int missed = 0;
      uint64_t false_deaths = 0;
      for (int seed = 1; seed <= o.seeds; ++seed) {
        DetectionResult r = MeasureDetection({.members = n, .loss = loss}, seed);
        false_deaths += r.false_deaths;
        if (r.detected) {
          times.push_back(r.seen_by_all_us);
        } else {
          ++missed;
        }
      }
      out << absl::StrFormat("  %5d  %4.0f%%  %7.2f  %7.2f   %10d   %12d\n", n, loss * 100,
                             Percentile(times, 0.5) / 1e6, Percentile(times, 1.0) / 1e6, missed,
                             false_deaths);
      out.flush();
    }
  }
  out << "\nhealthy members declared dead under loss (120 s after convergence per seed):\n";
  for (int n : o.sizes) {
    const int seeds = n >= 500 ? std::min(o.seeds, o.false_positive_seeds) : o.false_positive_seeds;
    for (double loss : {0.1, 0.3}) {
      uint64_t deaths = 0;
      double rate = 0;
      for (int seed = 1; seed <= seeds; ++seed) {
        FalsePositiveResult r =
            MeasureFalsePositives({.members = n, .loss = loss}, 120'000'000, seed);
        deaths += r.false_deaths;
        rate += r.suspicions_per_member_minute;
      }
      out << absl::StrFormat(
          "  N=%-4d loss %2.0f%%: %d false dead over %d seeds; %.3f suspicions per member-minute\n",
          n, loss * 100, deaths, seeds, rate / seeds);
      out.flush();
    }
  }
  const int mid = o.sizes.size() > 1 ? o.sizes[1] : o.sizes[0];
  out << "\none CPU-starved member (each datagram handled 0.5-1 s late), N=" << mid << ", 120 s:\n";
  uint64_t own[2] = {}, healthy[2] = {}, slow_dead[2] = {};
  for (int lg = 0; lg < 2; ++lg) {
    for (int seed = 1; seed <= o.seeds; ++seed) {
      SlowMemberResult r =
          MeasureSlowMember({.members = mid, .lifeguard = lg == 1}, 1'000'000, 120'000'000, seed);
      own[lg] += r.slow_own_suspicions;
      healthy[lg] += r.healthy_declared_dead;
      slow_dead[lg] += r.slow_declared_dead;
    }
  }
  out << absl::StrFormat(
      "  lifeguard off: %d false suspicions raised by the slow member, %d healthy members "
      "declared dead, slow member declared dead %d times\n",
      own[0], healthy[0], slow_dead[0]);
  out << absl::StrFormat(
      "  lifeguard on:  %d false suspicions raised by the slow member, %d healthy members "
      "declared dead, slow member declared dead %d times\n",
      own[1], healthy[1], slow_dead[1]);
  if (own[1] > 0) {
    out << absl::StrFormat("  Lifeguard cuts its false suspicions %.1fx (over %d seeds)\n",
                           static_cast<double>(own[0]) / own[1], o.seeds);
  }
  const int big = o.sizes.back();
  out << "\na member joining a converged cluster of " << big << ":\n";
  std::vector<int64_t> p99s, alls;
  for (int seed = 1; seed <= std::max(1, o.seeds / 2); ++seed) {
    JoinResult r = MeasureJoin({.members = big}, seed);
    p99s.push_back(r.p99_us);
    alls.push_back(r.all_us);
  }
  out << absl::StrFormat(
      "  99%% of members know it after %.2f s (worst %.2f s); all after %.2f s "
      "(worst %.2f s; push-pull period %.0f s)\n",
      Percentile(p99s, 0.5) / 1e6, Percentile(p99s, 1.0) / 1e6, Percentile(alls, 0.5) / 1e6,
      Percentile(alls, 1.0) / 1e6, core::GossipConfig::Lan().PushPullIntervalUs(big) / 1e6);
  out << "\nidle traffic, membership messages only:\n";
  for (int n : o.sizes) {
    out << absl::StrFormat("  N=%-4d %8.0f bytes sent per member per second\n", n,
                           MeasureIdleBytesPerMemberSecond({.members = n}, 1));
  }
  out << absl::StrFormat("\nsimulator speed, N=%d idle after convergence: %.0fx real time\n", big,
                         MeasureSpeed({.members = big}, 120'000'000, 1));
}

}  // namespace lockmesh::sim
