#include "lib/runtime/drop_log.h"

namespace lockmesh::runtime {

bool DropLogDue(uint64_t before, uint64_t after, uint64_t every) {
  if (after <= before) return false;
  return before == 0 || before / every != after / every;
}

std::vector<DropToLog> DropsToLog(const DatagramCounters& before, const DatagramCounters& after) {
  std::vector<DropToLog> out;
  for (const DatagramDropReason& r : kDatagramDropReasons) {
    if (DropLogDue(before.*(r.counter), after.*(r.counter), kDropLogEveryDatagrams)) {
      out.push_back(DropToLog{r.name, r.meaning, after.*(r.counter)});
    }
  }
  return out;
}

}  // namespace lockmesh::runtime
