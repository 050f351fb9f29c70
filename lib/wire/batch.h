// File: batch.h
//
// Datagram batching: several encoded envelopes to one peer share one UDP datagram. The
// plaintext of every datagram (what lib/crypto seals) is one Batch of lib/wire/lockmesh.capnp
// holding 1..core::kBatchMessagesMax envelopes, each the bytes wire::Encode made. The batch
// is a flat (unpacked) single-segment Cap'n Proto message, so its size is known exactly
// before it is built and a sender can fill a datagram to the byte:
//
//   BatchBytes(n, padded) = 32 + 8 * n + padded
//
// 32 bytes of segment table, root pointer, version word and list pointer; 8 per envelope
// (its pointer); `padded` is the sum of the envelopes' sizes, each rounded up to a multiple
// of 8. An envelope of up to core::kEnvelopeBytesMax (1312) bytes, the most Encode makes,
// fits an empty batch of the default size (core::kSealedPlaintextBytesMax, 1355) alone.
//
// Example:
//
//   BatchBuilder batch;
//   for (const std::string& envelope : queued_for_peer) {  // each from wire::Encode
//     if (!batch.Fits(envelope.size())) send(Seal(batch.Finish()));
//     batch.Add(envelope);
//   }
//   if (!batch.empty()) send(Seal(batch.Finish()));
//   ...
//   absl::StatusOr<std::vector<std::string>> envelopes = DecodeBatch(plaintext);
//   if (!envelopes.ok()) { ++malformed_count; return; }  // drop the datagram
//   for (const std::string& bytes : *envelopes) { /* wire::Decode each on its own */ }
//
// DecodeBatch is a boundary against hostile input like wire::Decode: it never throws, reads
// with limits (a traversal limit of the input's own size in words, so no byte is counted
// twice; core::kWireNestingMax) and refuses inputs above core::kDatagramBytesMax unread.
// Its error codes:
//   kInvalidArgument  empty or oversized input, or a well-formed batch with no envelopes, more
//                     than core::kBatchMessagesMax, or an empty one;
//   kDataLoss         bytes that are not one well-formed flat Cap'n Proto message (not whole
//                     8-byte words, truncated, corrupt pointers, trailing bytes, elements that
//                     overlap so that reading them passes the traversal limit);
//   kUnimplemented    a well-formed batch of a protocol version this build does not speak.
//
// Thread safety: DecodeBatch is thread-safe (thread_local scratch only). A BatchBuilder is a
// plain value: one thread at a time; distinct builders may be used on distinct threads.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/core/limits.h"

namespace lockmesh::wire {

// Bytes of a batch before its envelopes: segment table, root pointer, the Batch struct's
// data word (version) and pointer word (the list).
inline constexpr std::size_t kBatchFixedBytes = 32;
// Bytes each envelope adds besides its own padded bytes: its pointer in the list.
inline constexpr std::size_t kBatchPerMessageBytes = 8;

// `bytes` rounded up to whole 8-byte words, as Cap'n Proto lays out a Data element.
constexpr std::size_t PaddedBytes(std::size_t bytes) { return (bytes + 7) / 8 * 8; }

// Exact size of the batch BatchBuilder::Finish makes of `count` envelopes whose sizes,
// each rounded up by PaddedBytes, add up to `padded_bytes`.
constexpr std::size_t BatchBytes(std::size_t count, std::size_t padded_bytes) {
  return kBatchFixedBytes + kBatchPerMessageBytes * count + padded_bytes;
}

static_assert(BatchBytes(1, 0) == core::kBatchOfOneOverheadBytes);
static_assert(BatchBytes(1, PaddedBytes(core::kEnvelopeBytesMax)) <=
              core::kSealedPlaintextBytesMax);
static_assert(BatchBytes(1, PaddedBytes(core::kEnvelopeBytesMax + 1)) >
              core::kSealedPlaintextBytesMax);

// Collects encoded envelopes for one datagram and writes them as one Batch.
class BatchBuilder {
 public:
  // A builder whose batches stay within `bytes_max` bytes.
  // REQUIRES: bytes_max <= core::kDatagramBytesMax (DecodeBatch refuses more).
  explicit BatchBuilder(std::size_t bytes_max = core::kSealedPlaintextBytesMax);

  // True when an envelope of `message_bytes` bytes may be added: it is not empty, the batch
  // holds fewer than core::kBatchMessagesMax, and bytes() would stay within bytes_max.
  // An empty builder of the default bytes_max fits any envelope Encode makes.
  bool Fits(std::size_t message_bytes) const;

  // Appends `message` (one envelope as wire::Encode made it; not checked).
  // REQUIRES: Fits(message.size()).
  void Add(std::string message);

  // Envelopes added since the last Finish.
  std::size_t count() const { return messages_.size(); }
  bool empty() const { return messages_.empty(); }

  // Exact size of what Finish would return now: BatchBytes(count(), padded bytes).
  std::size_t bytes() const { return BatchBytes(messages_.size(), padded_bytes_); }

  // The batch of the envelopes added, in the order added: the datagram's plaintext, of
  // exactly bytes() bytes. Leaves the builder empty, with the same bytes_max.
  // REQUIRES: !empty().
  std::string Finish();

 private:
  std::size_t bytes_max_;
  std::size_t padded_bytes_ = 0;  // sum of PaddedBytes over messages_
  std::vector<std::string> messages_;
};

// The envelopes of the batch in `bytes` (exactly one flat message, nothing after it), as raw
// bytes in the order sent; the caller Decodes each with wire::Decode. See the file comment
// for the error codes; the message of every error says what was wrong.
absl::StatusOr<std::vector<std::string>> DecodeBatch(std::string_view bytes);

}  // namespace lockmesh::wire
