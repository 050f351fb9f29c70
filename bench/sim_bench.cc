// The simulator's speed, as simulated seconds per wall second: a 5-voter
// cluster with 10 busy clients (two per node), codec included, no faults; and
// the same under a swarm-style fault schedule.
#include <benchmark/benchmark.h>

#include "sim/simulation.h"
#include "sim/swarm.h"

namespace lockmesh::sim {
namespace {

Scenario Busy() {
  Scenario s;
  s.voters = 5;
  s.clients_per_node = 2;
  s.resources = 3;
  s.contended = 0.8;
  s.lease_us = 2'000'000;
  s.hold_us = 300'000;
  s.think_us = 50'000;
  s.run_us = 3'600'000'000;  // one simulated hour
  s.timing = SimTiming(10'000'000);
  return s;
}

void BM_SimulatedHour_5Voters10Clients(benchmark::State& state) {
  double simulated_s = 0;
  uint64_t messages = 0;
  for (auto _ : state) {
    RunResult r = Simulation(Busy(), 42, nullptr).Run();
    if (!r.violations.empty()) state.SkipWithError("violation");
    simulated_s += r.stats.virtual_us / 1e6;
    messages += r.stats.MessagesSent();
  }
  state.counters["sim_s_per_wall_s"] = benchmark::Counter(simulated_s, benchmark::Counter::kIsRate);
  state.counters["msgs_per_wall_s"] =
      benchmark::Counter(static_cast<double>(messages), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SimulatedHour_5Voters10Clients)->Unit(benchmark::kMillisecond)->Iterations(2);

void BM_SwarmSeed(benchmark::State& state) {
  uint64_t seed = 1;
  double simulated_s = 0;
  for (auto _ : state) {
    Scenario s = RandomScenario(seed);
    simulated_s += Simulation(s, seed++, nullptr).Run().stats.virtual_us / 1e6;
  }
  state.counters["sim_s_per_wall_s"] = benchmark::Counter(simulated_s, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SwarmSeed)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace lockmesh::sim
