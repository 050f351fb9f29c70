#include "bench/comparison/stats.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace lockmesh::bench::comparison {

double NearestRank(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  // Rank ceil(q * n), 1-based; a tiny epsilon keeps 0.99 * 100 from rounding up to rank 100.
  const double rank = std::ceil(q * static_cast<double>(sorted.size()) - 1e-9);
  const std::size_t index = static_cast<std::size_t>(std::max(1.0, rank)) - 1;
  return sorted[std::min(index, sorted.size() - 1)];
}

Distribution Distribution::Of(std::vector<double> samples) {
  Distribution d;
  if (samples.empty()) return d;
  std::sort(samples.begin(), samples.end());
  d.count = samples.size();
  d.p50 = NearestRank(samples, 0.5);
  d.p99 = NearestRank(samples, 0.99);
  d.p999 = NearestRank(samples, 0.999);
  d.mean = std::accumulate(samples.begin(), samples.end(), 0.0) / static_cast<double>(d.count);
  d.min = samples.front();
  d.max = samples.back();
  return d;
}

double JainIndex(const std::vector<double>& shares) {
  double sum = 0, squares = 0;
  for (double x : shares) {
    sum += x;
    squares += x * x;
  }
  if (shares.empty() || squares == 0) return 1;
  return sum * sum / (static_cast<double>(shares.size()) * squares);
}

MinMax MinMax::Of(const std::vector<double>& shares) {
  if (shares.empty()) return {};
  const auto [lo, hi] = std::minmax_element(shares.begin(), shares.end());
  return {*lo, *hi};
}

}  // namespace lockmesh::bench::comparison
