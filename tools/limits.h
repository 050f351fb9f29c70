// File: tools/limits.h
//
// Every bound of the command-line tools (the node daemon's HTTP servers and its local lock
// API, the lockmesh command), in one flat list. Names carry their units.
#pragma once

#include <cstddef>
#include <cstdint>

namespace lockmesh::tools {

// Open connections per HTTP server (the API socket and the metrics address each); one more
// is answered 503 and closed.
inline constexpr int kHttpConnectionsMax = 256;
// A request's header block; larger gets 431.
inline constexpr std::size_t kHttpHeaderBytesMax = 8 * 1024;
// A request body on the local API (docs/local-api.md); larger gets 413.
inline constexpr std::size_t kApiBodyBytesMax = 4 * 1024;
// How long a connection may stay silent, or take to send a request, while none of its
// requests waits.
inline constexpr int64_t kHttpIdleMsMax = 10 * 60'000;
// After a response that closes the connection: how long what the client still sends is read
// and dropped before the close.
inline constexpr int64_t kHttpLingerMs = 1'000;

// JSON request bodies: nesting depth and members per object.
inline constexpr int kJsonDepthMax = 8;
inline constexpr std::size_t kJsonMembersMax = 64;

// The local API: leases one connection may hold at once, and the longest wait it may ask.
inline constexpr std::size_t kApiLeasesPerConnectionMax = 64;
inline constexpr int64_t kApiWaitMsMax = 3'600'000;
// The shortest lease a request may ask for (AcquireOptions' own floor).
inline constexpr int64_t kApiTtlMsMin = 100;
// Defaults of an acquire request's ttl_ms and wait_ms.
inline constexpr int64_t kApiTtlMsDefault = 10'000;
inline constexpr int64_t kApiWaitMsDefault = 10'000;
// A resource name, in bytes (lockmesh's own bound).
inline constexpr std::size_t kResourceBytesMax = 256;

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
