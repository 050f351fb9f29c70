#include "lib/crypto/nonce.h"

#include <sodium.h>

#include <cstring>

namespace lockmesh::crypto {

static_assert(kNonceBytes == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
static_assert(kNoncePrefixBytes + sizeof(uint64_t) == kNonceBytes);

NonceSequence& NonceSequence::ForProcess() {
  // Never destroyed: sealing may run on other threads while the process exits.
  static NonceSequence* const sequence = [] {
    Prefix prefix;
    randombytes_buf(prefix.data(), prefix.size());
    return new NonceSequence(prefix);
  }();
  return *sequence;
}

void NonceSequence::Next(unsigned char out[kNonceBytes]) {
  const uint64_t n = counter_.fetch_add(1, std::memory_order_relaxed);
  std::memcpy(out, prefix_.data(), prefix_.size());
  for (std::size_t i = 0; i < sizeof n; ++i) {
    out[kNoncePrefixBytes + i] = static_cast<unsigned char>(n >> (8 * (sizeof n - 1 - i)));
  }
}

}  // namespace lockmesh::crypto
