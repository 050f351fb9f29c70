// File: membership/wire_budget.h
//
// Upper bounds of the encoded size of membership messages, so the core can fill a
// datagram with piggybacked updates and split push-pull state without seeing bytes.
// The bounds follow the Cap'n Proto layout of lib/wire/lockmesh.capnp and its packing:
// a packed word costs at most 2 + (its non-zero bytes) bytes (a tag byte, the non-zero
// bytes, and one run count after an all-zero or all-non-zero word). Counting every
// integer word as 8 non-zero bytes, every pointer as 4 and every data byte as non-zero
// gives a bound that holds for any content. tests/wire/codec_test.cc checks it against
// the real codec on worst-case messages; a schema change must update wire_budget.cc.
//
//   WireSize size = WireSizeOf(PingMsg{.seq = 1, .source_address = self.address});
//   for (const MemberUpdate& u : pending) {
//     if (!Fits(size + WireSizeOf(u))) break;
//     size += WireSizeOf(u);  // ... and append u
//   }
//
// Pure functions; thread-safe.
#pragma once

#include <cstddef>

#include "lib/core/limits.h"
#include "lib/core/membership/member.h"
#include "lib/core/messages.h"

namespace lockmesh::core {

// Bounds of one encoded message (or of a part of one): packed bytes and unpacked
// words (the reader's traversal limit is in words).
struct WireSize {
  std::size_t bytes = 0;
  std::size_t words = 0;
  constexpr WireSize& operator+=(const WireSize& o) {
    bytes += o.bytes;
    words += o.words;
    return *this;
  }
  friend constexpr WireSize operator+(WireSize a, const WireSize& b) { return a += b; }
};

// True when a message of this size may be sent: at most kEnvelopeBytesMax bytes (what
// wire::Encode accepts: one envelope alone in a sealed batch datagram) and
// kWireTraversalWordsMax words.
inline bool Fits(const WireSize& size) {
  return size.bytes <= kEnvelopeBytesMax && size.words <= kWireTraversalWordsMax;
}

// What one update adds to the message that carries it.
WireSize WireSizeOf(const MemberUpdate& update);

// A whole envelope (segment table, envelope, body, updates) of each membership message.
WireSize WireSizeOf(const PingMsg& m);
WireSize WireSizeOf(const PingReqMsg& m);
WireSize WireSizeOf(const AckMsg& m);
WireSize WireSizeOf(const NackMsg& m);
WireSize WireSizeOf(const GossipMsg& m);
WireSize WireSizeOf(const PushPullMsg& m);

// The bound of any membership message body; REQUIRES: IsGossipMessage(body).
WireSize GossipWireSize(const MessageBody& body);

// The largest possible update (every field and byte bound at its limit). Both the
// Gossip and PushPull messages carry one such update within a datagram.
WireSize MemberUpdateWireSizeMax();

}  // namespace lockmesh::core
