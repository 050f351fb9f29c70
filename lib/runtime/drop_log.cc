#include "lib/runtime/drop_log.h"

namespace lockmesh::runtime {
namespace {

struct Reason {
  const char* name;
  const char* what;
  uint64_t TransportCounters::*counter;
};

constexpr Reason kReasons[] = {
    {"oversized", "over the datagram size bound", &TransportCounters::dropped_oversized},
    {"truncated", "shorter than a sealed frame", &TransportCounters::dropped_truncated},
    {"unknown_version", "a frame, batch or message version not spoken here",
     &TransportCounters::dropped_unknown_version},
    {"unknown_key", "sealed with a key this node does not hold",
     &TransportCounters::dropped_unknown_key},
    {"unauthenticated", "failed to open: wrong key, wrong cluster name or altered bytes",
     &TransportCounters::dropped_unauthenticated},
    {"replayed", "seen already within the replay window", &TransportCounters::dropped_replayed},
    {"malformed", "opened, but not a well-formed batch or message",
     &TransportCounters::dropped_malformed},
};

}  // namespace

bool DropLogDue(uint64_t before, uint64_t after, uint64_t every) {
  if (after <= before) return false;
  return before == 0 || before / every != after / every;
}

std::vector<DropToLog> DropsToLog(const TransportCounters& before, const TransportCounters& after) {
  std::vector<DropToLog> out;
  for (const Reason& r : kReasons) {
    if (DropLogDue(before.*(r.counter), after.*(r.counter), kDropLogEveryDatagrams)) {
      out.push_back(DropToLog{r.name, r.what, after.*(r.counter)});
    }
  }
  return out;
}

}  // namespace lockmesh::runtime
