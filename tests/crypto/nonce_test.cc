// Tests for lib/crypto/nonce.h: a nonce is the prefix then the counter, never repeats within
// a sequence (threads included), differs between processes' prefixes, and an injected prefix
// makes sealing deterministic.
#include "lib/crypto/nonce.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <thread>
#include <vector>

#include "lib/crypto/init.h"
#include "lib/crypto/key.h"
#include "lib/crypto/sealed_frame.h"

namespace lockmesh::crypto {
namespace {

std::string NextOf(NonceSequence& s) {
  unsigned char out[kNonceBytes];
  s.Next(out);
  return std::string(reinterpret_cast<const char*>(out), kNonceBytes);
}

NonceSequence::Prefix PrefixOf(unsigned char b) {
  NonceSequence::Prefix p;
  p.fill(b);
  return p;
}

TEST(NonceSequenceTest, IsThePrefixThenABigEndianCounter) {
  NonceSequence s(PrefixOf(0xab));
  const std::string first = NextOf(s);
  const std::string second = NextOf(s);
  EXPECT_EQ(first.substr(0, kNoncePrefixBytes), std::string(kNoncePrefixBytes, '\xab'));
  EXPECT_EQ(first.substr(kNoncePrefixBytes), std::string(8, '\0'));
  EXPECT_EQ(second.substr(kNoncePrefixBytes), std::string(7, '\0') + '\x01');
}

TEST(NonceSequenceTest, NeverRepeatsAcrossThreads) {
  NonceSequence s(PrefixOf(1));
  constexpr int kThreads = 4, kEach = 5'000;
  std::vector<std::vector<std::string>> seen(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) seen[t].push_back(NextOf(s));
    });
  }
  for (std::thread& t : threads) t.join();
  std::set<std::string> all;
  for (const auto& v : seen) all.insert(v.begin(), v.end());
  EXPECT_EQ(all.size(), static_cast<std::size_t>(kThreads * kEach));
}

TEST(NonceSequenceTest, TheProcessSequenceHasARandomPrefix) {
  ASSERT_TRUE(InitCrypto().ok());
  const std::string a = NextOf(NonceSequence::ForProcess());
  const std::string b = NextOf(NonceSequence::ForProcess());
  EXPECT_EQ(a.substr(0, kNoncePrefixBytes), b.substr(0, kNoncePrefixBytes));
  EXPECT_NE(a.substr(0, kNoncePrefixBytes), std::string(kNoncePrefixBytes, '\0'));
  EXPECT_NE(a, b);
}

TEST(NonceSequenceTest, AnInjectedPrefixMakesSealingDeterministic) {
  ASSERT_TRUE(InitCrypto().ok());
  absl::StatusOr<std::unique_ptr<Keyring>> keyring = Keyring::Create({GenerateKey()});
  ASSERT_TRUE(keyring.ok()) << keyring.status();
  NonceSequence one(PrefixOf(7)), two(PrefixOf(7));
  EXPECT_EQ(*Seal(**keyring, "c", "hello", one), *Seal(**keyring, "c", "hello", two));
  EXPECT_NE(*Seal(**keyring, "c", "hello", one), *Seal(**keyring, "c", "hello", one));
}

}  // namespace
}  // namespace lockmesh::crypto
