// File: tools/limits.h
//
// Every bound the command-line tools keep, in one flat list; names carry their units.
#pragma once

#include <cstddef>
#include <cstdint>

namespace lockmesh::tools {

// `lockmesh run` watches its lease every TTL / kCliWatchTtlDivisor, within these bounds: often
// enough to stop the command soon after a loss, rarely enough to cost nothing on the node.
inline constexpr int64_t kCliWatchTtlDivisor = 10;
inline constexpr int64_t kCliWatchPeriodMinMs = 20;
inline constexpr int64_t kCliWatchPeriodMaxMs = 1000;

// How much longer than the requested wait `lockmesh run` lets an acquire's long-poll take
// before it gives up on the node: the node answers by the wait plus one attempt.
inline constexpr int64_t kCliAcquireSlackMs = 10'000;
// How long any other request to the local node (status, members, holder, a lease check, a
// release) may take: the node answers these from memory.
inline constexpr int64_t kCliRequestTimeoutMs = 5'000;

// The largest response body the command reads from the node (a large cluster's /v1/status).
inline constexpr std::size_t kCliResponseBytesMax = 4 << 20;
// JSON nesting the command's parser accepts before it calls the text malformed.
inline constexpr int kCliJsonDepthMax = 64;

// The largest --ttl, --wait and --grace a person may type (a day): anything longer is a typo.
inline constexpr int64_t kCliDurationMaxMs = 24LL * 3600 * 1000;

}  // namespace lockmesh::tools
