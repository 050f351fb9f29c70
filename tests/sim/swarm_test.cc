// The swarm: random scenarios from seeds 1..N (2000 by default; the sanitizer
// pass sets LOCKMESH_SWARM_SEEDS lower), every property held on every seed.
#include <cstdlib>
#include <iostream>

#include <gtest/gtest.h>

#include "absl/strings/numbers.h"
#include "sim/swarm.h"

namespace lockmesh::sim {
namespace {

uint64_t SeedCount() {
  uint64_t n = 2000;
  if (const char* env = std::getenv("LOCKMESH_SWARM_SEEDS")) {
    if (!absl::SimpleAtoi(env, &n) || n == 0) n = 2000;
  }
  return n;
}

TEST(SwarmTest, EverySeedKeepsEveryProperty) {
  SwarmOptions options;
  options.first_seed = 1;
  options.last_seed = SeedCount();
  options.threads = 2;
  SwarmResult r = RunSwarm(options, nullptr);
  EXPECT_EQ(r.runs, SeedCount());
  for (const SwarmFailure& f : r.failures) {
    ADD_FAILURE() << "seed " << f.seed << ": " << f.violations[0].property << " "
                  << f.violations[0].detail << "\n  replay: " << ReplayCommand(f.seed, "");
  }
  std::cout << "swarm: " << r.runs << " seeds, " << r.grants << " grants, " << r.stale_refused
            << " stale operations fenced, " << r.virtual_us / 1'000'000
            << " simulated seconds, worst wait after faults stopped "
            << r.worst_wait_after_quiet_us / 1000 << "ms\n";
  EXPECT_GT(r.grants, r.runs * 10) << "a swarm that grants little tests little";
}

}  // namespace
}  // namespace lockmesh::sim
