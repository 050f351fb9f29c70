// File: sim/report.h
//
// The readable end of a run: statistics, the fenced store, and the verdict.
#pragma once

#include <ostream>

#include "sim/scenario.h"
#include "sim/simulation.h"

namespace lockmesh::sim {

void PrintReport(const Scenario& scenario, uint64_t seed, const RunResult& result,
                 std::ostream& out);

}  // namespace lockmesh::sim
