#include "lib/core/membership/wire_budget.h"

#include <variant>

#include "lib/core/check.h"

namespace lockmesh::core {
namespace {

// Packed cost of one word with at most `nonzero` non-zero bytes (see the header).
constexpr std::size_t Word(std::size_t nonzero) { return 2 + nonzero; }

constexpr std::size_t kIntWord = Word(8);  // any 64-bit integer (ids, incarnations, stamps)
// A struct or list pointer: offset below 2^14 words and sizes below 2^13, so at most
// bytes 0-1 and 4-5 (or 4 and 6) are non-zero. The codec refuses messages over
// kWireTraversalWordsMax (1024) words, which keeps every offset and size small.
constexpr std::size_t kPointer = Word(4);
static_assert(kWireTraversalWordsMax < (1u << 13));

constexpr WireSize Pointers(std::size_t n) { return {n * kPointer, n}; }
constexpr WireSize DataWords(std::size_t bytes, std::size_t words) { return {bytes, words}; }

// A Data field's content; an empty field is a null pointer with no content.
constexpr WireSize Bytes(std::size_t len) {
  const std::size_t words = (len + 7) / 8;
  return {2 * words + len, words};
}

// The tag word of a list of structs (always counted, even when the list is empty).
constexpr WireSize kListTag = {kPointer, 1};

// Segment table (one segment of at most 1024 words: two non-zero bytes), root pointer
// and the Envelope struct: word 0 holds version and union tag (4 non-zero bytes), then
// from, fromIncarnation, to, hlc, voterSetHash; one pointer (the body).
constexpr WireSize kEnvelope =
    WireSize{Word(2), 1} + Pointers(1) + DataWords(Word(4) + 5 * kIntWord, 6) + Pointers(1);

// MemberUpdate: node, incarnation, from; word 3 holds state (2 bytes) and voter (1);
// pointers name, address, tags.
constexpr WireSize kUpdateFixed = DataWords(3 * kIntWord + Word(3), 4) + Pointers(3);
// One Tag element: two pointers (key, value).
constexpr WireSize kTagFixed = Pointers(2);

WireSize Updates(const std::vector<MemberUpdate>& updates) {
  WireSize size = kListTag;
  for (const MemberUpdate& u : updates) size += WireSizeOf(u);
  return size;
}

}  // namespace

WireSize WireSizeOf(const MemberUpdate& u) {
  WireSize size = kUpdateFixed + Bytes(u.info.name.size()) + Bytes(u.info.address.size());
  if (!u.info.tags.empty()) {
    size += kListTag;
    for (const auto& [key, value] : u.info.tags) {
      size += kTagFixed + Bytes(key.size()) + Bytes(value.size());
    }
  }
  return size;
}

// Ping: word 0 holds seq (4 bytes); pointers sourceAddress, updates.
WireSize WireSizeOf(const PingMsg& m) {
  return kEnvelope + DataWords(Word(4), 1) + Pointers(2) + Bytes(m.source_address.size()) +
         Updates(m.updates);
}

// PingReq: word 0 holds seq (4 bytes) and nack (1), word 1 target; pointers
// targetAddress, sourceAddress, updates.
WireSize WireSizeOf(const PingReqMsg& m) {
  return kEnvelope + DataWords(Word(5) + kIntWord, 2) + Pointers(3) +
         Bytes(m.target_address.size()) + Bytes(m.source_address.size()) + Updates(m.updates);
}

// Ack and Nack: word 0 holds seq; pointer updates.
WireSize WireSizeOf(const AckMsg& m) {
  return kEnvelope + DataWords(Word(4), 1) + Pointers(1) + Updates(m.updates);
}

WireSize WireSizeOf(const NackMsg& m) {
  return kEnvelope + DataWords(Word(4), 1) + Pointers(1) + Updates(m.updates);
}

// Gossip: pointer updates only.
WireSize WireSizeOf(const GossipMsg& m) { return kEnvelope + Pointers(1) + Updates(m.updates); }

// PushPull: word 0 holds join and reply (byte 0), chunkIndex, chunkCount; pointer members.
WireSize WireSizeOf(const PushPullMsg& m) {
  return kEnvelope + DataWords(Word(5), 1) + Pointers(1) + Updates(m.members);
}

WireSize GossipWireSize(const MessageBody& body) {
  return std::visit(
      []<typename T>(const T& m) -> WireSize {
        if constexpr (GossipBody<T>) {
          return WireSizeOf(m);
        } else {
          LM_CHECK(false && "GossipWireSize of a lease message");
          return WireSize{};
        }
      },
      body);
}

WireSize MemberUpdateWireSizeMax() {
  // Data of all tags: each of the 2 * kMemberTagsMax fields costs 2 * ceil(len / 8) + len,
  // largest when the bytes are spread so every field wastes 7 bytes of padding.
  constexpr std::size_t kTagFields = 2 * kMemberTagsMax;
  constexpr std::size_t kTagDataWords = (kMemberTagsBytesMax + 7 * kTagFields) / 8;
  constexpr WireSize kTagData = {2 * kTagDataWords + kMemberTagsBytesMax, kTagDataWords};
  return kUpdateFixed + Bytes(kMemberNameBytesMax) + Bytes(kMemberAddressBytesMax) + kListTag +
         WireSize{kMemberTagsMax * kTagFixed.bytes, kMemberTagsMax * kTagFixed.words} + kTagData;
}

}  // namespace lockmesh::core
