// Every scenario file in sim/scenarios runs as a test, with the seed it would
// run with from the command line. Files that say "expect violation" must show
// the checker catching the violation; all others must keep every property.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "sim/report.h"
#include "sim/scenario.h"
#include "sim/simulation.h"

namespace lockmesh::sim {
namespace {

std::vector<std::string> ScenarioFiles() {
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(LOCKMESH_SCENARIO_DIR)) {
    if (entry.path().extension() == ".scn") files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

class ScenarioFileTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ScenarioFileTest, HoldsItsProperties) {
  absl::StatusOr<Scenario> scenario = LoadScenario(GetParam());
  ASSERT_TRUE(scenario.ok()) << scenario.status();
  for (uint64_t seed : {1, 2, 3}) {
    Simulation sim(*scenario, seed, nullptr);
    RunResult result = sim.Run();
    if (scenario->expect_violation) {
      EXPECT_FALSE(result.violations.empty()) << "seed " << seed << ": the checker missed it";
      continue;
    }
    for (const Violation& v : result.violations) {
      ADD_FAILURE() << v.property << " at " << v.at_us << "us: " << v.detail
                    << "\n  replay: lockmesh-sim run " << GetParam() << " --seed=" << seed;
    }
    // Progress the file pins (`expect during`, `expect gap`).
    for (const std::string& m : MissedExpectations(*scenario, result)) {
      ADD_FAILURE() << m << "\n  replay: lockmesh-sim run " << GetParam() << " --seed=" << seed;
    }
    EXPECT_GT(result.stats.grants, 0u) << "a scenario that grants nothing shows nothing";
  }
}

std::string NameOf(const ::testing::TestParamInfo<std::string>& info) {
  std::string name = std::filesystem::path(info.param).stem().string();
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(Files, ScenarioFileTest, ::testing::ValuesIn(ScenarioFiles()), NameOf);

TEST(ScenarioFiles, TheRequiredStoriesAreThere) {
  const std::vector<std::string> files = ScenarioFiles();
  for (const char* required :
       {"split-holder-minority", "gc-pause", "slow-packets", "wall-clock-jump", "voter-restart",
        "all-restart", "bridge", "majorities-ring", "oneway-holder", "partition-story"}) {
    bool found = false;
    for (const std::string& f : files) {
      found |= std::filesystem::path(f).stem() == required;
    }
    EXPECT_TRUE(found) << required;
  }
}

}  // namespace
}  // namespace lockmesh::sim

namespace lockmesh::sim {
namespace {

// The README's demo: the cut-off holder wakes after a new holder took over, and
// its write is refused by the fenced store. A change that slows the takeover
// past the pause (as waiters colliding on the release notice once did) breaks
// the story, so it is pinned here.
TEST(ScenarioFiles, TheDemoShowsTheStaleWriterRefused) {
  absl::StatusOr<Scenario> s =
      LoadScenario(std::string(LOCKMESH_SCENARIO_DIR) + "/partition-story.scn");
  ASSERT_TRUE(s.ok()) << s.status();
  for (uint64_t seed : {1, 2, 3}) {
    RunResult r = Simulation(*s, seed, nullptr).Run();
    EXPECT_TRUE(r.violations.empty()) << "seed " << seed;
    EXPECT_GE(r.stats.stale_refused, 1u) << "seed " << seed;
  }
}

}  // namespace
}  // namespace lockmesh::sim
