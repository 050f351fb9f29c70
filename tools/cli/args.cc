#include "tools/cli/args.h"

#include <algorithm>
#include <iterator>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "tools/cli/exit_codes.h"
#include "tools/limits.h"

namespace lockmesh::cli {
namespace {

struct VerbName {
  const char* name;
  Verb verb;
  std::size_t operands;  // positional arguments besides the verb
};
constexpr VerbName kVerbs[] = {{"run", Verb::kRun, 1},         {"status", Verb::kStatus, 0},
                               {"members", Verb::kMembers, 0}, {"holder", Verb::kHolder, 1},
                               {"keygen", Verb::kKeygen, 1},   {"help", Verb::kHelp, 0}};

bool IsJoinNodeFlag(absl::string_view name) {
  return std::find(std::begin(kJoinNodeFlags), std::end(kJoinNodeFlags), name) !=
         std::end(kJoinNodeFlags);
}

absl::Status Usage(absl::string_view message) { return absl::InvalidArgumentError(message); }

// Whether `name` is a flag of `inv.verb` that takes a value.
bool IsValueFlag(const Invocation& inv, absl::string_view name) {
  const bool run = inv.verb == Verb::kRun;
  return (name == "socket" && inv.verb != Verb::kKeygen) ||
         (run && (name == "ttl" || name == "wait" || name == "grace" || name == "key" ||
                  IsJoinNodeFlag(name)));
}

// Applies one value flag (IsValueFlag) to `inv`.
absl::Status ApplyFlag(Invocation& inv, absl::string_view verb, absl::string_view name,
                       const std::string& value) {
  const bool run = inv.verb == Verb::kRun;
  if (name == "socket" && inv.verb != Verb::kKeygen) {
    if (value.empty()) return Usage("--socket needs a path");
    inv.socket = value;
    return absl::OkStatus();
  }
  if (run && (name == "ttl" || name == "wait" || name == "grace")) {
    absl::StatusOr<std::chrono::milliseconds> d = ParseDuration(value, name == "wait");
    if (!d.ok()) return Usage(absl::StrCat("--", name, ": ", d.status().message()));
    (name == "ttl" ? inv.ttl : name == "wait" ? inv.wait : inv.grace) = *d;
    return absl::OkStatus();
  }
  if (run && IsJoinNodeFlag(name)) {
    inv.node_flags.emplace_back(std::string(name), value);
    return absl::OkStatus();
  }
  if (run && name == "key") {
    return Usage(
        "--key is not taken: a key on the command line is visible to every user "
        "(ps); use --key_file");
  }
  return Usage(absl::StrCat("unknown flag --", name, " for `lockmesh ", verb, "`"));
}

bool IsBoolFlag(const Invocation& inv, absl::string_view name) {
  if (name == "json") return inv.verb != Verb::kRun && inv.verb != Verb::kKeygen;
  return name == "join" && inv.verb == Verb::kRun;
}

}  // namespace

absl::StatusOr<std::chrono::milliseconds> ParseDuration(absl::string_view text, bool allow_zero) {
  absl::Duration d;
  const bool bare_number = !text.empty() && text.find_first_not_of("0123456789.") == text.npos;
  if (text == "0" && allow_zero) return std::chrono::milliseconds(0);
  if (bare_number) return Usage(absl::StrCat("\"", text, "\" needs a unit: ms, s, m or h"));
  if (text.empty() || text[0] == '-' || text[0] == '+' || !absl::ParseDuration(text, &d) ||
      d == absl::InfiniteDuration()) {
    return Usage(absl::StrCat("\"", text, "\" is not a duration like 30s, 1500ms or 2m"));
  }
  if (d % absl::Milliseconds(1) != absl::ZeroDuration()) {
    return Usage(absl::StrCat("\"", text, "\" is not a whole number of milliseconds"));
  }
  const int64_t ms = absl::ToInt64Milliseconds(d);
  if (ms == 0 && !allow_zero) return Usage(absl::StrCat("\"", text, "\" must be more than 0"));
  if (ms > tools::kCliDurationMaxMs) {
    return Usage(absl::StrCat("\"", text, "\" is longer than a day"));
  }
  return std::chrono::milliseconds(ms);
}

absl::StatusOr<Invocation> ParseArgs(const std::vector<std::string>& args) {
  Invocation inv;
  if (args.empty()) return Usage("no command given; see `lockmesh --help`");
  const std::string& verb = args[0];
  if (verb == "--help" || verb == "-h") return inv;
  const VerbName* found = nullptr;
  for (const VerbName& v : kVerbs) {
    if (verb == v.name) found = &v;
  }
  if (found == nullptr) {
    return Usage(absl::StrCat("unknown command \"", verb, "\"; see `lockmesh --help`"));
  }
  inv.verb = found->verb;
  std::vector<std::string> operands;
  bool saw_dashes = false;
  for (std::size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {
      if (inv.verb != Verb::kRun) return Usage(absl::StrCat("`lockmesh ", verb, "` takes no `--`"));
      inv.command.assign(args.begin() + i + 1, args.end());
      saw_dashes = true;
      break;
    }
    if (a == "-h" || a == "--help") {
      inv.verb = Verb::kHelp;
      return inv;
    }
    if (!absl::StartsWith(a, "--")) {
      if (a.size() > 1 && a[0] == '-') return Usage(absl::StrCat("unknown flag ", a));
      operands.push_back(a);
      continue;
    }
    const std::size_t eq = a.find('=');
    const std::string name = a.substr(2, eq == a.npos ? a.npos : eq - 2);
    if (IsBoolFlag(inv, name)) {
      if (eq != a.npos) return Usage(absl::StrCat("--", name, " takes no value"));
      (name == "json" ? inv.json : inv.join) = true;
      continue;
    }
    if (!IsValueFlag(inv, name)) {
      return Usage(absl::StrCat("unknown flag --", name, " for `lockmesh ", verb, "`"));
    }
    std::string value;
    if (eq != a.npos) {
      value = a.substr(eq + 1);
    } else if (i + 1 < args.size() && args[i + 1] != "--") {
      value = args[++i];
    } else {
      return Usage(absl::StrCat("--", name, " needs a value"));
    }
    if (absl::Status s = ApplyFlag(inv, verb, name, value); !s.ok()) return s;
  }
  if (inv.verb == Verb::kRun && !saw_dashes) {
    return Usage("`lockmesh run NAME` needs the command after `--`");
  }
  if (operands.size() != found->operands) {
    static constexpr const char* kWants[] = {"", "NAME", "", "", "NAME", "FILE"};
    return Usage(found->operands == 0
                     ? absl::StrCat("`lockmesh ", verb, "` takes no arguments")
                     : absl::StrCat("`lockmesh ", verb, "` takes one ",
                                    kWants[static_cast<int>(inv.verb)], " argument"));
  }
  if (!operands.empty()) inv.operand = operands[0];
  if (inv.operand.empty() && found->operands == 1) {
    return Usage(absl::StrCat("`lockmesh ", verb, "`: the name must not be empty"));
  }
  if (inv.verb == Verb::kRun) {
    if (!saw_dashes || inv.command.empty()) {
      return Usage("`lockmesh run NAME` needs the command after `--`");
    }
    if (!inv.node_flags.empty() && !inv.join) {
      return Usage(absl::StrCat("--", inv.node_flags[0].first, " is a node flag: it needs --join"));
    }
    if (inv.join && !inv.socket.empty()) return Usage("--socket and --join exclude each other");
  }
  return inv;
}

std::string UsageText() {
  return absl::StrCat(
      "lockmesh: locks from the shell, through a lockmesh node\n"
      "\n"
      "Usage:\n"
      "  lockmesh run NAME [--ttl 30s] [--wait 10s] [--grace 10s] [--socket PATH] -- CMD ARGS...\n"
      "      Takes the lock NAME through the local node, runs CMD with LOCKMESH_TOKEN (the\n"
      "      fencing token) and LOCKMESH_RESOURCE in its environment, renews the lease while\n"
      "      CMD runs, releases it after. If the lease is lost, CMD's process group gets\n"
      "      SIGTERM, then SIGKILL after --grace, and lockmesh exits 80. SIGINT, SIGTERM,\n"
      "      SIGHUP and SIGQUIT are passed on to CMD. --wait 0 makes one attempt.\n"
      "  lockmesh run NAME --join --voters=n1@ip:port,... --cluster=C --key_file=F\n"
      "               [--bind=ip:0] [--name=N] [--seeds=...] [--timing=lan|wan|local]\n"
      "               [--lease_max_ms=30000] [--log=warning] [--ttl ...] -- CMD ARGS...\n"
      "      The same without a local node: starts a short-lived member (no voter) itself,\n"
      "      and leaves the cluster when CMD ends.\n"
      "  lockmesh status [--json] [--socket PATH]     the node, its members and leases\n"
      "  lockmesh members [--json] [--socket PATH]    the members the node knows\n"
      "  lockmesh holder NAME [--json] [--socket PATH]  who holds NAME, as the node sees it\n"
      "  lockmesh keygen FILE     writes a new cluster key to FILE (mode 0600, never over an\n"
      "                           existing file)\n"
      "\n"
      "Durations: 1500ms, 30s, 2m, 1h, 1m30s. The socket: --socket, else $LOCKMESH_SOCKET,\n"
      "else the one *.sock in /run/lockmesh.\n"
      "\n",
      kExitCodeTable);
}

}  // namespace lockmesh::cli
