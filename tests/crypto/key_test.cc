// Tests for lib/crypto/key.h: keys from bytes and from configuration text (hex and every base64
// variant), every malformed text refused with a message that names the problem and never
// quotes the text, key ids that are stable and distinct, and generated keys that differ.
#include "lib/crypto/key.h"

#include <set>
#include <string>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/core/limits.h"

namespace lockmesh::crypto {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Bytes 0x00, 0x01, ..., 0x1f.
Key::Bytes CountingBytes() {
  Key::Bytes bytes;
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<unsigned char>(i);
  return bytes;
}

constexpr char kCountingHex[] = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
constexpr char kCountingBase64[] = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

TEST(KeyTest, FromBytesTakesExactly32Bytes) {
  const std::string raw(reinterpret_cast<const char*>(CountingBytes().data()), Key::kBytes);
  absl::StatusOr<Key> key = KeyFromBytes(raw);
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_TRUE(*key == Key(CountingBytes()));
  for (std::size_t size : {0, 1, 16, 31, 33, 64}) {
    absl::StatusOr<Key> bad = KeyFromBytes(std::string(size, 'k'));
    EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument) << size;
    EXPECT_THAT(bad.status().message(), HasSubstr("exactly 32 bytes")) << size;
  }
}

TEST(KeyTest, HexAndBase64RoundTrip) {
  const Key key(CountingBytes());
  EXPECT_EQ(key.ToHex(), kCountingHex);
  EXPECT_EQ(key.ToBase64(), kCountingBase64);
  for (int i = 0; i < 20; ++i) {
    const Key fresh = GenerateKey();
    absl::StatusOr<Key> from_hex = ParseKey(fresh.ToHex());
    absl::StatusOr<Key> from_base64 = ParseKey(fresh.ToBase64());
    ASSERT_TRUE(from_hex.ok()) << from_hex.status();
    ASSERT_TRUE(from_base64.ok()) << from_base64.status();
    EXPECT_TRUE(*from_hex == fresh);
    EXPECT_TRUE(*from_base64 == fresh);
    EXPECT_EQ(from_hex->id(), fresh.id());
  }
}

TEST(KeyTest, ParsesEveryAcceptedSpelling) {
  const Key expected(CountingBytes());
  std::string upper_hex = kCountingHex;
  for (char& c : upper_hex) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::string no_padding = kCountingBase64;
  no_padding.pop_back();
  // A key whose base64 holds '+' and '/' (standard) or '-' and '_' (URL-safe).
  Key::Bytes high;
  high.fill(0xfb);
  const Key high_key(high);
  std::string url_safe = high_key.ToBase64();
  for (char& c : url_safe) c = c == '+' ? '-' : c == '/' ? '_' : c;
  ASSERT_NE(url_safe, high_key.ToBase64());
  std::string url_safe_no_padding = url_safe;
  url_safe_no_padding.pop_back();

  for (const std::string& text :
       {std::string(kCountingHex), upper_hex, std::string(kCountingBase64), no_padding,
        "  " + std::string(kCountingHex) + "\n", "\t" + std::string(kCountingBase64) + "\r\n"}) {
    absl::StatusOr<Key> key = ParseKey(text);
    ASSERT_TRUE(key.ok()) << text << ": " << key.status();
    EXPECT_TRUE(*key == expected) << text;
  }
  for (const std::string& text : {url_safe, url_safe_no_padding, high_key.ToBase64()}) {
    absl::StatusOr<Key> key = ParseKey(text);
    ASSERT_TRUE(key.ok()) << text << ": " << key.status();
    EXPECT_TRUE(*key == high_key) << text;
  }
}

TEST(KeyTest, RefusesMalformedTextWithoutQuotingIt) {
  const std::string hex = kCountingHex;
  struct Case {
    std::string text;
    std::string message;
  };
  const Case cases[] = {
      {"", "empty"},
      {" \n\t ", "empty"},
      {hex.substr(0, 62), "62 digits"},
      {hex + "20", "66 digits"},
      {hex.substr(0, 63) + "g", "decodes to 48 bytes"},  // a typo in hex reads as base64
      {"not a key at all!", "neither"},
      {std::string(kCountingBase64).substr(0, 40) + "==", "neither"},  // bad padding
      {"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==", "decodes to 31 bytes, not 32"},
      {"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g", "decodes to 33 bytes"},
      {hex + hex + hex, "over the limit"},
      {"AAECAwQFBgcICQoLDA0O\nDxAREhMUFRYXGBkaGxwdHh8=", "neither"},  // whitespace inside
  };
  for (const Case& c : cases) {
    absl::StatusOr<Key> key = ParseKey(c.text);
    EXPECT_EQ(key.status().code(), absl::StatusCode::kInvalidArgument) << c.text;
    EXPECT_THAT(key.status().message(), HasSubstr(c.message)) << c.text;
    if (c.text.size() > 8) {
      EXPECT_THAT(key.status().message(), Not(HasSubstr(c.text.substr(0, 8)))) << c.text;
    }
  }
}

TEST(KeyTest, TextLengthIsBoundedBeforeDecoding) {
  const std::string padded = std::string(core::kKeyTextBytesMax - 64, ' ') + kCountingHex;
  EXPECT_TRUE(ParseKey(padded).ok());
  EXPECT_EQ(ParseKey(padded + " ").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseKey(std::string(10'000, 'A')).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(KeyTest, IdsAreDerivedStableAndDistinct) {
  // Pinned: the id is part of the wire format, so a change here breaks mixed-version clusters.
  // The value is the first 4 bytes of BLAKE2b-128 keyed with the key over "lockmesh key id v1",
  // computed independently with Python's hashlib.blake2b(..., key=..., digest_size=16).
  EXPECT_EQ(FormatKeyId(Key(CountingBytes()).id()), "7acbb9cc");
  EXPECT_EQ(Key(CountingBytes()).id(), 0x7acbb9ccu);
  EXPECT_EQ(FormatKeyId(0x00ab01ffu), "00ab01ff");
  std::set<KeyId> ids;
  std::set<std::string> keys;
  for (int i = 0; i < 1000; ++i) {
    const Key key = GenerateKey();
    ids.insert(key.id());
    keys.insert(key.ToHex());
  }
  EXPECT_EQ(keys.size(), 1000u);
  EXPECT_EQ(ids.size(), 1000u);
}

TEST(KeyTest, EqualityIsByBytes) {
  Key::Bytes other = CountingBytes();
  other[31] ^= 1;
  EXPECT_TRUE(Key(CountingBytes()) == Key(CountingBytes()));
  EXPECT_FALSE(Key(CountingBytes()) == Key(other));
  EXPECT_NE(Key(CountingBytes()).id(), Key(other).id());
}

}  // namespace
}  // namespace lockmesh::crypto
