// File: sim/report.h
//
// The readable end of a run: statistics, the fenced store, and the verdict.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "sim/scenario.h"
#include "sim/simulation.h"

namespace lockmesh::sim {

// Grants per second before the first fault, while faults last (until quiet), and after.
struct PhaseRates {
  double before = 0;
  double during = 0;
  double after = 0;
};
PhaseRates ProgressRates(const Scenario& scenario, const RunResult& result);
// Lease messages of a run (acquire, renew, release, their answers and release notices).
uint64_t LeaseMessages(const RunStats& stats);

// The scenario's `expect during P`, `expect gap D` and `expect messages N` this run missed,
// one line each.
std::vector<std::string> MissedExpectations(const Scenario& scenario, const RunResult& result);

// Ends with PASS when no property is broken and no expectation missed, else FAIL.
void PrintReport(const Scenario& scenario, uint64_t seed, const RunResult& result,
                 std::ostream& out);

}  // namespace lockmesh::sim
