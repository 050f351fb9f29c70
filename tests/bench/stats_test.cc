// The statistics bench_compare reports: nearest-rank percentiles (p999 included) and Jain's
// fairness index, against values worked out by hand.
#include "bench/comparison/stats.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>
#include <vector>

namespace lockmesh::bench::comparison {
namespace {

std::vector<double> OneTo(int n) {
  std::vector<double> v(static_cast<std::size_t>(n));
  std::iota(v.begin(), v.end(), 1.0);
  return v;
}

TEST(NearestRank, IsTheSmallestSampleWithTheFractionAtOrBelowIt) {
  const std::vector<double> v = OneTo(100);
  EXPECT_EQ(NearestRank(v, 0.5), 50);
  EXPECT_EQ(NearestRank(v, 0.99), 99);  // rank ceil(99.0) = 99, not 100 by rounding error
  EXPECT_EQ(NearestRank(v, 0.999), 100);
  EXPECT_EQ(NearestRank(v, 1.0), 100);
  EXPECT_EQ(NearestRank(v, 0.001), 1);
}

TEST(NearestRank, EmptyAndSingle) {
  EXPECT_EQ(NearestRank({}, 0.5), 0);
  EXPECT_EQ(NearestRank({7}, 0.5), 7);
  EXPECT_EQ(NearestRank({7}, 0.999), 7);
}

TEST(Distribution, P999OfTenThousandIsThe9990thSample) {
  std::vector<double> v = OneTo(10000);
  std::shuffle(v.begin(), v.end(), std::mt19937(42));  // Of sorts its own copy
  const Distribution d = Distribution::Of(v);
  EXPECT_EQ(d.count, 10000u);
  EXPECT_EQ(d.p50, 5000);
  EXPECT_EQ(d.p99, 9900);
  EXPECT_EQ(d.p999, 9990);
  EXPECT_EQ(d.min, 1);
  EXPECT_EQ(d.max, 10000);
  EXPECT_DOUBLE_EQ(d.mean, 5000.5);
}

TEST(Distribution, ATailOfOneInAThousandShowsInP999Only) {
  std::vector<double> v(2000, 10.0);
  v[0] = v[1] = v[2] = 5000;  // 3 of 2000 slow: above 0.1 %
  const Distribution d = Distribution::Of(v);
  EXPECT_EQ(d.p99, 10);
  EXPECT_EQ(d.p999, 5000);
}

TEST(Distribution, EmptyIsAllZero) {
  const Distribution d = Distribution::Of({});
  EXPECT_EQ(d.count, 0u);
  EXPECT_EQ(d.p999, 0);
}

TEST(JainIndex, EqualSharesAreOne) { EXPECT_DOUBLE_EQ(JainIndex({5, 5, 5, 5}), 1.0); }

TEST(JainIndex, OneTakingEverythingIsOneOverN) { EXPECT_DOUBLE_EQ(JainIndex({12, 0, 0, 0}), 0.25); }

TEST(JainIndex, WorkedExample) {
  // (1 + 2 + 3)^2 / (3 * (1 + 4 + 9)) = 36 / 42
  EXPECT_DOUBLE_EQ(JainIndex({1, 2, 3}), 36.0 / 42.0);
}

TEST(JainIndex, NothingToShareIsFair) {
  EXPECT_DOUBLE_EQ(JainIndex({}), 1.0);
  EXPECT_DOUBLE_EQ(JainIndex({0, 0}), 1.0);
}

TEST(MinMax, OfShares) {
  const MinMax m = MinMax::Of({4, 9, 2});
  EXPECT_EQ(m.min, 2);
  EXPECT_EQ(m.max, 9);
  EXPECT_EQ(MinMax::Of({}).max, 0);
}

}  // namespace
}  // namespace lockmesh::bench::comparison
