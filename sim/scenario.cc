#include "sim/scenario.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "lib/core/limits.h"
#include "sim/limits.h"

namespace lockmesh::sim {
namespace {

using Kind = Action::Kind;

absl::Status LineError(int line, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("scenario line ", line, ": ", what));
}

absl::StatusOr<int> ParseInt(absl::string_view s) {
  int v = 0;
  if (!absl::SimpleAtoi(s, &v))
    return absl::InvalidArgumentError(absl::StrCat("not a number: ", s));
  return v;
}

absl::StatusOr<double> ParseProbability(absl::string_view s) {
  double v = 0;
  bool percent = absl::ConsumeSuffix(&s, "%");
  if (!absl::SimpleAtod(s, &v) || !std::isfinite(v)) {
    return absl::InvalidArgumentError(absl::StrCat("not a probability: ", s));
  }
  if (percent) v /= 100;
  if (!(v >= 0 && v <= 1)) {
    return absl::InvalidArgumentError(absl::StrCat("probability out of [0,1]: ", s));
  }
  return v;
}

// A clock rate error: NNNppm, signed when `signed_ok`, within kDriftPpmMax.
absl::StatusOr<int64_t> ParsePpm(absl::string_view text, bool signed_ok) {
  absl::string_view ppm = text;
  absl::ConsumeSuffix(&ppm, "ppm");
  if (signed_ok) absl::ConsumePrefix(&ppm, "+");
  int64_t v = 0;
  if (!absl::SimpleAtoi(ppm, &v) || (!signed_ok && v < 0)) {
    return absl::InvalidArgumentError(absl::StrCat("not a drift in ppm: '", text, "'"));
  }
  if (v < -kDriftPpmMax || v > kDriftPpmMax) {
    return absl::InvalidArgumentError(
        absl::StrCat("drift '", text, "' is beyond the limit of ", kDriftPpmMax, "ppm either way"));
  }
  return v;
}

absl::StatusOr<Target> ParseTarget(absl::string_view s) {
  if (s == "holder") return Target{Target::kHolder};
  absl::string_view digits = s;
  absl::ConsumePrefix(&digits, "n");
  int v = 0;
  if (!absl::SimpleAtoi(digits, &v) || v < 0) {
    return absl::InvalidArgumentError(absl::StrCat("not a node (nN or holder): ", s));
  }
  return Target{v};
}

struct ActionSpec {
  absl::string_view words;  // directive words after "at T"
  Kind kind;
  enum Args {
    kNone,
    kTarget,
    kTargetDuration,
    kTargetPpm,
    kTargetSignedDuration,
    kP,
    kTwoDurations,
    kPDuration
  } args;
};

constexpr ActionSpec kActionSpecs[] = {
    {"partition halves", Kind::kPartitionHalves, ActionSpec::kNone},
    {"partition random-halves", Kind::kPartitionRandomHalves, ActionSpec::kNone},
    {"partition isolate", Kind::kPartitionIsolate, ActionSpec::kTarget},
    {"partition ring", Kind::kPartitionRing, ActionSpec::kNone},
    {"partition bridge", Kind::kPartitionBridge, ActionSpec::kNone},
    {"cut inbound", Kind::kCutInbound, ActionSpec::kTarget},
    {"cut outbound", Kind::kCutOutbound, ActionSpec::kTarget},
    {"heal", Kind::kHeal, ActionSpec::kNone},
    {"crash-all", Kind::kCrashAll, ActionSpec::kNone},
    {"crash-majority", Kind::kCrashMajority, ActionSpec::kNone},
    {"restart-all", Kind::kRestartAll, ActionSpec::kNone},
    {"crash", Kind::kCrash, ActionSpec::kTarget},
    {"restart", Kind::kRestart, ActionSpec::kTarget},
    {"pause", Kind::kPause, ActionSpec::kTargetDuration},
    {"drift", Kind::kDrift, ActionSpec::kTargetPpm},
    {"clock-jump", Kind::kClockJump, ActionSpec::kTargetSignedDuration},
    {"loss", Kind::kLoss, ActionSpec::kP},
    {"duplicate", Kind::kDuplicate, ActionSpec::kP},
    {"delay", Kind::kDelay, ActionSpec::kTwoDurations},
    {"tail", Kind::kTail, ActionSpec::kPDuration},
    {"slow", Kind::kSlow, ActionSpec::kTargetDuration},
    {"start", Kind::kStart, ActionSpec::kTarget},
};

absl::StatusOr<Action> ParseAction(const std::vector<absl::string_view>& words, std::size_t at) {
  for (const ActionSpec& spec : kActionSpecs) {
    std::vector<absl::string_view> spec_words = absl::StrSplit(spec.words, ' ');
    if (words.size() < at + spec_words.size()) continue;
    if (!std::equal(spec_words.begin(), spec_words.end(), words.begin() + at)) continue;
    std::vector<absl::string_view> args(words.begin() + at + spec_words.size(), words.end());
    Action a;
    a.kind = spec.kind;
    auto need = [&](std::size_t n) -> absl::Status {
      if (args.size() != n) {
        return absl::InvalidArgumentError(
            absl::StrCat("'", spec.words, "' takes ", n, " argument(s)"));
      }
      return absl::OkStatus();
    };
    switch (spec.args) {
      case ActionSpec::kNone:
        if (auto s = need(0); !s.ok()) return s;
        break;
      case ActionSpec::kTarget: {
        if (auto s = need(1); !s.ok()) return s;
        auto t = ParseTarget(args[0]);
        if (!t.ok()) return t.status();
        a.target = *t;
        break;
      }
      case ActionSpec::kTargetDuration:
      case ActionSpec::kTargetSignedDuration: {
        if (auto s = need(2); !s.ok()) return s;
        auto t = ParseTarget(args[0]);
        if (!t.ok()) return t.status();
        a.target = *t;
        absl::string_view d = args[1];
        const bool negative =
            spec.args == ActionSpec::kTargetSignedDuration && absl::ConsumePrefix(&d, "-");
        if (spec.args == ActionSpec::kTargetSignedDuration) absl::ConsumePrefix(&d, "+");
        auto us = ParseDurationUs(d);
        if (!us.ok()) return us.status();
        a.value = negative ? -*us : *us;
        break;
      }
      case ActionSpec::kTargetPpm: {
        if (auto s = need(2); !s.ok()) return s;
        auto t = ParseTarget(args[0]);
        if (!t.ok()) return t.status();
        a.target = *t;
        auto ppm = ParsePpm(args[1], /*signed_ok=*/true);
        if (!ppm.ok()) return ppm.status();
        a.value = *ppm;
        break;
      }
      case ActionSpec::kP: {
        if (auto s = need(1); !s.ok()) return s;
        auto p = ParseProbability(args[0]);
        if (!p.ok()) return p.status();
        a.p = *p;
        break;
      }
      case ActionSpec::kTwoDurations: {
        if (auto s = need(2); !s.ok()) return s;
        auto lo = ParseDurationUs(args[0]);
        auto hi = ParseDurationUs(args[1]);
        if (!lo.ok()) return lo.status();
        if (!hi.ok()) return hi.status();
        if (*hi < *lo) return absl::InvalidArgumentError("delay: max below min");
        a.value = *lo;
        a.value2 = *hi;
        break;
      }
      case ActionSpec::kPDuration: {
        if (auto s = need(2); !s.ok()) return s;
        auto p = ParseProbability(args[0]);
        auto d = ParseDurationUs(args[1]);
        if (!p.ok()) return p.status();
        if (!d.ok()) return d.status();
        a.p = *p;
        a.value = *d;
        break;
      }
    }
    return a;
  }
  return absl::InvalidArgumentError("unknown fault");
}

}  // namespace

absl::StatusOr<int64_t> ParseDurationUs(absl::string_view text) {
  struct Unit {
    absl::string_view suffix;
    double us;
  };
  static constexpr Unit kUnits[] = {{"us", 1}, {"ms", 1e3}, {"s", 1e6}, {"m", 60e6}};
  for (const Unit& u : kUnits) {
    absl::string_view number = text;
    if (!absl::ConsumeSuffix(&number, u.suffix)) continue;
    double v = 0;
    if (!absl::SimpleAtod(number, &v) || !std::isfinite(v) || v < 0) break;
    if (v * u.us > static_cast<double>(kScenarioDurationUsMax)) {
      return absl::InvalidArgumentError(
          absl::StrCat("duration '", text, "' is beyond the limit of ",
                       kScenarioDurationUsMax / 60'000'000, "m (a day)"));
    }
    return static_cast<int64_t>(v * u.us + 0.5);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("not a duration (a number with us, ms, s or m): '", text, "'"));
}

core::LeaseConfig SimTiming(int64_t lease_us_max) {
  core::LeaseConfig t;
  t.lease_duration_us_max = lease_us_max;
  t.lease_duration_us_min = 10'000;
  t.quarantine_us = t.QuarantineUsMin();
  t.attempt_timeout_us = 500'000;
  t.retransmit_us = 100'000;
  t.backoff_us_min = 10'000;
  t.backoff_us_max = 1'000'000;
  return t;
}

absl::StatusOr<Scenario> ParseScenario(absl::string_view text) {
  Scenario s;
  s.timing = SimTiming(10'000'000);
  bool any_directive = false;
  int line_no = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_no;
    if (auto hash = line.find('#'); hash != absl::string_view::npos) line = line.substr(0, hash);
    std::vector<absl::string_view> w =
        absl::StrSplit(line, absl::ByAnyChar(" \t\r"), absl::SkipEmpty());
    if (w.empty()) continue;
    any_directive = true;
    const absl::string_view key = w[0];
    auto arg = [&](std::size_t i) -> absl::string_view { return i < w.size() ? w[i] : ""; };
    auto fail = [&](const absl::Status& st) { return LineError(line_no, st.message()); };
    auto set_int = [&](int& field, int lo, int hi) -> absl::Status {
      auto v = ParseInt(arg(1));
      if (!v.ok()) return fail(v.status());
      if (*v < lo || *v > hi)
        return LineError(line_no, absl::StrCat(key, " must be in [", lo, ", ", hi, "]"));
      field = *v;
      return absl::OkStatus();
    };
    auto set_dur = [&](int64_t& field) -> absl::Status {
      auto v = ParseDurationUs(arg(1));
      if (!v.ok()) return fail(v.status());
      field = *v;
      return absl::OkStatus();
    };
    absl::Status st;
    if (key == "name") {
      s.name = std::string(arg(1));
    } else if (key == "describe") {
      if (!s.description.empty()) s.description += "\n";
      s.description +=
          std::string(absl::StripAsciiWhitespace(line.substr(line.find("describe") + 8)));
    } else if (key == "voters") {
      st = set_int(s.voters, 1, 9);
    } else if (key == "members") {
      st = set_int(s.members, 0, 991);
    } else if (key == "clients") {
      st = set_int(s.clients_per_node, 0, 16);
    } else if (key == "resources") {
      st = set_int(s.resources, 1, 1000);
    } else if (key == "contended") {
      auto p = ParseProbability(arg(1));
      if (!p.ok()) return fail(p.status());
      s.contended = *p;
    } else if (key == "lease") {
      st = set_dur(s.lease_us);
    } else if (key == "lease-max") {
      // Only D_max itself: the quarantine is derived once every directive is read,
      // so the order of lines never matters.
      st = set_dur(s.timing.lease_duration_us_max);
    } else if (key == "rho") {
      absl::string_view ppm = arg(1);
      absl::ConsumeSuffix(&ppm, "ppm");
      if (!absl::SimpleAtoi(ppm, &s.timing.rho_ppm)) return LineError(line_no, "rho takes NNNppm");
      if (s.timing.rho_ppm < 0 || s.timing.rho_ppm > core::kRhoPpmMax) {
        return LineError(line_no, absl::StrCat("rho must be in [0, ", core::kRhoPpmMax, "]ppm"));
      }
    } else if (key == "hold") {
      st = set_dur(s.hold_us);
    } else if (key == "think") {
      st = set_dur(s.think_us);
    } else if (key == "waiter-priority") {
      st = set_dur(s.timing.waiter_priority_us);
    } else if (key == "grant-at-release") {
      if (arg(1) != "on" && arg(1) != "off") {
        return LineError(line_no, "grant-at-release takes on or off");
      }
      s.timing.grant_at_release = arg(1) == "on";
    } else if (key == "wait") {
      st = set_dur(s.wait_us);
    } else if (key == "op") {
      st = set_dur(s.op_us);
    } else if (key == "renew") {
      if (arg(1) != "on" && arg(1) != "off") return LineError(line_no, "renew takes on or off");
      s.renew = arg(1) == "on";
    } else if (key == "gossip") {
      if (arg(1) != "on" && arg(1) != "off") return LineError(line_no, "gossip takes on or off");
      s.gossip = arg(1) == "on";
    } else if (key == "gossip-preset") {
      if (arg(1) != "lan" && arg(1) != "wan" && arg(1) != "local") {
        return LineError(line_no, "gossip-preset takes lan, wan or local");
      }
      s.gossip_preset = std::string(arg(1));
      s.gossip = true;
    } else if (key == "lifeguard") {
      if (arg(1) != "on" && arg(1) != "off") return LineError(line_no, "lifeguard takes on or off");
      s.lifeguard = arg(1) == "on";
    } else if (key == "drift") {
      auto ppm = ParsePpm(arg(1), /*signed_ok=*/false);
      if (!ppm.ok()) return fail(ppm.status());
      s.drift_ppm_max = *ppm;
    } else if (key == "wall-skew") {
      st = set_dur(s.wall_skew_us_max);
    } else if (key == "quiet") {
      st = set_dur(s.quiet_us);
    } else if (key == "run") {
      st = set_dur(s.run_us);
    } else if (key == "progress") {
      if (arg(1) != "judge" && arg(1) != "measure") {
        return LineError(line_no, "progress takes judge or measure");
      }
      s.judge_progress = arg(1) == "judge";
    } else if (key == "expect") {
      if (arg(1) == "violation") {
        s.expect_violation = true;
      } else if (arg(1) == "during") {
        auto p = ParseProbability(arg(2));
        if (!p.ok()) return fail(p.status());
        s.expect_during_min = *p;
      } else if (arg(1) == "gap") {
        auto d = ParseDurationUs(arg(2));
        if (!d.ok()) return fail(d.status());
        s.expect_gap_us_max = *d;
      } else if (arg(1) == "messages") {
        double n = 0;
        if (!absl::SimpleAtod(arg(2), &n) || !(n > 0) || n > 1e6) {
          return LineError(line_no, "expect messages takes a number of messages per grant");
        }
        s.expect_messages_per_grant_max = n;
      } else {
        return LineError(line_no, "expect takes 'violation', 'during P', 'gap D' or 'messages N'");
      }
    } else if (key == "unsafe") {
      st = ApplyUnsafe(arg(1), s);
      if (!st.ok()) return fail(st);
    } else if (key == "at" || key == "loss" || key == "duplicate" || key == "delay" ||
               key == "tail") {
      // "loss 1%" before any "at" sets the base network; "at T loss 5%" a fault.
      std::size_t first = 0;
      int64_t at = 0;
      if (key == "at") {
        auto t = ParseDurationUs(arg(1));
        if (!t.ok()) return fail(t.status());
        at = *t;
        first = 2;
      }
      auto a = ParseAction(w, first);
      if (!a.ok()) return fail(a.status());
      a->at_us = at;
      if (key != "at") {
        switch (a->kind) {
          case Kind::kLoss:
            s.net.loss = a->p;
            break;
          case Kind::kDuplicate:
            s.net.duplicate = a->p;
            break;
          case Kind::kDelay:
            s.net.delay_us_min = a->value;
            s.net.delay_us_max = a->value2;
            break;
          case Kind::kTail:
            s.net.tail = a->p;
            s.net.tail_us_max = a->value;
            break;
          default:
            break;
        }
      } else {
        s.actions.push_back(*a);
      }
    } else {
      return LineError(line_no, absl::StrCat("unknown directive '", key, "'"));
    }
    if (!st.ok()) return st;
  }
  if (!any_directive) {
    return absl::InvalidArgumentError("the scenario has no directives (an empty file?)");
  }
  s.timing.quarantine_us = s.timing.QuarantineUsMin();
  std::stable_sort(s.actions.begin(), s.actions.end(),
                   [](const Action& a, const Action& b) { return a.at_us < b.at_us; });
  if (absl::Status v = s.Validate(); !v.ok()) return v;
  return s;
}

absl::StatusOr<Scenario> LoadScenario(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return absl::InvalidArgumentError(absl::StrCat(path, " is a directory, not a scenario file"));
  }
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read scenario file ", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return absl::NotFoundError(absl::StrCat("cannot read scenario file ", path));
  auto s = ParseScenario(buffer.str());
  if (!s.ok()) return absl::InvalidArgumentError(absl::StrCat(path, ": ", s.status().message()));
  return s;
}

absl::Status ApplyUnsafe(absl::string_view name, Scenario& s) {
  if (name == "no-quarantine") {
    s.timing.unsafe.no_quarantine = true;
  } else if (name == "overwrite-lease") {
    s.timing.unsafe.overwrite_lease = true;
  } else if (name == "no-clock-margin") {
    s.timing.unsafe.no_clock_margin = true;
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown unsafe switch '", name, "' (no-quarantine, overwrite-lease, no-clock-margin)"));
  }
  s.timing.allow_unsafe = true;
  return absl::OkStatus();
}

bool Scenario::ClockOutOfBound() const {
  if (drift_ppm_max > timing.rho_ppm) return true;
  for (const Action& a : actions) {
    if (a.kind == Kind::kDrift && std::abs(a.value) > timing.rho_ppm) return true;
  }
  return false;
}

int64_t Scenario::QuietUs() const {
  if (quiet_us >= 0) return quiet_us;
  int64_t last = 0;
  for (const Action& a : actions) {
    last = std::max(last, a.at_us + (a.kind == Kind::kPause ? a.value : 0));
  }
  return last;
}

int64_t Scenario::LivenessBoundUs() const {
  // After faults stop: restarted voters quarantine (D_Q), leases of crashed or
  // cut-off owners run out at the voters (D_max), named waiters that do not come
  // are skipped one window each, then a few backoffs and round trips (attempt
  // timeouts), plus the longest straggler delay.
  return timing.quarantine_us + timing.lease_duration_us_max + IdleWindowsUs() +
         2 * timing.backoff_us_max + 4 * timing.attempt_timeout_us + net.tail_us_max +
         2 * net.delay_us_max + 1'000'000;
}

int64_t Scenario::IdleWindowsUs() const {
  // Each named head that does not come costs one waiter window before it is skipped, and
  // a voter queues each node once per resource (docs/protocol.md, "Liveness").
  const int64_t waiting_nodes =
      std::min<int64_t>(Nodes(), static_cast<int64_t>(core::kWaitersPerResourceMax));
  return waiting_nodes * timing.waiter_priority_us;
}

int64_t Scenario::ProgressBoundUs() const {
  // L1 without the quarantine: L2 counts only voters out of quarantine. A holder
  // cut off from the majority keeps its lease at the voters until it runs out
  // (D_max), then the waiter window, backoffs and attempts. L2 applies only while
  // a round trip fits in an attempt, so one more attempt covers the delays.
  return timing.lease_duration_us_max + IdleWindowsUs() + 2 * timing.backoff_us_max +
         5 * timing.attempt_timeout_us + 1'000'000;
}

core::GossipConfig Scenario::GossipSettings() const {
  core::GossipConfig c = gossip_preset == "wan"     ? core::GossipConfig::Wan()
                         : gossip_preset == "local" ? core::GossipConfig::Local()
                                                    : core::GossipConfig::Lan();
  c.lifeguard = lifeguard;
  return c;
}

absl::Status Scenario::Validate() const {
  if (voters < 1 || voters > 9) return absl::InvalidArgumentError("voters must be 1 to 9");
  if (lease_us < timing.lease_duration_us_min || lease_us > timing.lease_duration_us_max) {
    return absl::InvalidArgumentError(
        absl::StrCat("lease ", lease_us, "us is outside [", timing.lease_duration_us_min, ", ",
                     timing.lease_duration_us_max, "]us (raise lease-max)"));
  }
  if (run_us <= 0) return absl::InvalidArgumentError("run must be positive");
  if (run_us > kScenarioDurationUsMax) {
    return absl::InvalidArgumentError(absl::StrCat(
        "run is beyond the limit of ", kScenarioDurationUsMax / 60'000'000, "m (a day)"));
  }
  if (drift_ppm_max < 0 || drift_ppm_max > kDriftPpmMax) {
    return absl::InvalidArgumentError(absl::StrCat("drift must be in [0, ", kDriftPpmMax, "]ppm"));
  }
  if (Nodes() > 1000) return absl::InvalidArgumentError("at most 1000 nodes");
  if (net.delay_us_min < 0 || net.delay_us_max < net.delay_us_min) {
    return absl::InvalidArgumentError("delay: need 0 <= min <= max");
  }
  for (const Action& a : actions) {
    if (a.kind == Action::Kind::kStart && a.target.node == Target::kHolder) {
      return absl::InvalidArgumentError("start needs a node, not holder");
    }
    if (a.kind == Action::Kind::kDrift && (a.value < -kDriftPpmMax || a.value > kDriftPpmMax)) {
      return absl::InvalidArgumentError(
          absl::StrCat("fault '", ActionText(a), "' is beyond the limit of ", kDriftPpmMax, "ppm"));
    }
    if (a.target.node >= Nodes()) {
      return absl::InvalidArgumentError(
          absl::StrCat("fault '", ActionText(a), "' names a node beyond n", Nodes() - 1));
    }
  }
  core::LeaseConfig t = timing;
  t.voters = {1};
  return t.Validate();
}

std::string ActionText(const Action& a) {
  auto target = [&] {
    return a.target.node == Target::kHolder ? std::string("holder")
                                            : absl::StrCat("n", a.target.node);
  };
  switch (a.kind) {
    case Kind::kPartitionHalves:
      return "partition halves";
    case Kind::kPartitionRandomHalves:
      return "partition random-halves";
    case Kind::kPartitionIsolate:
      return absl::StrCat("partition isolate ", target());
    case Kind::kPartitionRing:
      return "partition ring";
    case Kind::kPartitionBridge:
      return "partition bridge";
    case Kind::kCutInbound:
      return absl::StrCat("cut inbound ", target());
    case Kind::kCutOutbound:
      return absl::StrCat("cut outbound ", target());
    case Kind::kHeal:
      return "heal";
    case Kind::kCrash:
      return absl::StrCat("crash ", target());
    case Kind::kRestart:
      return absl::StrCat("restart ", target());
    case Kind::kCrashAll:
      return "crash-all";
    case Kind::kCrashMajority:
      return "crash-majority";
    case Kind::kRestartAll:
      return "restart-all";
    case Kind::kPause:
      return absl::StrCat("pause ", target(), " ", a.value / 1000, "ms");
    case Kind::kDrift:
      return absl::StrCat("drift ", target(), " ", a.value, "ppm");
    case Kind::kClockJump:
      return absl::StrCat("clock-jump ", target(), " ", a.value / 1000, "ms");
    case Kind::kLoss:
      return absl::StrCat("loss ", a.p * 100, "%");
    case Kind::kDuplicate:
      return absl::StrCat("duplicate ", a.p * 100, "%");
    case Kind::kDelay:
      return absl::StrCat("delay ", a.value / 1000, "ms ", a.value2 / 1000, "ms");
    case Kind::kTail:
      return absl::StrCat("tail ", a.p * 100, "% ", a.value / 1000, "ms");
    case Kind::kSlow:
      return absl::StrCat("slow ", target(), " ", a.value / 1000, "ms");
    case Kind::kStart:
      return absl::StrCat("start ", target());
  }
  return "?";
}

}  // namespace lockmesh::sim
