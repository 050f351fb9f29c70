// File: bench/comparison/client.h
//
// bench_compare's client mode: the process the driver starts to hold the callers of one
// system (`bench_compare --client=redis --endpoints=... --workload=cycle --callers=16 ...`).
// It builds its Clients and one Locker per caller, prints "READY", waits for "GO" on stdin,
// runs the workload and prints its results as lines on stdout (the driver parses them,
// workloads.cc):
//
//   cycle     CALLER <c> grants=<n> failures=<n> [error=<first error>]
//             SAMPLES <c> <µs> <µs> ...            acquire latencies of counted grants
//   hold_one  HOLDING                               then holds until stdin closes (or SIGKILL)
//   wait_one  WAITING <c> (just before its acquire), GRANTED <c> mono_ns=<steady clock ns>
//   many      HELD <c> count=<n> [error=<why it stopped>], then keeps them until stdin closes
//   check     CHECKED <c> done=<n> failures=<n> [error=...]
//
// and "DONE" at the end. A setup failure prints "FAILED <why>" and exits 1. After "DONE" the
// cycle callers' threads stay alive until stdin closes, so that the driver can read their CPU
// time (cpu_usage.h) at the end of the measured window.
#pragma once

#include <chrono>
#include <string>

#include "bench/comparison/system.h"

namespace lockmesh::bench::comparison {

struct ClientSpec {
  std::string system, endpoints, workload;
  LockOptions lock;
  int callers = 1;
  // cycle: measured for `run` after `warmup`; resources "<prefix>" (pattern one) or
  // "<prefix>/<caller>/<k>" (pattern each).
  std::chrono::milliseconds run{1000}, warmup{200};
  std::string pattern = "one", prefix = "r";
  // How long one acquire may wait.
  std::chrono::milliseconds wait{30000};
  // many: leases per caller, within `run`.
  int count = 0;
  // check: increments per caller of the counter in `counter_file`, under the lock `prefix`.
  int increments = 0;
  std::string counter_file;
};

// Runs the client process; the exit status.
int RunClient(const ClientSpec& spec);

}  // namespace lockmesh::bench::comparison
