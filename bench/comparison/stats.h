// File: bench/comparison/stats.h
//
// The statistics bench_compare reports: exact nearest-rank percentiles of raw latency
// samples (p50, p99, p999), and Jain's fairness index of a set of shares (grants per caller
// or per process).
//
//   Distribution d = Distribution::Of(samples_us);   // d.p999 is the 99.9th percentile
//   double fair = JainIndex({120, 118, 97});          // 1.0 when all shares are equal
//
// Plain functions and value types; thread-compatible.
#pragma once

#include <cstddef>
#include <vector>

namespace lockmesh::bench::comparison {

// The nearest-rank `q` quantile (0 < q <= 1) of `sorted` (ascending): the smallest sample with
// at least a fraction q of all samples at or below it. 0 for no samples.
double NearestRank(const std::vector<double>& sorted, double q);

// A latency distribution in microseconds, summarized from every raw sample (no histogram
// buckets: p999 of a few thousand samples must be one of them, not an interpolation).
struct Distribution {
  std::size_t count = 0;
  double p50 = 0, p99 = 0, p999 = 0, mean = 0, min = 0, max = 0;

  static Distribution Of(std::vector<double> samples);
};

// Jain's fairness index (sum x)^2 / (n * sum x^2): 1 when every share is equal, 1/n when one
// takes everything. 1 for no shares or all zero (nobody was treated worse than anyone else).
double JainIndex(const std::vector<double>& shares);

// The smallest and largest share; {0, 0} for none.
struct MinMax {
  double min = 0, max = 0;
  static MinMax Of(const std::vector<double>& shares);
};

}  // namespace lockmesh::bench::comparison
