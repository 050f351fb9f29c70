// lockmesh: the command a person types. See `lockmesh --help` and docs/cli.md.
#include <cstdio>
#include <string>
#include <vector>

#include "tools/cli/args.h"
#include "tools/cli/commands.h"
#include "tools/cli/failure.h"
#include "tools/cli/run.h"

int main(int argc, char** argv) {
  using namespace lockmesh::cli;
  const std::vector<std::string> args(argv + 1, argv + argc);
  absl::StatusOr<Invocation> inv = ParseArgs(args);
  if (!inv.ok()) return Complain(Fail(kExitUsage, inv.status().message()));
  switch (inv->verb) {
    case Verb::kHelp:
      std::fputs(UsageText().c_str(), stdout);
      return kExitOk;
    case Verb::kRun:
      return inv->join ? RunJoin(*inv) : RunLocal(*inv);
    case Verb::kKeygen:
      return Keygen(*inv);
    default:
      return Show(*inv);
  }
}
