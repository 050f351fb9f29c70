#include "lib/core/membership/suspicion.h"

#include <cmath>

#include "lib/core/check.h"

namespace lockmesh::core {

Suspicion::Suspicion(NodeId from, int k, int64_t min_us, int64_t max_us, int64_t start_us)
    : k_(k),
      min_us_(min_us),
      max_us_(max_us),
      start_us_(start_us),
      deadline_us_(start_us + TimeoutUs(0, k, min_us, max_us)) {
  LM_CHECK(min_us > 0 && min_us <= max_us);
  seen_.insert(from);
}

bool Suspicion::Confirm(NodeId from) {
  if (confirmations_ >= k_) return false;
  if (!seen_.insert(from).second) return false;
  ++confirmations_;
  deadline_us_ = start_us_ + TimeoutUs(confirmations_, k_, min_us_, max_us_);
  return true;
}

int64_t Suspicion::TimeoutUs(int n, int k, int64_t min_us, int64_t max_us) {
  if (k < 1) return min_us;
  const double frac = std::log(n + 1.0) / std::log(k + 1.0);
  const double raw = static_cast<double>(max_us) - frac * static_cast<double>(max_us - min_us);
  const auto timeout = static_cast<int64_t>(std::floor(raw));
  return timeout < min_us ? min_us : timeout;
}

}  // namespace lockmesh::core
