#include "sim/report.h"

#include <algorithm>

#include "absl/strings/str_format.h"

namespace lockmesh::sim {

void PrintReport(const Scenario& scenario, uint64_t seed, const RunResult& r, std::ostream& out) {
  const RunStats& s = r.stats;
  out << "\n--- statistics ---\n";
  out << absl::StrFormat("virtual time %.3fs, %d events\n", s.virtual_us / 1e6, s.events);
  out << "messages sent:";
  for (int k = 0; k < core::kMessageKindCount; ++k) {
    out << " " << core::MessageKindName(k) << " " << s.sent[k];
  }
  out << absl::StrFormat(
      "\n  total %d (%d bytes); lost %d, duplicated %d, cut by partitions %d, "
      "to crashed nodes %d\n",
      s.MessagesSent(), s.bytes_sent, s.lost, s.duplicated, s.dropped_partition, s.dropped_down);
  out << absl::StrFormat(
      "leases: %d requests, %d grants, %d gave up, %d released, %d expired, %d renewals "
      "(%d failed)\n",
      s.acquires, s.grants, s.failures, s.releases, s.expiries, s.renewals, s.renewals_failed);
  // Messages per kind of operation: what one grant, renewal or release costs.
  auto per = [](uint64_t messages, uint64_t ops) {
    return ops == 0 ? 0.0 : static_cast<double>(messages) / static_cast<double>(ops);
  };
  const uint64_t lease_messages = LeaseMessages(s);
  out << absl::StrFormat(
      "per operation: grant %.2f acquire + %.2f acquire-reply; renewal %.2f renew + %.2f "
      "renew-reply; end (release or expiry) %.2f release + %.2f release-notice; all lease "
      "messages per grant %.2f\n",
      per(s.sent[0], s.grants), per(s.sent[1], s.grants), per(s.sent[2], s.renewals),
      per(s.sent[3], s.renewals), per(s.sent[4], s.releases + s.expiries),
      per(s.sent[5], s.releases + s.expiries), per(lease_messages, s.grants));
  if (lease_messages != s.MessagesSent()) {
    out << absl::StrFormat(
        "membership: %d messages, %d bytes\n", s.MessagesSent() - lease_messages,
        s.bytes_sent - [&] {
          uint64_t b = 0;
          for (int k = 0; k < 6; ++k) b += s.bytes_by_kind[k];
          return b;
        }());
  }
  // Progress while faults last, not only after (grants per second in each phase).
  if (scenario.actions.empty()) {
    out << absl::StrFormat("progress: %.1f grants/s (no faults)\n",
                           s.grants / (scenario.run_us / 1e6));
  } else {
    const PhaseRates rates = ProgressRates(scenario, r);
    out << absl::StrFormat(
        "progress: %.1f grants/s before the first fault, %.1f while faults last, %.1f after; "
        "longest without a holder while someone waited during faults %.2fs, while a waiting "
        "node could reach a majority (L2) %.2fs\n",
        rates.before, rates.during, rates.after, r.worst_gap_during_faults_us / 1e6,
        r.worst_progress_gap_us / 1e6);
  }
  if (!r.handoff_gaps_us.empty()) {
    std::vector<int64_t> gaps = r.handoff_gaps_us;
    std::sort(gaps.begin(), gaps.end());
    auto at = [&](double q) { return gaps[static_cast<std::size_t>(q * (gaps.size() - 1))] / 1e3; };
    out << absl::StrFormat(
        "handoffs (a lease ends while others wait): %d, gap to the next grant p50 %.2fms p99 "
        "%.2fms max %.2fms; lease messages per grant %.2f\n",
        gaps.size(), at(0.5), at(0.99), at(1.0), per(lease_messages, s.grants));
  }
  out << "fenced store:";
  if (r.store.empty()) out << " untouched";
  out << "\n";
  for (const auto& [name, reg] : r.store) {
    out << absl::StrFormat(
        "  %-10s version %d, %d writes, %d stale operations refused, "
        "highest token %s\n",
        name, reg.version, reg.writes, reg.refused, FormatToken(reg.highest));
  }
  out << "\n--- verdict ---\n";
  bool failed[6] = {};
  static constexpr const char* kProps[] = {"S1", "S2", "S3", "L1", "L2", "F1"};
  for (const Violation& v : r.violations) {
    out << absl::StrFormat("VIOLATION %s at %.3fs: %s\n", v.property, v.at_us / 1e6, v.detail);
    for (int i = 0; i < 6; ++i) failed[i] |= v.property == kProps[i];
  }
  // S1 needs clock rates within rho; S2 those and wall clocks within D_Q / 4 (sim/checker.h).
  const std::string s2_unchecked =
      !r.rates_in_bound   ? "a clock rate beyond rho"
      : !r.walls_in_bound ? absl::StrFormat("a wall clock %.3fs from true time, beyond D_Q/4",
                                            r.wall_offset_us_max / 1e6)
                          : "";
  for (int i = 0; i < 6; ++i) {
    out << kProps[i] << " ";
    if (i == 5) {
      // Judged before the first fault only (sim/fairness.h).
      out << (failed[i] ? "BROKEN" : "ok") << " (" << r.fairness_grants_judged
          << " grants judged before faults, " << r.fairness_grants_contested
          << " behind an earlier ticket in every line)";
    } else if (i == 0 && !r.rates_in_bound) {
      out << "not checked (a clock rate beyond rho)";
    } else if (i == 4 && !r.progress_judged) {
      out << "measured only";
    } else if (i == 1 && !s2_unchecked.empty()) {
      out << "not checked (" << s2_unchecked << "; " << r.tokens_out_of_order
          << " grants out of token order)";
    } else {
      out << (failed[i] ? "BROKEN" : "ok");
    }
    out << (i < 5 ? ", " : "");
  }
  out << absl::StrFormat(
      " (worst wait after faults stopped %.2fs, bound %.2fs; L2 %.2fs, bound %.2fs)\n",
      r.worst_wait_after_quiet_us / 1e6, scenario.LivenessBoundUs() / 1e6,
      r.worst_progress_gap_us / 1e6, scenario.ProgressBoundUs() / 1e6);
  const std::vector<std::string> missed = MissedExpectations(scenario, r);
  for (const std::string& m : missed) out << "EXPECTATION MISSED: " << m << "\n";
  out << absl::StrFormat("%s %s seed %d trace %016x\n",
                         r.violations.empty() && missed.empty() ? "PASS" : "FAIL", scenario.name,
                         seed, r.trace_hash);
}

uint64_t LeaseMessages(const RunStats& s) {
  uint64_t messages = 0;
  for (int k = 0; k < 6; ++k) messages += s.sent[k];
  return messages;
}

PhaseRates ProgressRates(const Scenario& scenario, const RunResult& r) {
  const RunStats& s = r.stats;
  const int64_t first_fault_us = scenario.actions.empty()
                                     ? scenario.run_us
                                     : std::min(scenario.actions.front().at_us, scenario.run_us);
  const int64_t quiet_us = std::clamp(scenario.QuietUs(), first_fault_us, scenario.run_us);
  auto rate = [](uint64_t grants, int64_t us) { return us <= 0 ? 0.0 : grants / (us / 1e6); };
  return PhaseRates{
      rate(s.grants_before_faults, first_fault_us),
      rate(s.grants_during_faults, quiet_us - first_fault_us),
      rate(s.grants - s.grants_before_faults - s.grants_during_faults, scenario.run_us - quiet_us)};
}

std::vector<std::string> MissedExpectations(const Scenario& scenario, const RunResult& r) {
  std::vector<std::string> missed;
  const PhaseRates rates = ProgressRates(scenario, r);
  if (scenario.expect_during_min > 0 && rates.during < scenario.expect_during_min * rates.before) {
    missed.push_back(absl::StrFormat(
        "%.1f grants/s while faults last is %.0f%% of the %.1f before them (expected at least "
        "%.0f%%)",
        rates.during, rates.before > 0 ? 100 * rates.during / rates.before : 0.0, rates.before,
        100 * scenario.expect_during_min));
  }
  if (scenario.expect_gap_us_max >= 0 &&
      r.worst_gap_during_faults_us > scenario.expect_gap_us_max) {
    missed.push_back(absl::StrFormat(
        "%.3fs without a holder while someone waited during faults (expected at most %.3fs)",
        r.worst_gap_during_faults_us / 1e6, scenario.expect_gap_us_max / 1e6));
  }
  if (scenario.expect_messages_per_grant_max > 0) {
    const double per_grant = r.stats.grants == 0
                                 ? static_cast<double>(LeaseMessages(r.stats))
                                 : static_cast<double>(LeaseMessages(r.stats)) / r.stats.grants;
    if (per_grant > scenario.expect_messages_per_grant_max) {
      missed.push_back(absl::StrFormat("%.2f lease messages per grant (expected at most %.2f)",
                                       per_grant, scenario.expect_messages_per_grant_max));
    }
  }
  return missed;
}

}  // namespace lockmesh::sim
