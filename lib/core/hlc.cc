#include "lib/core/hlc.h"

#include <algorithm>
#include <cstdint>

namespace lockmesh::core {

uint64_t Hlc::Tick(int64_t wall_ms) {
  const uint64_t wall = static_cast<uint64_t>(std::max<int64_t>(wall_ms, 0)) << kHlcLogicalBits;
  // Either wall time moved past us (logical restarts at 0), or we add one. A
  // logical overflow carries into the physical part, which keeps the order.
  // Saturates rather than wrapping; the node refuses stamps that could get it here.
  last_ = std::max(wall, last_ == UINT64_MAX ? last_ : last_ + 1);
  return last_;
}

void Hlc::Observe(uint64_t remote, int64_t wall_ms) {
  (void)wall_ms;
  last_ = std::max(last_, remote);
}

}  // namespace lockmesh::core
