// Fuzz target: the simulator's scenario-file parser (sim/scenario.h).
//
// The input is a scenario file's text. Seeds: sim/scenarios/*.scn and tests/sim/regress/*.
// When it parses, everything the simulator derives from a scenario before running it is
// computed too (the bounds, the gossip settings, each fault's text), and the parsed
// scenario must pass its own validation. The simulation itself is not run: a run takes
// seconds, and the simulator has its own swarm for that.
#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "fuzz/support.h"
#include "sim/scenario.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  using namespace lockmesh;
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  (void)sim::ParseDurationUs(input);
  absl::StatusOr<sim::Scenario> scenario = sim::ParseScenario(input);
  if (!scenario.ok()) return 0;
  fuzz::Check(scenario->Validate().ok(), "ParseScenario returned a scenario that is not valid");
  fuzz::Check(scenario->QuietUs() >= 0, "a negative quiet time");
  fuzz::Check(scenario->LivenessBoundUs() > 0 && scenario->ProgressBoundUs() > 0,
              "a liveness or progress bound that is not positive");
  (void)scenario->GossipSettings();
  for (const sim::Action& action : scenario->actions) {
    fuzz::Check(!sim::ActionText(action).empty(), "a fault without text");
  }
  return 0;
}
