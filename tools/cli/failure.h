// File: tools/cli/failure.h
//
// How a failure becomes an exit code, in one place. Code that knows the exit code says so
// with Fail(); statuses from the library (Node::Acquire) and HTTP answers from the local API
// are mapped here, so the same cause always exits the same way.
//
//   if (errno == EACCES) return Fail(kExitPermission, "permission denied on " + path);
//   ...
//   absl::Status s = ...;
//   std::fprintf(stderr, "lockmesh: %s\n", ...); return ExitOf(s);
//
// Thread safety: pure functions.
#pragma once

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "tools/cli/exit_codes.h"

namespace lockmesh::cli {

// A failure with a known exit code and a one-line message for stderr.
absl::Status Fail(ExitCode code, absl::string_view message);

// The exit code for `status`: the one given to Fail(), or else by absl code as the library
// returns them (node.h's error table): DeadlineExceeded and Aborted 79, Unavailable and
// ResourceExhausted 75, InvalidArgument 64, Cancelled 69 (the node stopped); 70 otherwise.
// OK is 0.
ExitCode ExitOf(const absl::Status& status);

// The failure an error answer of the local API stands for (docs/local-api.md): its HTTP
// status picks the exit code, its JSON error's message is the message. 400/413 usage, 409
// and 504 wait ran out, 410 lease lost, 429/503 no quorum, 499 node stopping; any other is a
// protocol error.
absl::Status FromHttp(int http_status, absl::string_view body);

// `status` with `prefix` before its message, its exit code kept.
absl::Status Annotate(const absl::Status& status, absl::string_view prefix);

// Prints "lockmesh: <message>" on stderr and returns ExitOf(status). REQUIRES: !status.ok().
int Complain(const absl::Status& status);

}  // namespace lockmesh::cli
