#include "bench/cluster_report.h"

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>

#include "absl/strings/str_cat.h"

namespace lockmesh::bench {
namespace {

constexpr std::size_t kPhases = 4;

void PrintRow(const std::string& what, const Summary& s, const std::string& rate) {
  std::printf("%-42s %7zu %9.1f %9.1f %9.1f %10.1f  %s\n", what.c_str(), s.count, s.p50, s.p99,
              s.mean, s.max, rate.c_str());
}

std::string Fixed2(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

double Ratio(uint64_t a, uint64_t b) {
  return b == 0 ? 0.0 : static_cast<double>(a) / static_cast<double>(b);
}

std::string PerSecond(double rate, const char* unit) {
  return absl::StrCat(static_cast<int64_t>(rate), " ", unit, "/s");
}

void PrintLatencies(const Report& r) {
  const Phase& u = r.phases[0];
  const Phase& t = r.phases[1];
  const Phase& h = r.phases[2];
  const Phase& x = r.phases[3];
  const CrossProcess& c = r.cross;
  std::printf(
      "\nlockmesh cluster benchmark: 3 voters on 127.0.0.1, Timing::kLocal; n0 in this process,\n"
      "n1 and n2 lockmesh-example-counter processes that only vote. In the first three phases\n"
      "all %d callers run in n0 (contention: handoffs among one node's callers through the\n"
      "voters). Across processes: %d callers in n0 and %d in each of two non-voter processes\n"
      "n3, n4 (%d increments each) race for one resource.\n"
      "phases %d s, lease 5 s, wait 30 s%s\n\n",
      r.callers, c.n0_callers, c.child_callers, c.child_increments, r.seconds,
      r.quick ? " (--quick)" : "");
  std::printf("%-42s %7s %9s %9s %9s %10s  %s\n", "latency (us)", "count", "p50", "p99", "mean",
              "max", "rate");
  PrintRow("udp round trip, 100 B (floor)", r.udp, "");
  PrintRow("acquire, uncontended, sequential", u.acquire, PerSecond(u.Rate(), "cycles"));
  PrintRow(absl::StrCat("acquire, ", r.callers, " callers, own resources"), t.acquire,
           PerSecond(t.Rate(), "cycles"));
  PrintRow(absl::StrCat("wait, ", r.callers, " callers, one resource"), h.acquire,
           PerSecond(h.Rate(), "handoffs"));
  const int everyone = c.n0_callers + 2 * c.child_callers;
  PrintRow(
      absl::StrCat("wait, ", everyone, " callers on 3 nodes, one res."), c.wait,
      PerSecond(x.seconds > 0 ? static_cast<double>(c.Handoffs(x)) / x.seconds : 0, "handoffs"));
  PrintRow(absl::StrCat("  of which n0's ", c.n0_callers, " callers"), x.acquire, "");
  std::printf("\nuncontended acquire p50 / udp round trip p50: %.1fx\n",
              r.udp.p50 > 0 ? u.acquire.p50 / r.udp.p50 : 0.0);

  std::printf("\nacross processes: %" PRIu64 " handoffs in %.2f s (n0 %" PRIu64 ", n3+n4 %" PRIu64
              ")\n",
              c.Handoffs(x), x.seconds, x.cycles, c.child_grants_in_phase);
  const uint64_t n0_messages = x.counters.messages_sent + x.counters.messages_received;
  std::printf("  n0 messages sent+received per n0 grant: %s (per handoff, all nodes: %s)\n",
              Fixed2(Ratio(n0_messages, x.cycles)).c_str(),
              Fixed2(Ratio(n0_messages, c.Handoffs(x))).c_str());
  std::printf("  counter file %" PRIu64 ", children's GRANTED %" PRIu64 ": %s; fenced %" PRIu64
              ", failed %" PRIu64 "\n",
              c.counter_value, c.child_grants,
              c.counter_value == c.child_grants ? "equal" : "MISMATCH", c.child_fenced,
              c.child_failed);
}

void PrintN0Metrics(const Report& r) {
  std::printf("\nn0 metrics, per phase (n0 only; the children's are not visible here)\n");
  std::printf("%-28s %14s %14s %14s %14s\n", "", "uncontended", "throughput", "contention",
              "across procs");
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
  row("messages per datagram sent",
      [](const Phase& p) { return Fixed2(p.counters.MessagesPerDatagram()); });
  row("datagrams sent per cycle",
      [](const Phase& p) { return Fixed2(Ratio(p.counters.datagrams_sent, p.cycles)); });
  row("bytes sent", [](const Phase& p) { return p.counters.bytes_sent; });
  row("attempts", [](const Phase& p) { return p.counters.attempts; });
  row("attempts failed", [](const Phase& p) { return p.counters.attempts_failed; });
  row("  of which queued (held)", [](const Phase& p) { return p.counters.attempts_queued; });
  row("grants at release", [](const Phase& p) { return p.counters.grants_at_release; });
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
}

void PrintLogs(const Report& r) {
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
      ", \"attempts_queued\": ", c.attempts_queued,
      ", \"grants_at_release\": ", c.grants_at_release,
      ", \"acquires_succeeded\": ", c.acquires_succeeded,
      ", \"acquires_failed\": ", c.acquires_failed,
      ", \"acquires_timed_out\": ", c.acquires_timed_out, ", \"releases\": ", c.releases,
      ", \"send_errors\": ", c.send_errors, ", \"dropped\": ", c.dropped,
      ", \"breaker_opens\": ", c.breaker_opens, "}}");
}

std::string Json(const CrossProcess& c, const Phase& n0) {
  const uint64_t n0_messages = n0.counters.messages_sent + n0.counters.messages_received;
  return absl::StrCat(
      "{\"n0_callers\": ", c.n0_callers, ", \"child_callers\": ", c.child_callers,
      ", \"child_increments\": ", c.child_increments, ", \"handoffs\": ", c.Handoffs(n0),
      ", \"n0_grants\": ", n0.cycles, ", \"child_grants\": ", c.child_grants_in_phase,
      ", \"seconds\": ", n0.seconds, ", \"handoffs_per_second\": ",
      n0.seconds > 0 ? static_cast<double>(c.Handoffs(n0)) / n0.seconds : 0.0,
      ",\n    \"wait\": ", Json(c.wait),
      ", \"n0_messages_per_n0_grant\": ", Ratio(n0_messages, n0.cycles),
      ", \"n0_messages_per_handoff\": ", Ratio(n0_messages, c.Handoffs(n0)),
      ", \"counter_value\": ", c.counter_value, ", \"child_fenced\": ", c.child_fenced,
      ", \"child_failed\": ", c.child_failed, ",\n    \"n0_phase\": ", Json(n0), "}");
}

}  // namespace

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

Counters Counters::Of(const Metrics& m) {
  uint64_t dropped = m.dropped_voter_set_mismatch + m.dropped_misaddressed + m.dropped_unroutable;
  for (const DatagramDropReason& r : kDatagramDropReasons) dropped += m.*(r.counter);
  return {m.datagrams_sent,    m.datagrams_received, m.messages_sent,   m.messages_received,
          m.bytes_sent,        m.attempts,           m.attempts_failed, m.attempts_queued,
          m.grants_at_release, m.acquires_succeeded, m.acquires_failed, m.acquires_timed_out,
          m.releases,          m.send_errors,        dropped,           m.breaker_opens,
          m.members_alive,     m.members_suspect};
}

Counters Counters::Delta(const Metrics& before, const Metrics& after) {
  const Counters a = Of(after), b = Of(before);
  Counters d = a;
  d.datagrams_sent -= b.datagrams_sent;
  d.datagrams_received -= b.datagrams_received;
  d.messages_sent -= b.messages_sent;
  d.messages_received -= b.messages_received;
  d.bytes_sent -= b.bytes_sent;
  d.attempts -= b.attempts;
  d.attempts_failed -= b.attempts_failed;
  d.attempts_queued -= b.attempts_queued;
  d.grants_at_release -= b.grants_at_release;
  d.acquires_succeeded -= b.acquires_succeeded;
  d.acquires_failed -= b.acquires_failed;
  d.acquires_timed_out -= b.acquires_timed_out;
  d.releases -= b.releases;
  d.send_errors -= b.send_errors;
  d.dropped -= b.dropped;
  d.breaker_opens -= b.breaker_opens;
  return d;
}

void PrintTable(const Report& r) {
  if (r.phases.size() != kPhases) return;
  PrintLatencies(r);
  PrintN0Metrics(r);
  PrintLogs(r);
}

bool WriteJson(const Report& r, const std::string& path) {
  if (r.phases.size() != kPhases) return false;
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
      ",\n  \"contention_across_processes\": ", Json(r.cross, r.phases[3]),
      ",\n  \"n0_log_events\": {", events, "},\n  \"child_log_lines\": ", r.child_log.size(),
      "\n}\n");
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) return false;
  const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  return std::fclose(f) == 0 && ok;
}

}  // namespace lockmesh::bench
