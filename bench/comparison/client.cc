#include "bench/comparison/client.h"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <iostream>
#include <latch>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"

namespace lockmesh::bench::comparison {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

std::mutex g_out;

void Say(const std::string& line) {
  std::lock_guard lock(g_out);
  std::fputs((line + "\n").c_str(), stdout);
  std::fflush(stdout);
}

std::string ErrorSuffix(const absl::Status& s) {
  if (s.ok()) return "";
  std::string text(s.ToString());
  for (char& ch : text) {
    if (ch == '\n') ch = ' ';
  }
  return " error=" + text;
}

// Blocks until the driver closes stdin (or dies: then the kernel kills us anyway).
void WaitForStdinEnd() {
  std::string line;
  while (std::getline(std::cin, line)) {
  }
}

// cycle: Acquire + Release until the end of the run; grants and their acquire latency count
// only once the warm-up is over and the acquire finished before the end.
void Cycle(const ClientSpec& spec, int c, Locker& locker, Clock::time_point counted_from,
           Clock::time_point end) {
  uint64_t grants = 0, failures = 0;
  absl::Status first_error;
  std::vector<double> samples;
  for (uint64_t k = 0; Clock::now() < end; ++k) {
    const std::string resource =
        spec.pattern == "each" ? absl::StrCat(spec.prefix, "/", c, "/", k) : spec.prefix;
    const Clock::time_point start = Clock::now();
    const absl::Status got = locker.Acquire(resource, spec.wait);
    const Clock::time_point granted = Clock::now();
    if (!got.ok()) {
      if (failures++ == 0) first_error = got;
      continue;
    }
    if (start >= counted_from && granted <= end) {
      ++grants;
      samples.push_back(std::chrono::duration<double, std::micro>(granted - start).count());
    }
    if (absl::Status released = locker.Release(); !released.ok()) {
      if (failures++ == 0) first_error = released;
    }
  }
  Say(absl::StrCat("CALLER ", c, " grants=", grants, " failures=", failures,
                   ErrorSuffix(first_error)));
  constexpr std::size_t kPerLine = 400;
  for (std::size_t i = 0; i < samples.size(); i += kPerLine) {
    std::string line = absl::StrCat("SAMPLES ", c);
    for (std::size_t j = i; j < std::min(samples.size(), i + kPerLine); ++j) {
      char buf[32];
      std::snprintf(buf, sizeof buf, " %.1f", samples[j]);
      line += buf;
    }
    Say(line);
  }
}

// check: increments of a plain counter file under the lock, with a yield between the read
// and the write. The file has no lock of its own: two holders at once lose an increment.
void Check(const ClientSpec& spec, int c, Locker& locker) {
  uint64_t done = 0, failures = 0;
  absl::Status first_error;
  for (int i = 0; i < spec.increments; ++i) {
    if (absl::Status got = locker.Acquire(spec.prefix, spec.wait); !got.ok()) {
      if (failures++ == 0) first_error = got;
      continue;
    }
    const int fd = ::open(spec.counter_file.c_str(), O_RDWR | O_CREAT, 0644);
    char buf[32] = {};
    uint64_t value = 0;
    if (fd >= 0 && ::pread(fd, buf, sizeof buf - 1, 0) > 0) std::sscanf(buf, "%" SCNu64, &value);
    sched_yield();  // widen the window a second holder would fall into
    const std::string text = absl::StrCat(value + 1, "\n");
    const bool wrote =
        fd >= 0 && ::pwrite(fd, text.data(), text.size(), 0) == static_cast<ssize_t>(text.size());
    if (fd >= 0) ::close(fd);
    done += wrote;
    if (absl::Status released = locker.Release(); !released.ok()) {
      if (failures++ == 0) first_error = released;
    }
  }
  Say(absl::StrCat("CHECKED ", c, " done=", done, " failures=", failures,
                   ErrorSuffix(first_error)));
}

// many: `count` leases held at once by this caller; stops at the first refusal or at the end
// of the run.
void Many(const ClientSpec& spec, int c, Locker& locker, Clock::time_point end) {
  int held = 0;
  absl::Status stopped;
  for (; held < spec.count; ++held) {
    if (Clock::now() > end) {
      stopped = absl::DeadlineExceededError("time bound reached");
      break;
    }
    stopped = locker.Hold(absl::StrCat(spec.prefix, "/", c, "/", held), spec.lock.ttl);
    if (!stopped.ok()) break;
  }
  Say(absl::StrCat("HELD ", c, " count=", held, ErrorSuffix(stopped)));
}

void WaitOne(const ClientSpec& spec, int c, Locker& locker) {
  Say(absl::StrCat("WAITING ", c));
  const absl::Status got = locker.Acquire(spec.prefix, spec.wait);
  const int64_t now_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
  if (!got.ok()) {
    Say(absl::StrCat("CALLER ", c, " grants=0 failures=1", ErrorSuffix(got)));
    return;
  }
  Say(absl::StrCat("GRANTED ", c, " mono_ns=", now_ns));
  locker.Release().IgnoreError();
}

}  // namespace

int RunClient(const ClientSpec& spec) {
  absl::StatusOr<std::unique_ptr<Clients>> clients =
      MakeClients(spec.system, spec.endpoints, spec.lock);
  if (!clients.ok()) {
    Say("FAILED " + clients.status().ToString());
    return 1;
  }
  std::vector<std::unique_ptr<Locker>> lockers;
  for (int c = 0; c < spec.callers; ++c) {
    absl::StatusOr<std::unique_ptr<Locker>> l = (*clients)->NewLocker();
    if (!l.ok()) {
      Say("FAILED " + l.status().ToString());
      return 1;
    }
    lockers.push_back(*std::move(l));
  }
  Say("READY");
  std::string go;
  if (!std::getline(std::cin, go) || go != "GO") return 1;

  if (spec.workload == "hold_one") {
    if (absl::Status got = lockers[0]->Acquire(spec.prefix, spec.wait); !got.ok()) {
      Say("FAILED " + got.ToString());
      return 1;
    }
    Say("HOLDING");
    WaitForStdinEnd();
    return 0;
  }
  const Clock::time_point counted_from = Clock::now() + spec.warmup;
  const Clock::time_point end = counted_from + spec.run;
  // The callers of "cycle" stay alive until stdin closes: the driver reads every thread's CPU
  // time from /proc at the end of the window (cpu_usage.h), and a thread that exited takes
  // its time with it.
  const bool keep_callers = spec.workload == "cycle";
  std::latch finished(spec.callers), may_exit(1);
  std::vector<std::thread> threads;
  for (int c = 0; c < spec.callers; ++c) {
    Locker& l = *lockers[static_cast<std::size_t>(c)];
    threads.emplace_back([&, &locker = l, c] {
      if (spec.workload == "cycle") Cycle(spec, c, locker, counted_from, end);
      if (spec.workload == "check") Check(spec, c, locker);
      if (spec.workload == "many") Many(spec, c, locker, end);
      if (spec.workload == "wait_one") WaitOne(spec, c, locker);
      finished.count_down();
      if (keep_callers) may_exit.wait();
    });
  }
  finished.wait();
  Say("DONE");
  if (keep_callers) WaitForStdinEnd();
  may_exit.count_down();
  for (std::thread& t : threads) t.join();
  // The many-held leases stay held until the driver has measured the servers.
  if (spec.workload == "many") WaitForStdinEnd();
  return 0;
}

}  // namespace lockmesh::bench::comparison
