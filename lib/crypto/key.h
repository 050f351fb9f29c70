// File: key.h
//
// One cluster key: 32 secret bytes for XChaCha20-Poly1305, and the public 4-byte key id that
// names it inside every sealed datagram (lib/crypto/sealed_frame.h), so that a receiver picks
// the right key of its keyring at once instead of trying each one.
//
// The key id is derived from the key, never assigned: the first 4 bytes of BLAKE2b keyed with
// the key over a fixed label. Every node computes the same id for the same key with nothing
// more to configure, and the id reveals nothing about the key (it is a MAC of a public
// string). Two different keys share an id with probability 2^-32; a keyring refuses such a
// pair rather than guess (see keyring.h).
//
// Keys come from configuration text (hex or base64) or from GenerateKey(). Every copy wipes
// its bytes with sodium_memzero when it is destroyed, and error messages never quote key
// text, so a key does not end up in a log by way of an error.
//
// Example:
//
//   absl::StatusOr<Key> key = ParseKey(config.cluster_key_text);  // 64 hex digits or base64
//   if (!key.ok()) return key.status();                            // says what is wrong
//   LOG(INFO) << "cluster key " << FormatKeyId(key->id());         // the id, never the key
//
//   Key fresh = GenerateKey();
//   std::cout << fresh.ToBase64() << "\n";  // to paste into every node's configuration
//
// Thread safety: a Key is an immutable value; concurrent reads of one Key are safe.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace lockmesh::crypto {

// The public name of a key inside sealed datagrams; see the file comment.
using KeyId = uint32_t;

// 8 lowercase hex digits, for logs and error messages.
std::string FormatKeyId(KeyId id);

class Key {
 public:
  static constexpr std::size_t kBytes = 32;  // crypto_aead_xchacha20poly1305_ietf_KEYBYTES
  using Bytes = std::array<unsigned char, kBytes>;

  // Any 32 bytes are a valid key. Derives the id.
  explicit Key(const Bytes& bytes);

  Key(const Key&) = default;
  Key& operator=(const Key&) = default;
  // Wipes the bytes (sodium_memzero), so the key does not linger in freed memory.
  ~Key();

  KeyId id() const { return id_; }

  // The secret bytes, kBytes of them; valid while this Key lives. For lib/crypto and for
  // tools that must write a key out; never log them.
  const unsigned char* data() const { return bytes_.data(); }

  // The key as configuration text: 64 lowercase hex digits / standard padded base64 (44
  // characters). ParseKey reads both back.
  std::string ToHex() const;
  std::string ToBase64() const;

  // Same bytes; in constant time (sodium_memcmp), so comparing keys leaks no timing.
  friend bool operator==(const Key& a, const Key& b);

 private:
  Bytes bytes_;
  KeyId id_;
};

// A key from exactly Key::kBytes raw bytes; InvalidArgument naming the length otherwise.
absl::StatusOr<Key> KeyFromBytes(std::string_view bytes);

// A key from configuration text, surrounding ASCII whitespace ignored (a trailing newline in a
// key file is fine):
//   - 64 hex digits, either case; or
//   - base64 of 32 bytes: standard (+/) or URL-safe (-_), with or without '=' padding.
// Text of only hex digits and even length is read as hex, anything else as base64; a valid key
// is never ambiguous (hex of 32 bytes is 64 characters, base64 of 32 bytes is 43 or 44).
// InvalidArgument otherwise: empty text, text over core::kKeyTextBytesMax bytes, hex of the
// wrong length, text that is neither hex nor base64, base64 of the wrong length. The messages
// name the problem and lengths, never the text.
absl::StatusOr<Key> ParseKey(std::string_view text);

// A fresh key from libsodium's secure randomness (randombytes_buf).
// Aborts if libsodium cannot be initialized (InitCrypto() fails): without secure randomness
// there is no safe key to return, and no caller could do anything sensible with an error.
Key GenerateKey();

}  // namespace lockmesh::crypto
