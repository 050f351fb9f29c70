// File: tools/cli/run.h
//
// The two forms of `lockmesh run`: through the local node's API socket (RunLocal), or with a
// short-lived member of its own (RunJoin, --join). Both take the lease with auto-renew, run
// the command under Supervise (child.h), and return lockmesh's exit code (exit_codes.h):
// the command's status, or the failure's code after a one-line message on stderr.
//
// Thread safety: each runs once, on the main thread.
#pragma once

#include <chrono>

#include "tools/cli/args.h"

namespace lockmesh::cli {

int RunLocal(const Invocation& inv);
int RunJoin(const Invocation& inv);

// How often the lease is checked while the command runs: the TTL over
// kCliWatchTtlDivisor, within [kCliWatchPeriodMinMs, kCliWatchPeriodMaxMs].
std::chrono::milliseconds WatchPeriod(std::chrono::milliseconds ttl);

}  // namespace lockmesh::cli
