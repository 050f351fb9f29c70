// bench_cluster: what leases cost on a real three-voter cluster over loopback, next to the
// floor the network sets. Raw figures only, no pass/fail: machines are shared and noisy, so
// compare the ratios within one run.
//
//   bench/cluster                 # 5 s timed phases
//   bench/cluster --quick         # 1 s phases, fewer iterations: a smoke run
//   bench/cluster --seconds=10 --callers=32 --json=/tmp/cluster.json
//
// Layout: voters n1 and n2 are lockmesh-example-counter processes in serve mode (no
// increments), n0 is a lockmesh::Node in this process; all three bootstrap with
// Timing::kLocal and one freshly generated key. Every caller runs in n0, so the remote
// voters only vote. Measured, in order:
//   1. udp round trip: plain ping-pong of 100-byte datagrams between two sockets on
//      127.0.0.1 (echo on another thread), before the cluster starts: the floor;
//   2. uncontended: sequential Acquire + Release on distinct resources (Acquire timed);
//   3. throughput: `callers` threads, each Acquire + Release on resources of its own;
//   4. contention: `callers` threads on one resource. They all run in n0, which queues
//      requests for one resource locally, so this measures handoffs among callers of one
//      node through the voters, not a race between nodes.
// n0's metrics (deltas per phase) say how many datagrams and protocol attempts it took.
// clang-format off: Boost 1.74's awaitable.hpp needs <utility> first under GCC 12.
#include <utility>
// clang-format on

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <latch>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "lockmesh/lockmesh.h"

ABSL_FLAG(int, seconds, 5, "length of each timed phase (throughput, contention)");
ABSL_FLAG(int, callers, 16, "concurrent caller threads in the throughput and contention phases");
ABSL_FLAG(int, iterations, 3000, "sequential acquires in the uncontended phase");
ABSL_FLAG(int, round_trips, 20000, "UDP round trips for the floor");
ABSL_FLAG(bool, quick, false, "a smoke run: 1 s phases, a tenth of the iterations");
ABSL_FLAG(std::string, json, "", "also write the figures as JSON to this path");

extern char** environ;

namespace lockmesh::bench {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr auto kChildReadyBound = 60s;
constexpr auto kMembersAliveBound = 30s;
constexpr auto kChildExitBound = 15s;
constexpr int kVoters = 3;
constexpr std::size_t kUdpPayloadBytes = 100;
constexpr std::size_t kLogLinesKept = 20;
const AcquireOptions kAcquire{.duration = 5s, .wait = 30s};

double MicrosSince(Clock::time_point start) {
  return std::chrono::duration<double, std::micro>(Clock::now() - start).count();
}

// Exact quantiles of raw samples (µs), nearest rank.
struct Summary {
  std::size_t count = 0;
  double p50 = 0, p99 = 0, mean = 0, max = 0;
};

Summary Summarize(std::vector<double> samples) {
  Summary s;
  s.count = samples.size();
  if (samples.empty()) return s;
  std::sort(samples.begin(), samples.end());
  auto rank = [&](double q) {
    const auto i = static_cast<std::size_t>(std::ceil(q * static_cast<double>(s.count)));
    return samples[std::clamp<std::size_t>(i, 1, s.count) - 1];
  };
  s.p50 = rank(0.50);
  s.p99 = rank(0.99);
  s.max = samples.back();
  double sum = 0;
  for (double v : samples) sum += v;
  s.mean = sum / static_cast<double>(s.count);
  return s;
}

// ---- The floor: UDP ping-pong on loopback --------------------------------------------------

Summary UdpRoundTrips(int round_trips) {
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
  return Summarize(std::move(samples));
}

// ---- The child voters ----------------------------------------------------------------------

// One lockmesh-example-counter with stdout and stderr on a pipe, read line by line.
class Child {
 public:
  static std::unique_ptr<Child> Spawn(std::vector<std::string> args) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return nullptr;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = -1;
    const int err = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(fds[1]);
    if (err != 0) {
      ::close(fds[0]);
      return nullptr;
    }
    return std::unique_ptr<Child>(new Child(pid, fds[0]));
  }
  ~Child() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (fd_ >= 0) ::close(fd_);
  }

  // The first unread line starting with `prefix`, reading up to `bound`; nullopt on timeout
  // or end of output.
  std::optional<std::string> WaitLine(std::string_view prefix, Clock::duration bound) {
    const Clock::time_point until = Clock::now() + bound;
    while (true) {
      {
        std::lock_guard lock(mu_);
        while (next_ < lines_.size()) {
          const std::string& line = lines_[next_++];
          if (line.rfind(prefix, 0) == 0) return line;
        }
      }
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(until - Clock::now());
      if (left.count() <= 0 || !ReadSome(static_cast<int>(left.count()))) return std::nullopt;
    }
  }
  // Reads until the child closes its output (it exited). For a draining thread.
  void Drain() {
    while (ReadSome(-1)) {
    }
  }
  // SIGTERM, then the exit status within `bound` (SIGKILL after it); -1 unless it exited.
  int Terminate(Clock::duration bound) {
    if (pid_ <= 0) return -1;
    ::kill(pid_, SIGTERM);
    const Clock::time_point until = Clock::now() + bound;
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (Clock::now() > until) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(10ms);  // a benchmark's shutdown: polling is fine
    }
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  std::vector<std::string> Lines() const {
    std::lock_guard lock(mu_);
    return lines_;
  }

 private:
  Child(pid_t pid, int fd) : pid_(pid), fd_(fd) {}

  // Waits up to `timeout_ms` (-1: forever) for output and splits it into lines. False at
  // the end of output.
  bool ReadSome(int timeout_ms) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return timeout_ms != 0;
    char buf[4096];
    const ssize_t n = ::read(fd_, buf, sizeof(buf));
    if (n <= 0) return false;
    std::lock_guard lock(mu_);
    partial_.append(buf, static_cast<std::size_t>(n));
    for (std::size_t eol; (eol = partial_.find('\n')) != std::string::npos;) {
      lines_.push_back(partial_.substr(0, eol));
      partial_.erase(0, eol + 1);
    }
    return true;
  }

  pid_t pid_ = -1;
  int fd_ = -1;
  mutable std::mutex mu_;
  std::vector<std::string> lines_;
  std::size_t next_ = 0;
  std::string partial_;
};

// The children and the threads draining their output: on every way out, each child is
// stopped before its drain is joined.
struct Children {
  std::vector<std::unique_ptr<Child>> children;
  std::vector<std::thread> drains;
  ~Children() {
    for (std::size_t i = 0; i < drains.size(); ++i) {
      if (!drains[i].joinable()) continue;
      children[i]->Terminate(kChildExitBound);
      drains[i].join();
    }
  }
};

// Distinct free loopback ports, reserved together, then released for the nodes.
std::vector<std::string> FreeAddresses(int n) {
  boost::asio::io_context io;
  std::vector<boost::asio::ip::udp::socket> sockets;
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) {
    sockets.emplace_back(
        io, boost::asio::ip::udp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
    out.push_back(absl::StrCat("127.0.0.1:", sockets.back().local_endpoint().port()));
  }
  return out;
}

// 32 random bytes as 64 hex digits.
std::string NewKeyText() {
  unsigned char key[32];
  randombytes_buf(key, sizeof key);
  char hex[2 * sizeof key + 1];
  sodium_bin2hex(hex, sizeof hex, key, sizeof key);
  return hex;
}

// ---- n0's log records (warnings and up) ----------------------------------------------------

class LogTally {
 public:
  LogHook Hook() {
    return [this](const LogRecord& r) {
      std::lock_guard lock(mu_);
      ++by_event_[std::string(r.event)];
      if (kept_.size() < kLogLinesKept) {
        kept_.push_back(absl::StrCat(std::string(LogLevelName(r.level)), " ", std::string(r.event),
                                     ": ", r.message));
      }
    };
  }
  std::map<std::string, int> ByEvent() const {
    std::lock_guard lock(mu_);
    return by_event_;
  }
  std::vector<std::string> Kept() const {
    std::lock_guard lock(mu_);
    return kept_;
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, int> by_event_;
  std::vector<std::string> kept_;
};

// ---- The phases ----------------------------------------------------------------------------

// What n0 did during one phase.
struct Counters {
  uint64_t datagrams_sent = 0, datagrams_received = 0, messages_sent = 0, messages_received = 0,
           bytes_sent = 0, attempts = 0, attempts_failed = 0, acquires_succeeded = 0,
           acquires_failed = 0, acquires_timed_out = 0, releases = 0, send_errors = 0, dropped = 0,
           breaker_opens = 0;
  uint64_t members_alive = 0, members_suspect = 0;  // at the end

  static Counters Of(const Metrics& m) {
    return {m.datagrams_sent,
            m.datagrams_received,
            m.messages_sent,
            m.messages_received,
            m.bytes_sent,
            m.attempts,
            m.attempts_failed,
            m.acquires_succeeded,
            m.acquires_failed,
            m.acquires_timed_out,
            m.releases,
            m.send_errors,
            m.dropped_oversized + m.dropped_truncated + m.dropped_unknown_version +
                m.dropped_unknown_key + m.dropped_unauthenticated + m.dropped_replayed +
                m.dropped_malformed + m.dropped_voter_set_mismatch + m.dropped_misaddressed +
                m.dropped_unroutable,
            m.breaker_opens,
            m.members_alive,
            m.members_suspect};
  }
  static Counters Delta(const Metrics& before, const Metrics& after) {
    const Counters a = Of(after), b = Of(before);
    Counters d = a;
    d.datagrams_sent -= b.datagrams_sent;
    d.datagrams_received -= b.datagrams_received;
    d.messages_sent -= b.messages_sent;
    d.messages_received -= b.messages_received;
    d.bytes_sent -= b.bytes_sent;
    d.attempts -= b.attempts;
    d.attempts_failed -= b.attempts_failed;
    d.acquires_succeeded -= b.acquires_succeeded;
    d.acquires_failed -= b.acquires_failed;
    d.acquires_timed_out -= b.acquires_timed_out;
    d.releases -= b.releases;
    d.send_errors -= b.send_errors;
    d.dropped -= b.dropped;
    d.breaker_opens -= b.breaker_opens;
    return d;
  }
  double MessagesPerDatagram() const {
    return datagrams_sent == 0 ? 0 : static_cast<double>(messages_sent) / datagrams_sent;
  }
};

struct Phase {
  std::string name;
  Summary acquire;      // the blocking Acquire call, µs
  uint64_t cycles = 0;  // acquire + release done
  uint64_t failures = 0;
  std::string first_error;
  double seconds = 0;
  Counters counters;
  double Rate() const { return seconds > 0 ? static_cast<double>(cycles) / seconds : 0; }
};

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

// `callers` threads looping acquire + release for `seconds`; caller c's k-th resource is
// `resource(c, k)`. The rate counts what finished by the time the last caller stopped.
template <typename ResourceFn>
Phase Concurrent(Node& node, std::string name, int callers, int seconds, ResourceFn resource) {
  struct PerCaller {
    std::vector<double> samples;
    uint64_t cycles = 0, failures = 0;
    std::string first_error;
  };
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
  deadline = start + std::chrono::seconds(seconds);
  go.count_down();
  for (std::thread& t : threads) t.join();
  Phase p{.name = std::move(name)};
  p.seconds = MicrosSince(start) / 1e6;
  p.counters = Counters::Delta(before, node.GetMetrics());
  std::vector<double> samples;
  for (PerCaller& c : per) {
    samples.insert(samples.end(), c.samples.begin(), c.samples.end());
    p.cycles += c.cycles;
    if (p.failures == 0 && c.failures != 0) p.first_error = c.first_error;
    p.failures += c.failures;
  }
  p.acquire = Summarize(std::move(samples));
  return p;
}

// ---- Output --------------------------------------------------------------------------------

struct Report {
  int seconds = 0, callers = 0, iterations = 0, round_trips = 0;
  bool quick = false;
  Summary udp;
  std::vector<Phase> phases;  // uncontended, throughput, contention
  std::map<std::string, int> n0_events;
  std::vector<std::string> child_log;  // lines other than READY, DONE 0, STOPPED
};

void PrintRow(const char* what, const Summary& s, const std::string& rate) {
  std::printf("%-40s %7zu %9.1f %9.1f %9.1f %10.1f  %s\n", what, s.count, s.p50, s.p99, s.mean,
              s.max, rate.c_str());
}

void PrintTable(const Report& r) {
  const Phase& u = r.phases[0];
  const Phase& t = r.phases[1];
  const Phase& h = r.phases[2];
  std::printf(
      "\nlockmesh cluster benchmark: 3 voters on 127.0.0.1, Timing::kLocal; n0 in this process,\n"
      "n1 and n2 lockmesh-example-counter processes that only vote. All %d callers run in n0\n"
      "(the contention phase measures handoffs among one node's callers through the voters).\n"
      "phases %d s, lease 5 s, wait 30 s%s\n\n",
      r.callers, r.seconds, r.quick ? " (--quick)" : "");
  std::printf("%-40s %7s %9s %9s %9s %10s  %s\n", "latency (us)", "count", "p50", "p99", "mean",
              "max", "rate");
  PrintRow("udp round trip, 100 B (floor)", r.udp, "");
  PrintRow("acquire, uncontended, sequential", u.acquire,
           absl::StrCat(static_cast<int64_t>(u.Rate()), " cycles/s"));
  const std::string t_name = absl::StrCat("acquire, ", r.callers, " callers, own resources");
  PrintRow(t_name.c_str(), t.acquire, absl::StrCat(static_cast<int64_t>(t.Rate()), " cycles/s"));
  const std::string h_name = absl::StrCat("wait, ", r.callers, " callers, one resource");
  PrintRow(h_name.c_str(), h.acquire, absl::StrCat(static_cast<int64_t>(h.Rate()), " handoffs/s"));
  std::printf("\nuncontended acquire p50 / udp round trip p50: %.1fx\n",
              r.udp.p50 > 0 ? u.acquire.p50 / r.udp.p50 : 0.0);

  std::printf("\nn0 metrics, per phase (n0 only; the children's are not visible here)\n");
  std::printf("%-28s %14s %14s %14s\n", "", "uncontended", "throughput", "contention");
  auto row = [&](const char* what, auto get) {
    std::printf("%-28s", what);
    for (const Phase& p : r.phases) std::printf(" %14s", absl::StrCat(get(p)).c_str());
    std::printf("\n");
  };
  row("acquire+release cycles", [](const Phase& p) { return p.cycles; });
  row("caller-seen failures", [](const Phase& p) { return p.failures; });
  row("datagrams sent", [](const Phase& p) { return p.counters.datagrams_sent; });
  row("datagrams received", [](const Phase& p) { return p.counters.datagrams_received; });
  row("messages sent", [](const Phase& p) { return p.counters.messages_sent; });
  row("messages received", [](const Phase& p) { return p.counters.messages_received; });
  row("messages per datagram sent", [](const Phase& p) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f", p.counters.MessagesPerDatagram());
    return std::string(buf);
  });
  row("datagrams sent per cycle", [](const Phase& p) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f",
                  p.cycles ? static_cast<double>(p.counters.datagrams_sent) / p.cycles : 0.0);
    return std::string(buf);
  });
  row("bytes sent", [](const Phase& p) { return p.counters.bytes_sent; });
  row("attempts", [](const Phase& p) { return p.counters.attempts; });
  row("attempts failed", [](const Phase& p) { return p.counters.attempts_failed; });
  row("acquires succeeded", [](const Phase& p) { return p.counters.acquires_succeeded; });
  row("acquires failed", [](const Phase& p) { return p.counters.acquires_failed; });
  row("acquires timed out", [](const Phase& p) { return p.counters.acquires_timed_out; });
  row("releases", [](const Phase& p) { return p.counters.releases; });
  row("send errors", [](const Phase& p) { return p.counters.send_errors; });
  row("datagrams dropped", [](const Phase& p) { return p.counters.dropped; });
  row("breaker opens", [](const Phase& p) { return p.counters.breaker_opens; });
  row("members alive / suspect", [](const Phase& p) {
    return absl::StrCat(p.counters.members_alive, " / ", p.counters.members_suspect);
  });
  for (const Phase& p : r.phases) {
    if (!p.first_error.empty())
      std::printf("first error (%s): %s\n", p.name.c_str(), p.first_error.c_str());
  }
  std::printf("\nn0 log records (warning and up):%s\n", r.n0_events.empty() ? " none" : "");
  for (const auto& [event, n] : r.n0_events) std::printf("  %-30s %d\n", event.c_str(), n);
  std::printf("child log lines:%s\n", r.child_log.empty() ? " none" : "");
  for (std::size_t i = 0; i < r.child_log.size() && i < kLogLinesKept; ++i) {
    std::printf("  %s\n", r.child_log[i].c_str());
  }
  if (r.child_log.size() > kLogLinesKept) {
    std::printf("  ... %zu more\n", r.child_log.size() - kLogLinesKept);
  }
}

std::string Json(const Summary& s) {
  return absl::StrCat("{\"count\": ", s.count, ", \"p50_us\": ", s.p50, ", \"p99_us\": ", s.p99,
                      ", \"mean_us\": ", s.mean, ", \"max_us\": ", s.max, "}");
}

std::string Json(const Phase& p) {
  const Counters& c = p.counters;
  return absl::StrCat(
      "{\"acquire\": ", Json(p.acquire), ", \"cycles\": ", p.cycles, ", \"seconds\": ", p.seconds,
      ", \"per_second\": ", p.Rate(), ", \"failures\": ", p.failures,
      ",\n    \"n0\": {\"datagrams_sent\": ", c.datagrams_sent,
      ", \"datagrams_received\": ", c.datagrams_received, ", \"messages_sent\": ", c.messages_sent,
      ", \"messages_received\": ", c.messages_received,
      ", \"messages_per_datagram\": ", c.MessagesPerDatagram(), ", \"bytes_sent\": ", c.bytes_sent,
      ", \"attempts\": ", c.attempts, ", \"attempts_failed\": ", c.attempts_failed,
      ", \"acquires_succeeded\": ", c.acquires_succeeded,
      ", \"acquires_failed\": ", c.acquires_failed,
      ", \"acquires_timed_out\": ", c.acquires_timed_out, ", \"releases\": ", c.releases,
      ", \"send_errors\": ", c.send_errors, ", \"dropped\": ", c.dropped,
      ", \"breaker_opens\": ", c.breaker_opens, "}}");
}

bool WriteJson(const Report& r, const std::string& path) {
  std::string events;
  for (const auto& [event, n] : r.n0_events) {
    absl::StrAppend(&events, events.empty() ? "" : ", ", "\"", event, "\": ", n);
  }
  const std::string text = absl::StrCat(
      "{\n  \"config\": {\"seconds\": ", r.seconds, ", \"callers\": ", r.callers,
      ", \"iterations\": ", r.iterations, ", \"round_trips\": ", r.round_trips,
      ", \"quick\": ", r.quick ? "true" : "false",
      ", \"callers_in\": \"n0\", \"timing\": \"local\"},\n  \"udp_round_trip\": ", Json(r.udp),
      ",\n  \"uncontended\": ", Json(r.phases[0]), ",\n  \"ratio_uncontended_p50_to_udp_p50\": ",
      r.udp.p50 > 0 ? r.phases[0].acquire.p50 / r.udp.p50 : 0.0,
      ",\n  \"throughput\": ", Json(r.phases[1]), ",\n  \"contention\": ", Json(r.phases[2]),
      ",\n  \"n0_log_events\": {", events, "},\n  \"child_log_lines\": ", r.child_log.size(),
      "\n}\n");
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) return false;
  const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  return std::fclose(f) == 0 && ok;
}

// ---- The cluster ---------------------------------------------------------------------------

int Fail(const std::string& why) {
  std::fprintf(stderr, "bench_cluster: %s\n", why.c_str());
  return 1;
}

int Run(Report& report) {
  if (sodium_init() < 0) return Fail("libsodium did not initialize");
  std::printf("udp round trips...\n");
  std::fflush(stdout);
  report.udp = UdpRoundTrips(report.round_trips);

  const std::vector<std::string> addresses = FreeAddresses(kVoters);
  std::string voters;
  for (int i = 0; i < kVoters; ++i) {
    absl::StrAppend(&voters, i ? "," : "", "n", i, "@", addresses[i]);
  }
  const char* tmp = std::getenv("TMPDIR");
  const std::string key_path =
      absl::StrCat(tmp ? tmp : "/tmp", "/lockmesh-cluster-bench-", ::getpid(), ".key");
  const std::string key = NewKeyText();
  {
    const int fd = ::open(key_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const std::string line = key + "\n";
    const bool ok =
        fd >= 0 && ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
    if (fd >= 0) ::close(fd);
    if (!ok) return Fail(absl::StrCat("cannot write ", key_path));
  }
  absl::Cleanup remove_key = [&key_path] { ::unlink(key_path.c_str()); };

  Children group;
  std::vector<std::unique_ptr<Child>>& children = group.children;
  for (int i = 1; i < kVoters; ++i) {
    children.push_back(
        Child::Spawn({LOCKMESH_COUNTER_BIN, absl::StrCat("--name=n", i),
                      absl::StrCat("--bind=", addresses[i]), absl::StrCat("--voters=", voters),
                      "--cluster=cluster-bench", absl::StrCat("--key_file=", key_path),
                      "--timing=local", "--bootstrap", "--lease_max_ms=10000", "--log=warning"}));
    if (!children.back()) return Fail(absl::StrCat("cannot spawn ", LOCKMESH_COUNTER_BIN));
  }
  for (std::size_t i = 0; i < children.size(); ++i) {
    if (!children[i]->WaitLine("READY", kChildReadyBound)) {
      std::string out;
      for (const std::string& l : children[i]->Lines()) absl::StrAppend(&out, "\n  ", l);
      return Fail(absl::StrCat("n", i + 1, " did not print READY:", out));
    }
  }
  for (auto& c : children) group.drains.emplace_back([&c] { c->Drain(); });

  LogTally tally;
  NodeOptions options;
  options.name = "n0";
  options.bind_address = addresses[0];
  for (int i = 0; i < kVoters; ++i) options.voters.push_back({absl::StrCat("n", i), addresses[i]});
  options.cluster_name = "cluster-bench";
  options.keys = {key};
  options.timing = Timing::kLocal;
  options.bootstrap = true;
  options.lease_duration_max = 10s;
  options.log = tally.Hook();
  options.log_level = LogLevel::kWarning;
  absl::StatusOr<std::unique_ptr<Node>> node = Node::Start(options);
  if (!node.ok()) return Fail(absl::StrCat("n0 did not start: ", node.status().ToString()));

  const Clock::time_point joined_by = Clock::now() + kMembersAliveBound;
  while ((*node)->GetMetrics().members_alive < kVoters) {
    if (Clock::now() > joined_by) return Fail("the three voters did not see each other");
    std::this_thread::sleep_for(5ms);  // a benchmark's setup: polling is fine
  }

  std::printf("uncontended acquires...\n");
  std::fflush(stdout);
  report.phases.push_back(Uncontended(**node, report.iterations));
  std::printf("%d callers on their own resources for %d s...\n", report.callers, report.seconds);
  std::fflush(stdout);
  report.phases.push_back(
      Concurrent(**node, "throughput", report.callers, report.seconds,
                 [](int c, uint64_t k) { return absl::StrCat("d/", c, "/", k); }));
  std::printf("%d callers on one resource for %d s...\n", report.callers, report.seconds);
  std::fflush(stdout);
  report.phases.push_back(Concurrent(**node, "contention", report.callers, report.seconds,
                                     [](int, uint64_t) { return std::string("hot"); }));

  (*node)->Stop();
  report.n0_events = tally.ByEvent();
  for (std::size_t i = 0; i < children.size(); ++i) {
    const int status = children[i]->Terminate(kChildExitBound);
    group.drains[i].join();
    for (const std::string& l : children[i]->Lines()) {
      // READY, "DONE 0 fenced=0" (serve mode makes no increments) and STOPPED are expected.
      if (l.rfind("READY", 0) != 0 && l.rfind("DONE 0 ", 0) != 0 && l.rfind("STOPPED", 0) != 0) {
        report.child_log.push_back(absl::StrCat("n", i + 1, ": ", l));
      }
    }
    if (status != 0) {
      report.child_log.push_back(absl::StrCat("n", i + 1, ": exit status ", status));
    }
  }
  return 0;
}

}  // namespace
}  // namespace lockmesh::bench

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "lease latency and throughput on a 3-voter loopback cluster (bench/cluster)");
  absl::ParseCommandLine(argc, argv);
  lockmesh::bench::Report report;
  report.quick = absl::GetFlag(FLAGS_quick);
  report.seconds = report.quick ? 1 : std::max(1, absl::GetFlag(FLAGS_seconds));
  report.callers = std::max(1, absl::GetFlag(FLAGS_callers));
  const int scale = report.quick ? 10 : 1;
  report.iterations = std::max(100, absl::GetFlag(FLAGS_iterations) / scale);
  report.round_trips = std::max(1000, absl::GetFlag(FLAGS_round_trips) / scale);
  if (const int rc = lockmesh::bench::Run(report); rc != 0) return rc;
  lockmesh::bench::PrintTable(report);
  if (const std::string path = absl::GetFlag(FLAGS_json); !path.empty()) {
    if (!lockmesh::bench::WriteJson(report, path)) {
      std::fprintf(stderr, "bench_cluster: cannot write %s\n", path.c_str());
      return 1;
    }
    std::printf("\nJSON: %s\n", path.c_str());
  }
  return 0;
}
