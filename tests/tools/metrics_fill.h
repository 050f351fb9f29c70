// File: tests/tools/metrics_fill.h
//
// A lockmesh::Metrics with every field set to a value no other field has, so a test that finds
// each value under its metric name knows no field was dropped or swapped. The metrics test
// checks the rendering line by line; the dashboard test renders it to find the exposed names.
#pragma once

#include <array>
#include <cstdint>

#include "lockmesh/metrics.h"

namespace lockmesh::tools::testing {

// The acquire latencies recorded, µs: below the first bound, on it (lands one bucket higher),
// between bounds, and past the last finite bound (the +Inf bucket only).
inline constexpr std::array<uint64_t, 6> kFilledLatenciesUs = {10,    64,        100,
                                                               5'000, 1'500'000, 100'000'000};

Metrics FilledMetrics();

}  // namespace lockmesh::tools::testing
