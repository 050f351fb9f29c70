// lockmesh-sim: runs scenario files and seed swarms of the lease protocol on
// virtual time. `lockmesh-sim help` lists the commands.
#include <cstdlib>
#include <iostream>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "sim/gossip_report.h"
#include "sim/report.h"
#include "sim/scenario.h"
#include "sim/simulation.h"
#include "sim/swarm.h"
#include "sim/timeline.h"

namespace {

using namespace lockmesh::sim;

struct CommandUsage {
  absl::string_view command;
  absl::string_view text;
};

constexpr CommandUsage kCommands[] = {
    {"run",
     "  lockmesh-sim run FILE [--seed=N] [--unsafe=NAME] [--quiet] [--trace] [--html OUT.html]\n"
     "      run one scenario file; prints the account, statistics and verdict\n"
     "      (--html: also write the run's timeline, one self-contained page)\n"},
    {"swarm",
     "  lockmesh-sim swarm --seeds=A:B [--unsafe=NAME] [--threads=T] [--stop-at-first]\n"
     "      draw a random scenario per seed; prints each failing seed with its replay "
     "command\n"},
    {"seed",
     "  lockmesh-sim seed N [--unsafe=NAME] [--quiet] [--print] [--html OUT.html]\n"
     "      replay one swarm seed with the account (--print: its scenario file only)\n"},
    {"gossip-report",
     "  lockmesh-sim gossip-report [--runs=K] [--quick]\n"
     "      measure gossip membership: detection, false positives, Lifeguard, "
     "joins, bytes\n"},
};

constexpr absl::string_view kUsageTail =
    "unsafe switches: no-quarantine, overwrite-lease, no-clock-margin\n"
    "exit status: 0 every property holds, 1 a property is broken, 2 usage or input error\n";

// The usage of every command, or of `command` alone when it is one.
std::string UsageText(absl::string_view command) {
  std::string text = "usage:\n";
  bool known = false;
  for (const CommandUsage& c : kCommands) known |= c.command == command;
  for (const CommandUsage& c : kCommands) {
    if (!known || c.command == command) text += std::string(c.text);
  }
  return text + std::string(kUsageTail);
}

struct Flags {
  uint64_t seed = 1;
  bool seed_set = false;
  std::string unsafe;
  bool quiet = false;
  bool print = false;
  bool trace = false;
  std::string html;  // where to write the timeline page (empty: none)
  bool quick = false;
  int runs = 0;
  bool stop_at_first = false;
  bool judge_progress = false;
  int threads = 2;
  uint64_t first = 0, last = 0;
  std::vector<std::string> args;
};

int Usage(absl::string_view error, absl::string_view command = "") {
  if (!error.empty()) std::cerr << "lockmesh-sim: " << error << "\n";
  std::cerr << UsageText(command);
  return 2;
}

bool AsksForHelp(int argc, char** argv) {
  for (int i = 2; i < argc; ++i) {
    const absl::string_view a = argv[i];
    if (a == "--help" || a == "-h") return true;
  }
  return false;
}

bool ParseFlags(int argc, char** argv, Flags& f, std::string& error) {
  for (int i = 2; i < argc; ++i) {
    absl::string_view a = argv[i];
    absl::string_view v = a;
    if (absl::ConsumePrefix(&v, "--seed=")) {
      if (!absl::SimpleAtoi(v, &f.seed)) return error = "bad --seed", false;
      f.seed_set = true;
    } else if (absl::ConsumePrefix(&v, "--unsafe=")) {
      f.unsafe = std::string(v);
    } else if (absl::ConsumePrefix(&v, "--threads=")) {
      if (!absl::SimpleAtoi(v, &f.threads) || f.threads < 1 || f.threads > 64) {
        return error = "bad --threads", false;
      }
    } else if (absl::ConsumePrefix(&v, "--seeds=")) {
      std::vector<absl::string_view> parts = absl::StrSplit(v, ':');
      if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &f.first) ||
          !absl::SimpleAtoi(parts[1], &f.last) || f.last < f.first) {
        return error = "--seeds takes A:B with A <= B", false;
      }
    } else if (a == "--quiet") {
      f.quiet = true;
    } else if (absl::ConsumePrefix(&v, "--runs=")) {
      if (!absl::SimpleAtoi(v, &f.runs) || f.runs < 1) return error = "bad --runs", false;
    } else if (a == "--quick") {
      f.quick = true;
    } else if (a == "--trace") {
      f.trace = true;
    } else if (absl::ConsumePrefix(&v, "--html=") || a == "--html") {
      if (a == "--html" && ++i < argc) v = argv[i];
      if (v.empty() || v == "--html") return error = "--html takes an output file", false;
      f.html = std::string(v);
    } else if (a == "--print") {
      f.print = true;
    } else if (a == "--stop-at-first") {
      f.stop_at_first = true;
    } else if (a == "--judge-progress") {
      f.judge_progress = true;
    } else if (absl::StartsWith(a, "--")) {
      return error = "unknown flag " + std::string(a), false;
    } else {
      f.args.emplace_back(a);
    }
  }
  return true;
}

int RunOne(Scenario scenario, uint64_t seed, const Flags& f) {
  if (!f.unsafe.empty()) {
    if (absl::Status s = ApplyUnsafe(f.unsafe, scenario); !s.ok()) return Usage(s.message());
  }
  Simulation sim(scenario, seed, f.quiet ? nullptr : &std::cout);
  sim.TraceMessages(f.trace);
  TimelineRecorder timeline(scenario.Nodes());
  if (!f.html.empty()) sim.RecordTimeline(&timeline);
  RunResult result = sim.Run();
  PrintReport(scenario, seed, result, std::cout);
  if (!f.html.empty()) {
    if (absl::Status s = WriteTimelinePage(f.html, scenario, seed, result, timeline); !s.ok()) {
      std::cerr << "lockmesh-sim: " << s.message() << "\n";
      return 2;
    }
  }
  if (scenario.expect_violation) {
    std::cout << (result.violations.empty() ? "expected a violation and saw none\n"
                                            : "a violation was expected: the checker caught it\n");
  }
  return result.violations.empty() && MissedExpectations(scenario, result).empty() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return Usage("");
  const absl::string_view command = argv[1];
  if (command == "help" || command == "--help" || command == "-h" || AsksForHelp(argc, argv)) {
    std::cout << UsageText(command);
    return 0;
  }
  Flags f;
  std::string error;
  if (!ParseFlags(argc, argv, f, error)) return Usage(error, command);
  if (!f.html.empty() && command != "run" && command != "seed") {
    return Usage("--html applies to run and seed only", command);
  }
  if (command == "run") {
    if (f.args.size() != 1) return Usage("run takes one scenario file", command);
    absl::StatusOr<Scenario> s = LoadScenario(f.args[0]);
    if (!s.ok()) {
      std::cerr << "lockmesh-sim: " << s.status().message() << "\n";
      return 2;
    }
    return RunOne(*s, f.seed, f);
  }
  if (command == "seed") {
    uint64_t seed;
    if (f.args.size() != 1 || !absl::SimpleAtoi(f.args[0], &seed)) {
      return Usage("seed takes one number", command);
    }
    Scenario s = RandomScenario(seed);
    if (f.print) {
      std::cout << ScenarioText(s);
      return 0;
    }
    return RunOne(s, seed, f);
  }
  if (command == "swarm") {
    if (f.last == 0) return Usage("swarm needs --seeds=A:B", command);
    if (!f.unsafe.empty()) {
      Scenario probe;
      if (absl::Status s = ApplyUnsafe(f.unsafe, probe); !s.ok()) return Usage(s.message());
    }
    SwarmOptions options{f.first, f.last, f.threads, f.unsafe, f.stop_at_first, f.judge_progress};
    SwarmResult r = RunSwarm(options, &std::cerr);
    std::cout << SwarmSummary(r) << "\n";
    for (const SwarmFailure& fail : r.failures) {
      std::cout << "FAIL seed " << fail.seed << " (" << fail.violations[0].property
                << "): " << ReplayCommand(fail.seed, f.unsafe) << "\n";
    }
    return r.failures.empty() ? 0 : 1;
  }
  if (command == "gossip-report") {
    ReportOptions options;
    if (f.runs > 0) options.seeds = f.runs;
    if (f.quick) {
      options.sizes = {5, 50};
      options.seeds = 3;
      options.false_positive_seeds = 10;
    }
    PrintGossipReport(options, std::cout);
    return 0;
  }
  return Usage("unknown command " + std::string(command));
}
