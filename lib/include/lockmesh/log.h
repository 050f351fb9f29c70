// File: lockmesh/log.h
//
// The structured log hook: a node reports what it does (membership changes, lost leases, the
// circuit breaker, dropped datagrams, key rotation) as records that the embedder routes to its
// own logger. A node without a hook logs nothing.
//
//   options.log = [](const lockmesh::LogRecord& r) {
//     std::fprintf(stderr, "%s %s %s: %s\n", r.node.data(), LogLevelName(r.level).data(),
//                  r.event.data(), r.message.c_str());
//   };
//   options.log_level = lockmesh::LogLevel::kDebug;
//
// Thread safety: the hook is called on the node's executor, one record at a time per node,
// never concurrently for one node. It must not block and must not call blocking Node methods.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace lockmesh {

enum class LogLevel : uint8_t { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

// "debug", "info", "warning", "error".
std::string_view LogLevelName(LogLevel level);

struct LogRecord {
  LogLevel level = LogLevel::kInfo;
  // A stable, machine-readable name such as "member.dead", "lease.lost", "breaker.open",
  // "datagram.dropped"; valid during the call only.
  std::string_view event;
  // One human-readable line; valid during the call only.
  std::string message;
  // The reporting node's name; valid during the call only.
  std::string_view node;
};

using LogHook = std::function<void(const LogRecord&)>;

}  // namespace lockmesh
