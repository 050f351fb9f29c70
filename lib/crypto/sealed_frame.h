// File: sealed_frame.h
//
// Sealing and opening one datagram with libsodium's XChaCha20-Poly1305 AEAD under a keyring
// (lib/crypto/keyring.h). The runtime seals every datagram it sends (after wire::Encode) and
// opens every datagram it receives (before wire::Decode); the simulator does the same, so the
// tested path is the deployed one.
//
// Frame layout (all sizes in bytes):
//
//   offset  size  field
//        0     1  version      kFrameVersion (1)
//        1     4  key id       KeyId of the sealing key, big-endian
//        5    24  nonce        never repeated under a key (lib/crypto/nonce.h)
//       29     n  ciphertext   the plaintext, encrypted
//     29+n    16  MAC          Poly1305 tag over ciphertext and additional data
//
// The additional data is the 29 header bytes followed by the cluster name: a frame opens only
// under the key it names, in a cluster of the same name, with its header exactly as sent, so
// two clusters sharing a key still cannot hear each other. The overhead is kFrameOverheadBytes
// = 45 (= core::kSealOverheadBytes), so a datagram stays within core::kDatagramBytesMax (1400)
// when the plaintext stays within core::kSealedPlaintextBytesMax (1355).
//
// Why a random prefix and a counter (lib/crypto/nonce.h): XChaCha20's 192-bit nonce leaves
// room for 128 random bits drawn once per process and a 64-bit counter, so nodes need no
// coordination and no state that a restart could lose and reuse, and sealing makes no system
// call for randomness.
//
// Why the key id, rather than trying every key: an unknown key is told apart from a forgery
// (a misconfigured node is visible in the counters as such), and the work for one forged
// datagram is one MAC check, not one per key in the ring.
//
// Replays: Open is stateless, so a replayed datagram opens again to the same plaintext. That
// is deliberate: the protocol tolerates duplicates (DESIGN.md, "Wire and security"), and
// replay protection here would need per-sender state that a restart loses anyway.
//
// Example:
//
//   absl::StatusOr<std::string> datagram = Seal(*keyring, "prod-eu", *wire::Encode(env));
//   if (!datagram.ok()) return datagram.status();  // a bug in the sender: too large
//   socket.send(*datagram);
//   ...
//   absl::StatusOr<std::string> plaintext = Open(*keyring, "prod-eu", received);
//   if (!plaintext.ok()) { ++dropped[plaintext.status().code()]; return; }  // drop it
//   absl::StatusOr<core::Envelope> env = wire::Decode(*plaintext);
//
// Error codes of Open, one per reason a datagram is dropped, so a caller can count each:
//   kOutOfRange       oversized: more than core::kDatagramBytesMax bytes (refused unread);
//   kDataLoss         too short: empty, or fewer bytes than a header and a MAC;
//   kUnimplemented    unknown frame version (the first byte is not kFrameVersion);
//   kNotFound         unknown key id: the keyring holds no such key (a node sealing with a key
//                     this node has not been given, or an id bit flipped);
//   kUnauthenticated  authentication failed: wrong key, wrong cluster name, or any altered or
//                     cut-off byte (a frame has no length field, so a frame truncated after its
//                     header reads as a forgery, not as too short).
// The version is checked before the length so that a future version with a shorter header is
// reported as an unknown version.
//
// Thread safety: both functions are thread-safe; they keep no state and take the keyring's
// lock shared.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "lib/core/limits.h"
#include "lib/crypto/keyring.h"
#include "lib/crypto/nonce.h"

namespace lockmesh::crypto {

inline constexpr uint8_t kFrameVersion = 1;
inline constexpr std::size_t kFrameKeyIdBytes = sizeof(KeyId);
inline constexpr std::size_t kFrameNonceBytes = kNonceBytes;
inline constexpr std::size_t kFrameHeaderBytes = 1 + kFrameKeyIdBytes + kFrameNonceBytes;
inline constexpr std::size_t kFrameMacBytes = 16;  // crypto_aead_xchacha20poly1305_ietf_ABYTES
// What Seal adds to a plaintext.
inline constexpr std::size_t kFrameOverheadBytes = kFrameHeaderBytes + kFrameMacBytes;
static_assert(kFrameOverheadBytes == core::kSealOverheadBytes,
              "core/limits.h budgets payloads for a different frame overhead");

// The datagram that carries `plaintext` (any bytes, empty included), sealed with the
// keyring's primary key, the next nonce of `nonces`, and `cluster_name` as additional data;
// see the file comment for the layout. Its size is plaintext.size() + kFrameOverheadBytes.
// InvalidArgument if plaintext.size() > core::kSealedPlaintextBytesMax: the datagram would
// exceed core::kDatagramBytesMax and every receiver would refuse it.
absl::StatusOr<std::string> Seal(const Keyring& keyring, std::string_view cluster_name,
                                 std::string_view plaintext,
                                 NonceSequence& nonces = NonceSequence::ForProcess());

// The plaintext that `datagram` carries, if it was sealed by Seal with a key this keyring
// holds and the same `cluster_name`. Any bytes may be passed; it never crashes, reads only
// within `datagram`, and returns one of the error codes of the file comment otherwise.
absl::StatusOr<std::string> Open(const Keyring& keyring, std::string_view cluster_name,
                                 std::string_view datagram);

}  // namespace lockmesh::crypto
