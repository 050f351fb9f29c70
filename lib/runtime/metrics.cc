// lockmesh::Histogram and the log level names.
#include "lockmesh/metrics.h"

#include <cmath>
#include <limits>

#include "lockmesh/log.h"

namespace lockmesh {

uint64_t Histogram::Bound(int i) {
  if (i >= kBuckets - 1) return std::numeric_limits<uint64_t>::max();
  return static_cast<uint64_t>(std::llround(64.0 * std::exp2(i / 2.0)));
}

void Histogram::Record(uint64_t us) {
  int i = 0;
  while (i < kBuckets - 1 && us >= Bound(i)) ++i;
  ++counts[i];
  ++count;
  sum_us += us;
  if (us > max_us) max_us = us;
}

uint64_t Histogram::Percentile(double q) const {
  if (count == 0) return 0;
  const double rank = std::ceil(std::max(0.0, std::min(1.0, q)) * static_cast<double>(count));
  uint64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += counts[i];
    if (seen > 0 && static_cast<double>(seen) >= rank) {
      return i == kBuckets - 1 ? max_us : std::min(Bound(i), max_us);
    }
  }
  return max_us;
}

std::string_view LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kError:
      return "error";
  }
  return "unknown";
}

}  // namespace lockmesh
