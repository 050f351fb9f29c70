#include "lib/crypto/sealed_frame.h"

#include <sodium.h>

#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "lib/core/check.h"

namespace lockmesh::crypto {
namespace {

static_assert(kFrameMacBytes == crypto_aead_xchacha20poly1305_ietf_ABYTES);

constexpr std::size_t kKeyIdOffset = 1;
constexpr std::size_t kNonceOffset = kKeyIdOffset + kFrameKeyIdBytes;

// Header and cluster name, one buffer as libsodium wants it. Cluster names are short, so this
// stays on the stack; a long one costs an allocation, nothing more.
using AdditionalData = absl::InlinedVector<unsigned char, kFrameHeaderBytes + 99>;

AdditionalData MakeAdditionalData(const unsigned char* header, std::string_view cluster_name) {
  AdditionalData ad(header, header + kFrameHeaderBytes);
  ad.insert(ad.end(), cluster_name.begin(), cluster_name.end());
  return ad;
}

void WriteKeyId(unsigned char* out, KeyId id) {
  out[0] = static_cast<unsigned char>(id >> 24);
  out[1] = static_cast<unsigned char>(id >> 16);
  out[2] = static_cast<unsigned char>(id >> 8);
  out[3] = static_cast<unsigned char>(id);
}

KeyId ReadKeyId(const unsigned char* in) {
  return (KeyId{in[0]} << 24) | (KeyId{in[1]} << 16) | (KeyId{in[2]} << 8) | KeyId{in[3]};
}

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

absl::StatusOr<std::string> Seal(const Keyring& keyring, std::string_view cluster_name,
                                 std::string_view plaintext, NonceSequence& nonces) {
  if (plaintext.size() > core::kSealedPlaintextBytesMax) {
    return absl::InvalidArgumentError(
        absl::StrFormat("plaintext of %d bytes exceeds the sealed payload budget of %d bytes",
                        plaintext.size(), core::kSealedPlaintextBytesMax));
  }
  std::string frame(plaintext.size() + kFrameOverheadBytes, '\0');
  auto* out = reinterpret_cast<unsigned char*>(frame.data());
  out[0] = kFrameVersion;
  nonces.Next(out + kNonceOffset);
  keyring.WithPrimaryKey([&](KeyId id, const unsigned char* key) {
    WriteKeyId(out + kKeyIdOffset, id);
    const AdditionalData ad = MakeAdditionalData(out, cluster_name);
    unsigned long long sealed_bytes = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(out + kFrameHeaderBytes, &sealed_bytes,
                                               Bytes(plaintext), plaintext.size(), ad.data(),
                                               ad.size(), nullptr, out + kNonceOffset, key);
    LM_CHECK(sealed_bytes == plaintext.size() + kFrameMacBytes);
  });
  return frame;
}

absl::StatusOr<std::string> Open(const Keyring& keyring, std::string_view cluster_name,
                                 std::string_view datagram) {
  if (datagram.size() > core::kDatagramBytesMax) {
    return absl::OutOfRangeError(absl::StrFormat("oversized: %d-byte datagram, over %d bytes",
                                                 datagram.size(), core::kDatagramBytesMax));
  }
  if (datagram.empty()) return absl::DataLossError("too short: empty datagram");
  const unsigned char* in = Bytes(datagram);
  if (in[0] != kFrameVersion) {
    return absl::UnimplementedError(absl::StrFormat(
        "unknown frame version %d; this build opens version %d", in[0], kFrameVersion));
  }
  if (datagram.size() < kFrameOverheadBytes) {
    return absl::DataLossError(
        absl::StrFormat("too short: %d-byte datagram, under the %d bytes of header and MAC",
                        datagram.size(), kFrameOverheadBytes));
  }
  const KeyId id = ReadKeyId(in + kKeyIdOffset);
  std::string plaintext(datagram.size() - kFrameOverheadBytes, '\0');
  const AdditionalData ad = MakeAdditionalData(in, cluster_name);
  int rc = -1;
  const bool known = keyring.WithKey(id, [&](const unsigned char* key) {
    unsigned long long opened_bytes = 0;
    rc = crypto_aead_xchacha20poly1305_ietf_decrypt(
        reinterpret_cast<unsigned char*>(plaintext.data()), &opened_bytes, nullptr,
        in + kFrameHeaderBytes, datagram.size() - kFrameHeaderBytes, ad.data(), ad.size(),
        in + kNonceOffset, key);
  });
  if (!known) {
    return absl::NotFoundError(absl::StrFormat("unknown key id %s", FormatKeyId(id)));
  }
  if (rc != 0) {
    return absl::UnauthenticatedError(
        "authentication failed: wrong key or cluster name, or altered bytes");
  }
  return plaintext;
}

}  // namespace lockmesh::crypto
