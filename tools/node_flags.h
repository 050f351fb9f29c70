// File: tools/node_flags.h
//
// The command-line flags every lockmesh tool that runs a node shares, and their translation
// into lockmesh::NodeOptions:
//
//   --name=n1 --bind=127.0.0.1:7101 --voters=n1@127.0.0.1:7101,n2@127.0.0.1:7102,...
//   --cluster=demo --key_file=/etc/lockmesh/key [--seeds=a:p,...] [--timing=lan|wan|local]
//   [--bootstrap] [--lease_max_ms=30000] [--log=info|debug|warning|error|off]
//
// Log records go to stderr, one line each, with the wall-clock time (RFC 3339, µs, UTC) first
// so that the logs of several processes can be ordered:
//   "2026-11-28T00:41:03.123456Z n1 info member.dead: n3 (suspected by 2)"
#pragma once

#include <signal.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "lockmesh/options.h"

namespace lockmesh::tools {

// "2026-11-28T00:41:03.123456Z": RFC 3339, UTC, microseconds.
std::string LogTimestamp(absl::Time t);

absl::StatusOr<NodeOptions> NodeOptionsFromFlags();

// Blocks SIGINT and SIGTERM in the calling thread (and the threads it starts later) and
// returns that set, for the main thread to sigwait() on: a tool's clean-shutdown path.
sigset_t BlockStopSignals();

// How --seeds and --voters text is read (pure; fuzz/target_node_options.cc calls these):
// items split at ',', each trimmed of ASCII whitespace, blank items skipped.
std::vector<std::string> ParseList(absl::string_view text);
// --voters: each item "name@address" (split at the first '@') or "name" (address empty).
std::vector<Peer> ParseVoters(absl::string_view text);

}  // namespace lockmesh::tools
