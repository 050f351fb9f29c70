// File: codec.h
//
// The codec between core::Envelope values and their bytes: packed Cap'n Proto per
// lib/wire/lockmesh.capnp. The core never sees bytes; the runtime and the simulator call
// Encode before batching (lib/wire/batch.h) and sealing a datagram, and Decode on each
// envelope of a datagram after opening it.
//
// Decode is the boundary against hostile or corrupt input. It never throws: every Cap'n
// Proto (kj) exception and every malformed field becomes a Status, so the caller can count
// the datagram and drop it. Readers run with explicit limits (core::kWireTraversalWordsMax,
// core::kWireNestingMax) and inputs above core::kDatagramBytesMax are refused unread.
//
// Example:
//
//   absl::StatusOr<std::string> bytes = lockmesh::wire::Encode(envelope);
//   if (!bytes.ok()) return bytes.status();  // a bug in the sender: name too long, ...
//   send(*bytes);
//   ...
//   absl::StatusOr<core::Envelope> env = lockmesh::wire::Decode(datagram);
//   if (!env.ok()) { ++malformed_count; return; }  // drop it
//
// Error codes of Decode, so a caller can tell the cases apart in its counters:
//   kInvalidArgument  empty or oversized input, or a well-formed message with bad content
//                     (unknown message kind, refuse reason or member state, bad resource
//                     name, member fields over the bounds of core/limits.h, too many
//                     updates, duplicate tag keys);
//   kDataLoss         bytes that are not one well-formed Cap'n Proto message (truncated,
//                     corrupt pointers, trailing bytes, over the traversal limits);
//   kUnimplemented    a well-formed envelope of a protocol version this build does not speak.
//
// Thread safety: both functions are thread-safe; they keep only thread_local scratch space.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "lib/core/messages.h"

namespace lockmesh::wire {

// Packed Cap'n Proto bytes of `env`, stamped with core::kProtocolVersion (the caller does
// not set a version). InvalidArgument if the resource name is empty or longer than
// core::kResourceBytesMax, a refuse reason is out of range, a membership message breaks the
// bounds of core/limits.h (addresses, names, tags, updates per message), or the result would
// exceed core::kEnvelopeBytesMax bytes (the most that fits a batch alone within a sealed
// datagram) or core::kWireTraversalWordsMax words: no datagram could carry such a message, so
// Encode refuses it first (Decode accepts up to core::kDatagramBytesMax bytes). Membership
// messages are checked for bounds only; what their fields mean is the gossip core's to judge.
// (Outgoing::to_address is routing for the sender and is not part of the envelope.)
absl::StatusOr<std::string> Encode(const core::Envelope& env);

// The envelope in `bytes` (exactly one packed message, nothing after it). See the file
// comment for the error codes; the message of every error says what was wrong.
absl::StatusOr<core::Envelope> Decode(std::string_view bytes);

}  // namespace lockmesh::wire
