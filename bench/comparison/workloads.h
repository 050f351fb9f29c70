// File: bench/comparison/workloads.h
//
// The driver's side of each workload: it starts client processes of this same program in
// client mode (client.h) for one system, starts them together ("GO"), collects their lines
// and turns them into a Run. Every client process is stopped before the call returns.
//
//   const Target t{.system = "redis", .endpoints = servers->Endpoints(),
//                  .server_pids = servers->Pids(), .self = "/proc/self/exe"};
//   Run r = RunWorkload(Workload::kContention, t, params);
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "bench/comparison/results.h"
#include "bench/comparison/system.h"

namespace lockmesh::bench::comparison {

// The same for every system in one run.
struct Params {
  LockOptions lock;
  std::chrono::milliseconds run{5000}, warmup{500};
  int callers = 16;  // workloads 2, 3
  int across_processes = 3, across_callers = 5;
  int many = 100000;  // workload 5, over 16 callers
  std::chrono::milliseconds many_bound{120000};
  std::string workdir;  // for files the clients share
  int round = 0;        // keeps resource names of different rounds apart
};

// Which system's servers the clients talk to.
struct Target {
  std::string system, endpoints;
  std::vector<pid_t> server_pids;
  std::string self;  // this program
};

Run RunWorkload(Workload w, const Target& t, const Params& p);

// The correctness check: 3 processes x 4 callers each make `increments` increments of a
// plain file counter under one lock. OK if the counter ends exact; the figures either way.
struct CheckResult {
  bool ok = false;
  uint64_t expected = 0, counter = 0, failures = 0;
  std::string error;
};
CheckResult RunCheck(const Target& t, const Params& p, int increments);

}  // namespace lockmesh::bench::comparison
