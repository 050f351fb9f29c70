// The lease core's message handling, without codec or network: how many
// acquire/release cycles one node's voter serves, a whole fast-path grant
// among three in-memory nodes, and the heap a voter spends per held lease.
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <deque>
#include <vector>

#include "absl/strings/str_cat.h"
#include "lib/core/lease_node.h"

namespace lockmesh::core {
namespace {

LeaseConfig Config(NodeId self, std::vector<NodeId> voters) {
  LeaseConfig c;
  c.self = self;
  c.voters = std::move(voters);
  return c;
}

// One voter answering Acquire then Release for ever-new ballots: the voter's
// per-message cost.
void BM_VoterAcquireRelease(benchmark::State& state) {
  const LeaseConfig config = Config(1, {1, 2, 3});
  Rng rng(1);
  Now now{1'000'000, 1'000'000};
  LeaseNode voter(config, 1, StartMode::kBootstrap, now, rng);
  Effects fx;
  const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (int i = 0; i < 1024; ++i) v.push_back(absl::StrCat("orders/", i));
    return v;
  }();
  uint64_t ballot = uint64_t{2'000'000} << kHlcLogicalBits;
  std::size_t i = 0;
  for (auto _ : state) {
    const Owner owner{2, 1, i};
    Envelope acquire{2,
                     1,
                     1,
                     ballot,
                     config.VoterSetHash(),
                     AcquireMsg{names[i % names.size()], ballot, owner, 5'000'000}};
    voter.OnMessage(acquire, now, fx);
    Envelope release{2,
                     1,
                     1,
                     ballot + 1,
                     config.VoterSetHash(),
                     ReleaseMsg{names[i % names.size()], ballot, owner}};
    voter.OnMessage(release, now, fx);
    benchmark::DoNotOptimize(fx.messages.data());
    fx.Clear();
    ballot += 2;
    ++i;
  }
  state.SetItemsProcessed(2 * state.iterations());
}
BENCHMARK(BM_VoterAcquireRelease);

// Heap bytes a voter spends per lease it holds for others (issue: a job scheduler holding
// 100,000 leases): 100,000 acquires from another node, names like "jobs/12345", then
// mallinfo2's bytes in use after minus before, divided by the leases. Glibc's own chunk
// headers are included, as they are in a process's RSS.
void BM_VoterHeldLeaseBytes(benchmark::State& state) {
  const LeaseConfig config = Config(1, {1, 2, 3});
  constexpr int kLeases = 100'000;
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<std::string> names;
    names.reserve(kLeases);
    for (int i = 0; i < kLeases; ++i) names.push_back(absl::StrCat("jobs/", i));
    Rng rng(1);
    Now now{1'000'000, 1'000'000};
    auto voter = std::make_unique<LeaseNode>(config, 1, StartMode::kBootstrap, now, rng);
    Effects fx;
    uint64_t ballot = uint64_t{2'000'000} << kHlcLogicalBits;
    state.ResumeTiming();
    const std::size_t before = mallinfo2().uordblks;
    for (int i = 0; i < kLeases; ++i) {
      const Owner owner{2, 1, static_cast<uint64_t>(i) + 1};
      Envelope acquire{
          2, 1, 1, ballot, config.VoterSetHash(), AcquireMsg{names[i], ballot, owner, 30'000'000}};
      voter->OnMessage(acquire, now, fx);
      fx.Clear();
      ballot += 1;
    }
    const std::size_t after = mallinfo2().uordblks;
    state.counters["bytes_per_lease"] =
        static_cast<double>(after - before) / static_cast<double>(kLeases);
    state.counters["leases"] = static_cast<double>(voter->voter()->resource_count());
    state.PauseTiming();
    voter.reset();
    state.ResumeTiming();
  }
}
BENCHMARK(BM_VoterHeldLeaseBytes)->Iterations(1)->Unit(benchmark::kMillisecond);

// What the proposer's next wake-up costs a node that holds `range(0)` leases: the runtime
// asks for it after every input (datagram, timer, API call).
void BM_NextTickWithLeasesHeld(benchmark::State& state) {
  const LeaseConfig config = Config(1, {1});  // its own voter is a majority: granted at once
  Rng rng(1);
  Now now{1'000'000, 1'000'000};
  LeaseNode node(config, 1, StartMode::kBootstrap, now, rng);
  Effects fx;
  for (int64_t i = 0; i < state.range(0); ++i) {
    auto id = node.Acquire(absl::StrCat("jobs/", i), {.duration_us = 30'000'000, .try_once = true},
                           now, fx);
    if (!id.ok() || !node.IsHolding(*id, now)) {
      state.SkipWithError("not granted");
      return;
    }
    fx.Clear();
  }
  for (auto _ : state) benchmark::DoNotOptimize(node.NextTickUs());
}
BENCHMARK(BM_NextTickWithLeasesHeld)->Arg(1)->Arg(1'000)->Arg(100'000);

// Acquire + grant + release among three in-memory nodes (no codec): the whole
// protocol cost of one uncontended lock cycle.
void BM_FastPathCycle(benchmark::State& state) {
  const std::vector<NodeId> ids = {1, 2, 3};
  std::vector<LeaseConfig> configs;
  for (NodeId id : ids) configs.push_back(Config(id, ids));
  Rng rng(1);
  Now now{1'000'000, 1'000'000};
  std::vector<std::unique_ptr<LeaseNode>> nodes;
  for (const LeaseConfig& c : configs) {
    nodes.push_back(std::make_unique<LeaseNode>(c, 1, StartMode::kBootstrap, now, rng));
  }
  Effects fx;
  std::deque<Envelope> wire;
  auto pump = [&] {
    for (Envelope& m : fx.messages) wire.push_back(std::move(m));
    fx.Clear();
    while (!wire.empty()) {
      Envelope m = std::move(wire.front());
      wire.pop_front();
      nodes[m.to - 1]->OnMessage(m, now, fx);
      for (Envelope& out : fx.messages) wire.push_back(std::move(out));
      fx.messages.clear();
    }
  };
  for (auto _ : state) {
    now.mono_us += 10;
    now.wall_ms += 1;
    auto id = nodes[0]->Acquire("orders", {.duration_us = 5'000'000, .try_once = true}, now, fx);
    pump();
    if (!id.ok() || !nodes[0]->IsHolding(*id, now)) {
      state.SkipWithError("not granted");
      break;
    }
    (void)nodes[0]->Release(*id, now, fx);
    pump();
    fx.events.clear();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_FastPathCycle);

void BM_HlcTick(benchmark::State& state) {
  Hlc hlc;
  int64_t wall = 1'000'000;
  for (auto _ : state) benchmark::DoNotOptimize(hlc.Tick(wall++ / 8));
}
BENCHMARK(BM_HlcTick);

}  // namespace
}  // namespace lockmesh::core
