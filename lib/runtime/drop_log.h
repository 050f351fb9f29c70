// File: runtime/drop_log.h
//
// Which dropped datagrams get a "datagram.dropped" log record: per reason the first, then every
// kDropLogEveryDatagrams-th, so a flood of bad datagrams (a wrong or retired key, a scan, a
// node of another version) shows at once in the log without a line per datagram. The record
// carries the count so far; Metrics has the exact counts at any time.
//
//   const DatagramCounters before = transport.counters();
//   transport.Unpack(datagram);
//   for (const DropToLog& d : DropsToLog(before, transport.counters())) Log(..., d.count);
//
// The counters are the state: nothing here remembers anything. Thread-compatible.
#pragma once

#include <cstdint>
#include <vector>

#include "lib/runtime/transport.h"

namespace lockmesh::runtime {

struct DropToLog {
  const char* reason;  // as in Metrics: "truncated", "unknown_key", ...
  const char* what;    // what the reason means, for a reader of the log
  uint64_t count;      // drops of this reason so far
};

// True when a counter that went from `before` to `after` passed its first drop or a multiple
// of `every` (REQUIRES: every > 0): the drops from before + 1 to after are logged once at most.
bool DropLogDue(uint64_t before, uint64_t after, uint64_t every);

// The reasons whose drop counters are due for a record between `before` and `after`, in the
// order of Metrics' fields.
std::vector<DropToLog> DropsToLog(const DatagramCounters& before, const DatagramCounters& after);

}  // namespace lockmesh::runtime
