// File: bench/comparison/report.h
//
// bench_compare's output: one table per workload on stdout (p50 / p99 / p999, throughput,
// the ratio of lockmesh to each system, the load average at each round's start, the UDP
// round trip as the floor), the goals of issue 9 as they stand in this run, the same
// figures as JSON, and a self-contained HTML page with the latency distributions (html.cc).
#pragma once

#include <string>

#include "bench/comparison/results.h"

namespace lockmesh::bench::comparison {

void PrintReport(const Results& r);
// False if `path` could not be written.
bool WriteJson(const Results& r, const std::string& path);
bool WriteHtml(const Results& r, const std::string& path);

}  // namespace lockmesh::bench::comparison
