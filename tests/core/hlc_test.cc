// Tests for lib/core/hlc.h and lib/core/random.h: the hybrid logical clock never
// goes backwards, follows wall time forward and exceeds what it observed; the
// seeded generator replays the same sequence from the same seed (the simulator's
// replay depends on it) and keeps its bounds.
#include "lib/core/hlc.h"

#include <cstdint>
#include <set>
#include <vector>

#include "gtest/gtest.h"
#include "lib/core/random.h"
#include "lib/core/types.h"

namespace lockmesh::core {
namespace {

constexpr int64_t kWallMs = 1'700'000'000'000;

uint64_t Stamp(int64_t physical_ms, uint64_t logical) {
  return (static_cast<uint64_t>(physical_ms) << kHlcLogicalBits) | logical;
}

TEST(Hlc, TickStrictlyIncreasesAtAFixedWallTime) {
  Hlc hlc;
  uint64_t previous = hlc.Tick(kWallMs);
  EXPECT_EQ(previous, Stamp(kWallMs, 0));
  for (uint64_t i = 1; i <= 1000; ++i) {
    const uint64_t next = hlc.Tick(kWallMs);
    EXPECT_GT(next, previous);
    EXPECT_EQ(next, Stamp(kWallMs, i));  // the logical counter counts up
    previous = next;
  }
  EXPECT_EQ(hlc.last(), previous);
}

TEST(Hlc, TickFollowsWallTimeForward) {
  Hlc hlc;
  hlc.Tick(kWallMs);
  hlc.Tick(kWallMs);
  const uint64_t later = hlc.Tick(kWallMs + 5);
  EXPECT_EQ(later, Stamp(kWallMs + 5, 0));  // logical restarts at 0
  EXPECT_EQ(BallotPhysicalMs(later), kWallMs + 5);
}

TEST(Hlc, TickStaysMonotonicWhenWallTimeGoesBack) {
  Hlc hlc;
  const uint64_t before = hlc.Tick(kWallMs);
  const uint64_t after = hlc.Tick(kWallMs - 60'000);  // the wall clock jumped back a minute
  EXPECT_GT(after, before);
  EXPECT_EQ(BallotPhysicalMs(after), kWallMs);
  EXPECT_EQ(after, Stamp(kWallMs, 1));
  // Once the wall clock passes the old value again, it leads once more.
  EXPECT_EQ(hlc.Tick(kWallMs + 1), Stamp(kWallMs + 1, 0));
}

TEST(Hlc, NegativeWallTimeCountsAsZero) {
  Hlc hlc;
  EXPECT_EQ(hlc.Tick(-5), 1u);
  EXPECT_EQ(hlc.Tick(-5), 2u);
}

TEST(Hlc, ObserveMakesTheNextTickExceedTheRemoteStamp) {
  Hlc hlc;
  hlc.Tick(kWallMs);
  const uint64_t remote = Stamp(kWallMs + 30'000, 7);  // a peer whose clock runs ahead
  hlc.Observe(remote, kWallMs);
  const uint64_t next = hlc.Tick(kWallMs);
  EXPECT_GT(next, remote);
  EXPECT_EQ(next, remote + 1);
}

TEST(Hlc, ObservingAnOlderStampChangesNothing) {
  Hlc hlc;
  const uint64_t mine = hlc.Tick(kWallMs);
  hlc.Observe(Stamp(kWallMs - 1000, 99), kWallMs);
  EXPECT_EQ(hlc.last(), mine);
  EXPECT_EQ(hlc.Tick(kWallMs), mine + 1);
}

TEST(Hlc, LogicalOverflowCarriesIntoThePhysicalPart) {
  Hlc hlc;
  const uint64_t full = Stamp(kWallMs, kHlcLogicalMask);
  hlc.Observe(full, kWallMs);
  const uint64_t next = hlc.Tick(kWallMs);
  EXPECT_GT(next, full);
  EXPECT_EQ(next, Stamp(kWallMs + 1, 0));
  EXPECT_EQ(BallotPhysicalMs(next), kWallMs + 1);
}

TEST(Hlc, RaiseToOnlyRaises) {
  Hlc hlc;
  hlc.RaiseTo(Stamp(kWallMs, 3));
  EXPECT_EQ(hlc.last(), Stamp(kWallMs, 3));
  hlc.RaiseTo(Stamp(kWallMs - 1, 0));
  EXPECT_EQ(hlc.last(), Stamp(kWallMs, 3));
  EXPECT_EQ(hlc.Tick(0), Stamp(kWallMs, 4));
}

TEST(Hlc, InterleavedTicksAndObservesNeverRepeat) {
  Hlc hlc;
  Rng rng(7);
  std::set<uint64_t> seen;
  uint64_t previous = 0;
  for (int i = 0; i < 2000; ++i) {
    const int64_t wall = kWallMs + rng.Between(-2000, 2000);
    if (rng.Chance(0.3)) hlc.Observe(Stamp(kWallMs + rng.Between(-2000, 2000), 5), wall);
    const uint64_t stamp = hlc.Tick(wall);
    EXPECT_GT(stamp, previous);
    EXPECT_TRUE(seen.insert(stamp).second);
    previous = stamp;
  }
}

TEST(Rng, SameSeedGivesTheSameSequence) {
  Rng a(42), b(42);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(a.Next(), b.Next()) << "draw " << i;
  Rng c(42), d(42);
  for (int i = 0; i < 1000; ++i) {
    ASSERT_EQ(c.Uniform(1000), d.Uniform(1000));
    ASSERT_EQ(c.Between(-5, 5), d.Between(-5, 5));
    ASSERT_EQ(c.Unit(), d.Unit());
    ASSERT_EQ(c.Chance(0.5), d.Chance(0.5));
  }
}

TEST(Rng, SequenceIsPinned) {
  // xoshiro256** seeded through SplitMix64; pinned so that simulator seeds keep
  // replaying the same runs across releases and platforms.
  Rng rng(42);
  EXPECT_EQ(rng.Next(), 0x15780b2e0c2ec716ULL);
  EXPECT_EQ(rng.Next(), 0x6104d9866d113a7eULL);
  EXPECT_EQ(rng.Next(), 0xae17533239e499a1ULL);
  uint64_t state = 0;
  EXPECT_EQ(SplitMix64(state), 0xe220a8397b1dcdafULL);
  EXPECT_EQ(state, 0x9e3779b97f4a7c15ULL);
}

TEST(Rng, DifferentSeedsGiveDifferentSequences) {
  Rng a(1), b(2);
  int same = 0;
  for (int i = 0; i < 100; ++i) same += a.Next() == b.Next();
  EXPECT_EQ(same, 0);
}

TEST(Rng, UniformRespectsItsBound) {
  Rng rng(3);
  for (uint64_t bound : {uint64_t{1}, uint64_t{2}, uint64_t{3}, uint64_t{10}, uint64_t{1000},
                         uint64_t{1} << 40, ~uint64_t{0}}) {
    for (int i = 0; i < 2000; ++i) ASSERT_LT(rng.Uniform(bound), bound) << "bound " << bound;
  }
  EXPECT_EQ(rng.Uniform(0), 0u);
  EXPECT_EQ(rng.Uniform(1), 0u);
}

TEST(Rng, UniformReachesEveryValueOfASmallRange) {
  Rng rng(4);
  std::vector<int> hits(10, 0);
  for (int i = 0; i < 10'000; ++i) ++hits[rng.Uniform(10)];
  for (int v = 0; v < 10; ++v) {
    EXPECT_GT(hits[v], 800) << v;  // ~1000 each
    EXPECT_LT(hits[v], 1200) << v;
  }
}

TEST(Rng, BetweenIsInclusiveAndToleratesAnEmptyRange) {
  Rng rng(5);
  bool saw_lo = false, saw_hi = false;
  for (int i = 0; i < 1000; ++i) {
    const int64_t v = rng.Between(-3, 3);
    ASSERT_GE(v, -3);
    ASSERT_LE(v, 3);
    saw_lo |= v == -3;
    saw_hi |= v == 3;
  }
  EXPECT_TRUE(saw_lo);
  EXPECT_TRUE(saw_hi);
  EXPECT_EQ(rng.Between(7, 7), 7);
  EXPECT_EQ(rng.Between(9, 2), 9);
}

TEST(Rng, UnitAndChanceKeepTheirRanges) {
  Rng rng(6);
  for (int i = 0; i < 1000; ++i) {
    const double u = rng.Unit();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    ASSERT_FALSE(rng.Chance(0.0));
    ASSERT_FALSE(rng.Chance(-1.0));
    ASSERT_TRUE(rng.Chance(1.0));
  }
}

}  // namespace
}  // namespace lockmesh::core
