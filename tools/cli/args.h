// File: tools/cli/args.h
//
// The command line of `lockmesh`, read into one Invocation, with no side effect, so that
// every usage error is found (and tested) before anything runs:
//
//   absl::StatusOr<Invocation> inv = ParseArgs({"run", "jobs/nightly", "--ttl", "30s", "--",
//                                               "backup.sh", "--full"});
//   if (!inv.ok()) { print inv.status().message(); exit kExitUsage; }
//
// Flags take their value as `--flag=VALUE` or `--flag VALUE`; everything after `--` is the
// command, untouched. With --join, `run` also takes the node flags of tools/node_flags.h
// (listed in kJoinNodeFlags), handed to them as they are.
//
// Thread safety: pure functions.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace lockmesh::cli {

enum class Verb { kHelp, kRun, kStatus, kMembers, kHolder, kKeygen };

struct Invocation {
  Verb verb = Verb::kHelp;
  // run, holder: the lock's name; keygen: the key file to create.
  std::string operand;
  // The node's socket; empty: $LOCKMESH_SOCKET, else the one socket in /run/lockmesh.
  std::string socket;
  bool json = false;
  std::chrono::milliseconds ttl{30'000};
  std::chrono::milliseconds wait{10'000};
  std::chrono::milliseconds grace{10'000};
  // run --join: start a short-lived member instead of using a local node.
  bool join = false;
  // The node flags given with --join, as (name, value), in the order given.
  std::vector<std::pair<std::string, std::string>> node_flags;
  // run: the command and its arguments (after `--`).
  std::vector<std::string> command;
};

// The node flags `run --join` passes on to tools/node_flags.h. Not --key (a key on the
// command line is visible to every user through ps) and not --bootstrap (the member is not
// a voter).
inline constexpr const char* kJoinNodeFlags[] = {"name",   "bind",        "advertise", "seeds",
                                                 "voters", "cluster",     "key_file",  "timing",
                                                 "log",    "lease_max_ms"};

// `args` is argv without the program name. InvalidArgument with a one-line message that
// names the bad argument.
absl::StatusOr<Invocation> ParseArgs(const std::vector<std::string>& args);

// A duration as a person types it: a number with a unit, "30s", "1500ms", "2m", "1h",
// "1.5s", "1m30s"; "0" alone only when `allow_zero`. Whole milliseconds, at most
// kCliDurationMaxMs. InvalidArgument otherwise, naming the text.
absl::StatusOr<std::chrono::milliseconds> ParseDuration(absl::string_view text, bool allow_zero);

// The usage text for --help.
std::string UsageText();

}  // namespace lockmesh::cli
