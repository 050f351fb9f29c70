// The machine-readable and the visual forms of the report: JSON (every figure of the tables,
// per system and per round) and a self-contained HTML page with one SVG chart per workload
// showing each system's latency distribution as a CDF on a logarithmic axis.
#include <algorithm>
#include <cmath>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "bench/comparison/report.h"

namespace lockmesh::bench::comparison {
namespace {

std::string Quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) {
      out += ' ';
      continue;
    }
    out += c;
  }
  return out + "\"";
}

std::string Num(double v) { return std::isfinite(v) ? absl::StrFormat("%.3f", v) : "null"; }

std::string DistributionJson(const Distribution& d) {
  return absl::StrCat("{\"count\":", d.count, ",\"p50_us\":", Num(d.p50),
                      ",\"p99_us\":", Num(d.p99), ",\"p999_us\":", Num(d.p999),
                      ",\"mean_us\":", Num(d.mean), ",\"max_us\":", Num(d.max), "}");
}

std::string RunJson(const Run& r) {
  std::vector<std::string> before, after, takeover;
  for (int64_t b : r.rss_before) before.push_back(absl::StrCat(b));
  for (int64_t a : r.rss_after) after.push_back(absl::StrCat(a));
  return absl::StrCat("{\"error\":", Quote(r.error), ",\"load1\":", Num(r.load1),
                      ",\"seconds\":", Num(r.seconds), ",\"grants\":", r.grants,
                      ",\"failures\":", r.failures, ",\"first_error\":", Quote(r.first_error),
                      ",\"latency\":", DistributionJson(Distribution::Of(r.samples)),
                      ",\"jain_callers\":", Num(JainIndex(r.per_caller)),
                      ",\"jain_processes\":", Num(JainIndex(r.per_process)), ",\"held\":", r.held,
                      ",\"target\":", r.target, ",\"held_stop\":", Quote(r.held_stop),
                      ",\"rss_before\":[", absl::StrJoin(before, ","), "],\"rss_after\":[",
                      absl::StrJoin(after, ","), "],\"takeover_ms\":", Num(r.takeover_ms),
                      ",\"cpu_ns\":", r.cpu_ns, ",\"context_switches\":", r.context_switches,
                      ",\"cpu_vanished_pids\":[", absl::StrJoin(r.cpu_vanished, ","),
                      "],\"cpu_threads_exited\":", r.cpu_threads_exited, "}");
}

std::string MergedJson(const Merged& m) {
  return absl::StrCat(
      "{\"rounds_ok\":", m.rounds_ok, ",\"error\":", Quote(m.error),
      ",\"latency\":", DistributionJson(m.latency), ",\"rate_per_s\":", Num(m.rate),
      ",\"failures\":", m.failures, ",\"jain_callers\":", Num(m.jain_callers),
      ",\"jain_processes\":", Num(m.jain_processes), ",\"callers_min\":", Num(m.callers.min),
      ",\"callers_max\":", Num(m.callers.max), ",\"processes_min\":", Num(m.processes.min),
      ",\"processes_max\":", Num(m.processes.max),
      ",\"bytes_per_lease_mean\":", Num(m.bytes_per_lease_mean),
      ",\"bytes_per_lease_max\":", Num(m.bytes_per_lease_max), ",\"held\":", m.held,
      ",\"target\":", m.target, ",\"cpu_us_per_cycle\":", Num(m.cpu_us_per_cycle),
      ",\"context_switches_per_cycle\":", Num(m.switches_per_cycle), ",\"cpu_vanished_pids\":[",
      absl::StrJoin(m.cpu_vanished, ","), "],\"cpu_threads_exited\":", m.cpu_threads_exited, "}");
}

// A system's CDF as at most `points` (latency, fraction) pairs.
std::vector<std::pair<double, double>> Cdf(std::vector<double> samples, std::size_t points) {
  std::sort(samples.begin(), samples.end());
  std::vector<std::pair<double, double>> out;
  if (samples.empty()) return out;
  const std::size_t step = std::max<std::size_t>(1, samples.size() / points);
  for (std::size_t i = 0; i < samples.size(); i += step) {
    out.emplace_back(samples[i], static_cast<double>(i + 1) / samples.size());
  }
  out.emplace_back(samples.back(), 1.0);
  return out;
}

constexpr const char* kColors[] = {"#d62728", "#1f77b4", "#2ca02c",
                                   "#9467bd", "#ff7f0e", "#8c564b"};

std::string Chart(const Results& r, Workload w) {
  constexpr double kW = 720, kH = 300, kLeft = 60, kBottom = 40, kTop = 10, kRight = 150;
  std::map<std::string, std::vector<double>> series;
  for (const auto& [system, runs] : r.runs.at(w)) {
    for (const Run& run : runs) {
      series[system].insert(series[system].end(), run.samples.begin(), run.samples.end());
    }
  }
  if (w == Workload::kUncontended) series["udp floor"] = r.udp_samples;
  double lo = 1e18, hi = 0;
  for (const auto& [name, s] : series) {
    for (double v : s) {
      if (v > 0) lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  }
  if (hi <= 0) return "<p>no samples</p>";
  const double l0 = std::floor(std::log10(lo)), l1 = std::ceil(std::log10(hi));
  auto x = [&](double v) {
    return kLeft +
           (std::log10(std::max(v, lo)) - l0) / std::max(1.0, l1 - l0) * (kW - kLeft - kRight);
  };
  auto y = [&](double f) { return kTop + (1 - f) * (kH - kTop - kBottom); };
  std::string svg = absl::StrFormat(
      "<svg xmlns='http://www.w3.org/2000/svg' width='%.0f' height='%.0f' font-size='11'>", kW, kH);
  for (double d = l0; d <= l1; ++d) {
    absl::StrAppendFormat(&svg,
                          "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#ddd'/>"
                          "<text x='%.1f' y='%.1f' text-anchor='middle'>%s us</text>",
                          x(std::pow(10, d)), y(1), x(std::pow(10, d)), y(0), x(std::pow(10, d)),
                          kH - kBottom + 15, absl::StrFormat("%g", std::pow(10, d)));
  }
  for (double f : {0.0, 0.5, 0.99, 1.0}) {
    absl::StrAppendFormat(&svg,
                          "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#eee'/>"
                          "<text x='%.1f' y='%.1f' text-anchor='end'>%.2f</text>",
                          kLeft, y(f), kW - kRight, y(f), kLeft - 4, y(f) + 4, f);
  }
  int i = 0;
  for (const auto& [name, s] : series) {
    const char* color = kColors[i % 6];
    std::string points;
    for (const auto& [v, f] : Cdf(s, 400)) absl::StrAppendFormat(&points, "%.1f,%.1f ", x(v), y(f));
    absl::StrAppendFormat(&svg,
                          "<polyline fill='none' stroke='%s' stroke-width='1.5' points='%s'/>"
                          "<text x='%.1f' y='%.1f' fill='%s'>%s (%zu)</text>",
                          color, points, kW - kRight + 8, kTop + 14 * (i + 1), color, name,
                          s.size());
    ++i;
  }
  return svg + "</svg>";
}

}  // namespace

bool WriteJson(const Results& r, const std::string& path) {
  std::ofstream out(path);
  const Distribution udp = Distribution::Of(r.udp_samples);
  std::vector<std::string> skipped, workloads;
  for (const auto& [s, why] : r.skipped) skipped.push_back(Quote(s) + ":" + Quote(why));
  for (const auto& [w, by_system] : r.runs) {
    std::vector<std::string> systems;
    for (const auto& [s, runs] : by_system) {
      std::vector<std::string> rounds;
      for (const Run& run : runs) rounds.push_back(RunJson(run));
      systems.push_back(absl::StrCat(Quote(s), ":{\"merged\":", MergedJson(Merge(runs)),
                                     ",\"rounds\":[", absl::StrJoin(rounds, ","), "]}"));
    }
    std::vector<std::string> loads;
    if (r.round_load1.count(w)) {
      for (double l : r.round_load1.at(w)) loads.push_back(Num(l));
    }
    workloads.push_back(absl::StrCat(Quote(WorkloadName(w)), ":{\"load1_per_round\":[",
                                     absl::StrJoin(loads, ","), "],\"systems\":{",
                                     absl::StrJoin(systems, ","), "}}"));
  }
  out << "{\"quick\":" << (r.quick ? "true" : "false") << ",\"rounds\":" << r.rounds
      << ",\"seconds\":" << r.seconds << ",\"ttl_ms\":" << r.ttl_ms << ",\"many\":" << r.many
      << ",\"udp_round_trip\":" << DistributionJson(udp) << ",\"skipped\":{"
      << absl::StrJoin(skipped, ",") << "},\"workloads\":{" << absl::StrJoin(workloads, ",")
      << "}}\n";
  return static_cast<bool>(out);
}

bool WriteHtml(const Results& r, const std::string& path) {
  std::ofstream out(path);
  out << "<!doctype html><html><head><meta charset='utf-8'><title>lockmesh comparison</title>"
         "<style>body{font-family:sans-serif;margin:2em}h2{font-size:1.1em}</style></head><body>"
      << "<h1>lockmesh and the lock services people run today</h1><p>"
      << (r.quick ? "--quick smoke run" : "full run") << ", " << r.rounds << " round(s), "
      << r.seconds << " s per system per round, TTL " << r.ttl_ms
      << " ms. Each chart: the fraction of acquires (or waits) done within a time, per system "
         "(all rounds), log scale.</p>";
  for (const auto& [s, why] : r.skipped) out << "<p>skipped " << s << ": " << why << "</p>";
  for (Workload w : kWorkloads) {
    if (!r.runs.count(w) || w == Workload::kManyHeld) continue;
    out << "<h2>" << WorkloadTitle(w) << "</h2>" << Chart(r, w);
  }
  out << "</body></html>\n";
  return static_cast<bool>(out);
}

}  // namespace lockmesh::bench::comparison
