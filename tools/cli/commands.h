// File: tools/cli/commands.h
//
// The short commands of `lockmesh`: status, members, holder (reads through the local API,
// printed as tables or, with --json, as the API's JSON) and keygen. Each returns lockmesh's
// exit code after printing its result or a one-line error.
//
// Thread safety: each runs once, on the main thread.
#pragma once

#include "tools/cli/args.h"

namespace lockmesh::cli {

int Show(const Invocation& inv);  // status, members, holder
int Keygen(const Invocation& inv);

}  // namespace lockmesh::cli
