// clang-format off: Boost 1.74's awaitable.hpp needs <utility> first under GCC 12.
#include <utility>
// clang-format on

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <cinttypes>
#include <cstdio>
#include <latch>
#include <memory>
#include <thread>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "bench/child_process.h"
#include "bench/cluster_phases.h"

namespace lockmesh::bench {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kUdpPayloadBytes = 100;
constexpr auto kChildReadyBound = 60s;
const AcquireOptions kAcquire{.duration = 5s, .wait = 30s};

double MicrosSince(Clock::time_point start) {
  return std::chrono::duration<double, std::micro>(Clock::now() - start).count();
}

// One caller's acquire + release; false (with the error noted) if the acquire failed.
bool Cycle(Node& node, const std::string& resource, std::vector<double>& samples,
           uint64_t& failures, std::string& first_error) {
  const Clock::time_point start = Clock::now();
  absl::StatusOr<Lease> lease = node.Acquire(resource, kAcquire);
  const double us = MicrosSince(start);
  if (!lease.ok()) {
    if (failures++ == 0) first_error = lease.status().ToString();
    return false;
  }
  samples.push_back(us);
  if (absl::Status released = lease->Release(); !released.ok()) {
    if (failures++ == 0) first_error = released.ToString();
  }
  return true;
}

// What one caller thread of a concurrent phase did.
struct PerCaller {
  std::vector<double> samples;
  uint64_t cycles = 0, failures = 0;
  std::string first_error;
};

// Adds up the callers' figures into `p`.
void Merge(std::vector<PerCaller>& per, Phase& p) {
  std::vector<double> samples;
  for (PerCaller& c : per) {
    samples.insert(samples.end(), c.samples.begin(), c.samples.end());
    p.cycles += c.cycles;
    if (p.failures == 0 && c.failures != 0) p.first_error = c.first_error;
    p.failures += c.failures;
  }
  p.acquire = Summarize(std::move(samples));
}

// Acquire + Release of `resource` until `stop`; a grant counts only if it came before `stop`.
void CycleUntilStopped(Node& node, const std::string& resource, const std::atomic<bool>& stop,
                       PerCaller& me) {
  while (!stop.load()) {
    const Clock::time_point start = Clock::now();
    absl::StatusOr<Lease> lease = node.Acquire(resource, kAcquire);
    const double us = MicrosSince(start);
    if (!lease.ok()) {
      if (me.failures++ == 0) me.first_error = lease.status().ToString();
      continue;
    }
    if (!stop.load()) {
      me.samples.push_back(us);
      ++me.cycles;
    }
    if (absl::Status released = lease->Release(); !released.ok()) {
      if (me.failures++ == 0) me.first_error = released.ToString();
    }
  }
}

// The children's lines of the cross-process phase: GRANTED (with wait_us), FENCED and
// FAILED are counted; READY, DONE and STOPPED expected; anything else goes to `log`.
void TallyChildLines(const std::string& name, const std::vector<std::string>& lines,
                     CrossProcess& cross, std::vector<double>& waits,
                     std::vector<std::string>& log) {
  for (const std::string& l : lines) {
    if (l.rfind("GRANTED ", 0) == 0) {
      ++cross.child_grants;
      const std::size_t at = l.find(" wait_us=");
      int64_t us = 0;
      if (at != std::string::npos && absl::SimpleAtoi(l.substr(at + 9), &us)) {
        waits.push_back(static_cast<double>(us));
      }
    } else if (l.rfind("FENCED ", 0) == 0) {
      ++cross.child_fenced;
      log.push_back(absl::StrCat(name, ": ", l));
    } else if (l.rfind("FAILED", 0) == 0) {
      ++cross.child_failed;
      log.push_back(absl::StrCat(name, ": ", l));
    } else if (l.rfind("READY", 0) != 0 && l.rfind("DONE ", 0) != 0 && l.rfind("STOPPED", 0) != 0) {
      log.push_back(absl::StrCat(name, ": ", l));
    }
  }
}

// The value in a counter file ("<value> <token>"); 0 if it is missing.
uint64_t CounterValue(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr) return 0;
  uint64_t value = 0, token = 0;
  if (std::fscanf(f, "%" SCNu64 " %" SCNu64, &value, &token) < 1) value = 0;
  std::fclose(f);
  return value;
}

std::vector<std::unique_ptr<Child>> SpawnNonVoters(const CrossProcessSetup& s, std::string& error) {
  const std::vector<std::string> addresses = FreeAddresses(2);
  std::vector<std::unique_ptr<Child>> children;
  for (int i = 0; i < 2; ++i) {
    children.push_back(Child::Spawn(
        {s.counter_bin, absl::StrCat("--name=n", 3 + i), absl::StrCat("--bind=", addresses[i]),
         absl::StrCat("--voters=", s.voters), absl::StrCat("--cluster=", s.cluster),
         absl::StrCat("--key_file=", s.key_path),
         absl::StrCat("--seeds=", absl::StrJoin(s.seeds, ",")), "--timing=local",
         absl::StrCat("--file=", s.counter_path), absl::StrCat("--callers=", s.child_callers),
         absl::StrCat("--increments=", s.child_increments), "--lease_ms=5000", "--wait_ms=30000",
         "--lease_max_ms=10000", "--log=warning"}));
    if (!children.back()) {
      error = absl::StrCat("cannot spawn ", s.counter_bin);
      return {};
    }
  }
  return children;
}

}  // namespace

Summary UdpRoundTrips(int round_trips) { return Summarize(UdpRoundTripSamples(round_trips)); }

std::vector<double> UdpRoundTripSamples(int round_trips) {
  namespace ip = boost::asio::ip;
  boost::asio::io_context io;
  const ip::udp::endpoint any(ip::make_address("127.0.0.1"), 0);
  ip::udp::socket echo(io, any), ping(io, any);
  const ip::udp::endpoint echo_at = echo.local_endpoint();
  std::thread echoer([&echo] {
    char buf[2048];
    ip::udp::endpoint from;
    while (true) {
      const std::size_t n = echo.receive_from(boost::asio::buffer(buf), from);
      if (n == 0) return;  // the end marker
      echo.send_to(boost::asio::buffer(buf, n), from);
    }
  });
  const std::string payload(kUdpPayloadBytes, 'p');
  char buf[2048];
  std::vector<double> samples;
  samples.reserve(static_cast<std::size_t>(round_trips));
  const int warmup = std::max(100, round_trips / 20);
  for (int i = 0; i < warmup + round_trips; ++i) {
    const Clock::time_point start = Clock::now();
    ping.send_to(boost::asio::buffer(payload), echo_at);
    ping.receive(boost::asio::buffer(buf));
    if (i >= warmup) samples.push_back(MicrosSince(start));
  }
  ping.send_to(boost::asio::buffer(payload.data(), 0), echo_at);
  echoer.join();
  return samples;
}

Phase Uncontended(Node& node, int iterations) {
  uint64_t ignored_failures = 0;
  std::string ignored;
  std::vector<double> warmup;
  for (int i = 0; i < std::max(50, iterations / 10); ++i) {
    Cycle(node, absl::StrCat("w/", i), warmup, ignored_failures, ignored);
  }
  Phase p{.name = "uncontended"};
  const Metrics before = node.GetMetrics();
  std::vector<double> samples;
  const Clock::time_point start = Clock::now();
  for (int i = 0; i < iterations; ++i) {
    if (Cycle(node, absl::StrCat("u/", i), samples, p.failures, p.first_error)) ++p.cycles;
  }
  p.seconds = MicrosSince(start) / 1e6;
  p.counters = Counters::Delta(before, node.GetMetrics());
  p.acquire = Summarize(std::move(samples));
  return p;
}

Phase Concurrent(Node& node, std::string name, int callers, std::chrono::seconds length,
                 const std::function<std::string(int, uint64_t)>& resource) {
  std::vector<PerCaller> per(static_cast<std::size_t>(callers));
  std::latch go(1);
  Clock::time_point start, deadline;
  std::vector<std::thread> threads;
  for (int c = 0; c < callers; ++c) {
    threads.emplace_back([&, c] {
      PerCaller& me = per[static_cast<std::size_t>(c)];
      go.wait();
      for (uint64_t k = 0; Clock::now() < deadline; ++k) {
        if (Cycle(node, resource(c, k), me.samples, me.failures, me.first_error)) ++me.cycles;
      }
    });
  }
  const Metrics before = node.GetMetrics();
  start = Clock::now();
  deadline = start + length;
  go.count_down();
  for (std::thread& t : threads) t.join();
  Phase p{.name = std::move(name)};
  p.seconds = MicrosSince(start) / 1e6;
  p.counters = Counters::Delta(before, node.GetMetrics());
  Merge(per, p);
  return p;
}

absl::StatusOr<Phase> ContentionAcrossProcesses(Node& node, const CrossProcessSetup& setup,
                                                CrossProcess& cross,
                                                std::vector<std::string>& child_log) {
  cross.n0_callers = setup.n0_callers;
  cross.child_callers = setup.child_callers;
  cross.child_increments = setup.child_increments;
  ::unlink(setup.counter_path.c_str());
  std::string error;
  std::vector<std::unique_ptr<Child>> children = SpawnNonVoters(setup, error);
  if (children.empty()) return absl::InternalError(error);
  for (std::size_t i = 0; i < children.size(); ++i) {
    if (!children[i]->WaitLine("READY", kChildReadyBound)) {
      return absl::UnavailableError(absl::StrCat("n", 3 + i, " did not print READY:\n  ",
                                                 absl::StrJoin(children[i]->Lines(), "\n  ")));
    }
  }
  // n0's callers count a grant only if it came before both children were done.
  std::vector<PerCaller> per(static_cast<std::size_t>(setup.n0_callers));
  std::atomic<bool> stop{false};
  std::latch go(1);
  std::vector<std::thread> threads;
  for (std::size_t c = 0; c < per.size(); ++c) {
    threads.emplace_back([&, c] {
      go.wait();
      CycleUntilStopped(node, "counter", stop, per[c]);
    });
  }
  Phase p{.name = "across processes"};
  const Metrics before = node.GetMetrics();
  const Clock::time_point start = Clock::now();
  go.count_down();
  // The children print a line per grant: read them all the while, or a full pipe would stall
  // a child between its increment and its GRANTED line.
  std::vector<std::thread> drains;
  for (auto& child : children) drains.emplace_back([&child] { child->Drain(); });
  // The children started when they printed READY; count only their grants within the phase.
  auto child_grants = [&children] {
    uint64_t n = 0;
    for (auto& child : children) {
      for (const std::string& line : child->Lines()) n += line.rfind("GRANTED ", 0) == 0;
    }
    return n;
  };
  const uint64_t grants_before = child_grants();
  // A fixed-length phase like the others (the children stop when they are terminated).
  std::this_thread::sleep_for(std::chrono::seconds(setup.seconds));
  cross.child_grants_in_phase = child_grants() - grants_before;
  stop.store(true);
  p.seconds = MicrosSince(start) / 1e6;
  p.counters = Counters::Delta(before, node.GetMetrics());
  for (std::thread& t : threads) t.join();
  Merge(per, p);

  std::vector<double> waits;  // n0's and the children's
  for (PerCaller& c : per) waits.insert(waits.end(), c.samples.begin(), c.samples.end());
  std::vector<int> statuses;
  for (auto& child : children) statuses.push_back(child->Terminate(kChildExitBound));
  for (std::thread& d : drains) d.join();  // each ends when its child has exited
  for (std::size_t i = 0; i < children.size(); ++i) {
    const int status = statuses[i];
    const std::string name = absl::StrCat("n", 3 + i);
    TallyChildLines(name, children[i]->Lines(), cross, waits, child_log);
    if (status != 0) child_log.push_back(absl::StrCat(name, ": exit status ", status));
  }
  cross.wait = Summarize(std::move(waits));
  cross.counter_value = CounterValue(setup.counter_path);
  ::unlink(setup.counter_path.c_str());
  return p;
}

}  // namespace lockmesh::bench
