#include "bench/comparison/results.h"

#include <algorithm>

namespace lockmesh::bench::comparison {

const char* WorkloadName(Workload w) {
  switch (w) {
    case Workload::kUncontended:
      return "uncontended";
    case Workload::kThroughput:
      return "throughput";
    case Workload::kContention:
      return "contention";
    case Workload::kAcross:
      return "across_processes";
    case Workload::kManyHeld:
      return "many_held";
    case Workload::kHolderKilled:
      return "holder_killed";
  }
  return "?";
}

const char* WorkloadTitle(Workload w) {
  switch (w) {
    case Workload::kUncontended:
      return "1. uncontended: one caller, acquire + release in a loop (acquire latency)";
    case Workload::kThroughput:
      return "2. throughput: 16 callers in one process on distinct resources";
    case Workload::kContention:
      return "3. contention in one process: 16 callers on one resource (wait, handoffs/s)";
    case Workload::kAcross:
      return "4. contention across processes: 3 processes x 5 callers on one resource";
    case Workload::kManyHeld:
      return "5. many held: leases held at once by 16 callers (16 processes x 1)";
    case Workload::kHolderKilled:
      return "6. holder killed: SIGKILL the holder while 2 callers wait; SIGKILL -> next grant";
  }
  return "?";
}

Merged Merge(const std::vector<Run>& runs) {
  Merged m;
  std::vector<double> samples, per_caller, per_process;
  double seconds = 0, grants = 0, cpu_ns = 0, switches = 0;
  std::vector<double> per_lease_mean, per_lease_max;
  for (const Run& r : runs) {
    if (!r.error.empty()) {
      if (m.error.empty()) m.error = r.error;
      continue;
    }
    ++m.rounds_ok;
    samples.insert(samples.end(), r.samples.begin(), r.samples.end());
    seconds += r.seconds;
    grants += static_cast<double>(r.grants);
    m.failures += r.failures;
    cpu_ns += static_cast<double>(r.cpu_ns);
    switches += static_cast<double>(r.context_switches);
    m.cpu_vanished.insert(m.cpu_vanished.end(), r.cpu_vanished.begin(), r.cpu_vanished.end());
    m.cpu_threads_exited += r.cpu_threads_exited;
    if (m.first_error.empty()) m.first_error = r.first_error;
    per_caller.resize(std::max(per_caller.size(), r.per_caller.size()));
    for (std::size_t i = 0; i < r.per_caller.size(); ++i) per_caller[i] += r.per_caller[i];
    per_process.resize(std::max(per_process.size(), r.per_process.size()));
    for (std::size_t i = 0; i < r.per_process.size(); ++i) per_process[i] += r.per_process[i];
    if (r.takeover_ms >= 0) m.takeover_ms.push_back(r.takeover_ms);
    if (r.held > 0) {
      double sum = 0, most = 0;
      for (std::size_t i = 0; i < r.rss_after.size() && i < r.rss_before.size(); ++i) {
        const double per =
            static_cast<double>(r.rss_after[i] - r.rss_before[i]) / static_cast<double>(r.held);
        sum += per;
        most = std::max(most, per);
      }
      if (!r.rss_after.empty()) per_lease_mean.push_back(sum / r.rss_after.size());
      per_lease_max.push_back(most);
    }
    m.held = std::max(m.held, r.held);
    m.target = std::max(m.target, r.target);
    if (m.held_stop.empty()) m.held_stop = r.held_stop;
  }
  if (m.rounds_ok > 0) m.error.clear();
  m.latency = Distribution::Of(std::move(samples));
  m.rate = seconds > 0 ? grants / seconds : 0;
  m.cpu_us_per_cycle = grants > 0 ? cpu_ns / 1e3 / grants : 0;
  m.switches_per_cycle = grants > 0 ? switches / grants : 0;
  m.jain_callers = JainIndex(per_caller);
  m.jain_processes = JainIndex(per_process);
  m.callers = MinMax::Of(per_caller);
  m.processes = MinMax::Of(per_process);
  if (!per_lease_mean.empty()) {
    m.bytes_per_lease_mean = per_lease_mean.back();
    m.bytes_per_lease_max = per_lease_max.back();
  }
  return m;
}

}  // namespace lockmesh::bench::comparison
