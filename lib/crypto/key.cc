#include "lib/crypto/key.h"

#include <sodium.h>

#include <algorithm>
#include <initializer_list>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "lib/core/check.h"
#include "lib/core/limits.h"
#include "lib/crypto/init.h"

namespace lockmesh::crypto {
namespace {

static_assert(Key::kBytes == crypto_aead_xchacha20poly1305_ietf_KEYBYTES);
static_assert(sizeof(KeyId) == 4);

// Domain separation: the id is a MAC of this label under the key, so it can never equal any
// other value computed from the key elsewhere. Changing it changes every key id.
constexpr std::string_view kKeyIdLabel = "lockmesh key id v1";

KeyId DeriveKeyId(const Key::Bytes& key) {
  // BLAKE2b needs no sodium_init(), but this keeps every libsodium call after it.
  InitCrypto().IgnoreError();
  unsigned char mac[crypto_generichash_BYTES_MIN];
  crypto_generichash(mac, sizeof mac, reinterpret_cast<const unsigned char*>(kKeyIdLabel.data()),
                     kKeyIdLabel.size(), key.data(), key.size());
  return (KeyId{mac[0]} << 24) | (KeyId{mac[1]} << 16) | (KeyId{mac[2]} << 8) | KeyId{mac[3]};
}

bool IsAsciiSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::string_view TrimAsciiWhitespace(std::string_view text) {
  while (!text.empty() && IsAsciiSpace(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsAsciiSpace(text.back())) text.remove_suffix(1);
  return text;
}

bool IsHexDigit(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

absl::StatusOr<Key> ParseHexKey(std::string_view text) {
  if (text.size() != 2 * Key::kBytes) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "hex key text has %d digits; a key is %d hex digits", text.size(), 2 * Key::kBytes));
  }
  Key::Bytes bytes;
  std::size_t length = 0;
  // hex_end == nullptr makes libsodium refuse unless it consumed all of the text.
  const int rc = sodium_hex2bin(bytes.data(), bytes.size(), text.data(), text.size(), nullptr,
                                &length, nullptr);
  LM_CHECK(rc == 0 && length == Key::kBytes);  // the text was checked to be 64 hex digits
  Key key(bytes);
  sodium_memzero(bytes.data(), bytes.size());
  return key;
}

absl::StatusOr<Key> ParseBase64Key(std::string_view text) {
  // Big enough for anything kKeyTextBytesMax characters decode to, so a wrong length is
  // reported as a length rather than as bad text.
  unsigned char decoded[core::kKeyTextBytesMax];
  std::size_t length = 0;
  const bool padded = text.back() == '=';
  bool ok = false;
  for (int variant :
       {padded ? sodium_base64_VARIANT_ORIGINAL : sodium_base64_VARIANT_ORIGINAL_NO_PADDING,
        padded ? sodium_base64_VARIANT_URLSAFE : sodium_base64_VARIANT_URLSAFE_NO_PADDING}) {
    if (sodium_base642bin(decoded, sizeof decoded, text.data(), text.size(), nullptr, &length,
                          nullptr, variant) == 0) {
      ok = true;
      break;
    }
  }
  absl::StatusOr<Key> result = absl::InvalidArgumentError(
      "key text is neither 64 hex digits nor base64 (standard or URL-safe) of 32 bytes");
  if (ok && length != Key::kBytes) {
    result = absl::InvalidArgumentError(absl::StrFormat(
        "key text is not 64 hex digits, and as base64 it decodes to %d bytes, not %d", length,
        Key::kBytes));
  } else if (ok) {
    Key::Bytes bytes;
    std::copy_n(decoded, Key::kBytes, bytes.begin());
    result = Key(bytes);
    sodium_memzero(bytes.data(), bytes.size());
  }
  sodium_memzero(decoded, sizeof decoded);
  return result;
}

}  // namespace

std::string FormatKeyId(KeyId id) { return absl::StrFormat("%08x", id); }

Key::Key(const Bytes& bytes) : bytes_(bytes), id_(DeriveKeyId(bytes)) {}

Key::~Key() { sodium_memzero(bytes_.data(), bytes_.size()); }

std::string Key::ToHex() const {
  char text[2 * kBytes + 1];
  sodium_bin2hex(text, sizeof text, bytes_.data(), bytes_.size());
  std::string result(text, 2 * kBytes);
  sodium_memzero(text, sizeof text);
  return result;
}

std::string Key::ToBase64() const {
  constexpr int kVariant = sodium_base64_VARIANT_ORIGINAL;
  char text[sodium_base64_ENCODED_LEN(kBytes, kVariant)];
  sodium_bin2base64(text, sizeof text, bytes_.data(), bytes_.size(), kVariant);
  std::string result(text, sizeof text - 1);  // without the terminating NUL
  sodium_memzero(text, sizeof text);
  return result;
}

bool operator==(const Key& a, const Key& b) {
  return sodium_memcmp(a.bytes_.data(), b.bytes_.data(), Key::kBytes) == 0;
}

absl::StatusOr<Key> KeyFromBytes(std::string_view bytes) {
  if (bytes.size() != Key::kBytes) {
    return absl::InvalidArgumentError(
        absl::StrFormat("a key is exactly %d bytes, not %d", Key::kBytes, bytes.size()));
  }
  Key::Bytes raw;
  std::copy_n(bytes.data(), Key::kBytes, raw.begin());
  Key key(raw);
  sodium_memzero(raw.data(), raw.size());
  return key;
}

absl::StatusOr<Key> ParseKey(std::string_view text) {
  if (text.size() > core::kKeyTextBytesMax) {
    return absl::InvalidArgumentError(absl::StrFormat("key text is %d bytes, over the limit of %d",
                                                      text.size(), core::kKeyTextBytesMax));
  }
  text = TrimAsciiWhitespace(text);
  if (text.empty()) return absl::InvalidArgumentError("key text is empty");
  if (text.size() % 2 == 0 && std::all_of(text.begin(), text.end(), IsHexDigit)) {
    return ParseHexKey(text);
  }
  return ParseBase64Key(text);
}

Key GenerateKey() {
  LM_CHECK(InitCrypto().ok());
  Key::Bytes bytes;
  randombytes_buf(bytes.data(), bytes.size());
  Key key(bytes);
  sodium_memzero(bytes.data(), bytes.size());
  return key;
}

}  // namespace lockmesh::crypto
