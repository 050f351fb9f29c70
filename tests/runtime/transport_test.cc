// The datagram layer: batching, sealing, and what every kind of bad datagram gets.
#include "lib/runtime/transport.h"

#include <boost/asio/buffer.hpp>

#include "gtest/gtest.h"
#include "lib/crypto/init.h"
#include "lib/crypto/key.h"
#include "lib/crypto/sealed_frame.h"
#include "lib/runtime/address.h"
#include "lib/wire/batch.h"
#include "lib/wire/codec.h"

namespace lockmesh::runtime {
namespace {

core::Envelope Acquire(uint64_t ballot, std::string resource = "orders") {
  return core::Envelope{.from = 1,
                        .from_incarnation = 1,
                        .to = 2,
                        .hlc = ballot,
                        .voter_set_hash = 7,
                        .body = core::AcquireMsg{.resource = std::move(resource),
                                                 .ballot = ballot,
                                                 .owner = {1, 1, ballot},
                                                 .duration_us = 1'000'000}};
}

std::string Plain(const std::vector<core::Envelope>& envs) {
  wire::BatchBuilder b;
  for (const core::Envelope& e : envs) b.Add(*wire::Encode(e));
  return b.Finish();
}

class TransportTest : public ::testing::Test {
 protected:
  TransportTest() {
    EXPECT_TRUE(crypto::InitCrypto().ok());
    keyring_ = std::shared_ptr<crypto::Keyring>(*crypto::Keyring::Create({key_}));
    other_ = std::shared_ptr<crypto::Keyring>(*crypto::Keyring::Create({crypto::GenerateKey()}));
  }
  std::string Sealed(const std::string& plaintext, const crypto::Keyring& ring,
                     std::string_view cluster = "c") {
    return *crypto::Seal(ring, cluster, plaintext);
  }

  boost::asio::io_context io_;
  crypto::Key key_ = crypto::GenerateKey();
  std::shared_ptr<crypto::Keyring> keyring_;
  std::shared_ptr<crypto::Keyring> other_;
};

TEST_F(TransportTest, AGoodDatagramYieldsItsMessagesInOrder) {
  Transport t(io_, keyring_, "c");
  std::vector<core::Envelope> in = {Acquire(1), Acquire(2), Acquire(3)};
  std::vector<core::Envelope> out = t.Unpack(Sealed(Plain(in), *keyring_));
  EXPECT_EQ(out, in);
  EXPECT_EQ(t.counters().messages_received, 3u);
}

TEST_F(TransportTest, EveryBadDatagramIsCountedAndDropped) {
  Transport t(io_, keyring_, "c");
  const std::string good = Sealed(Plain({Acquire(1)}), *keyring_);
  // Wrong key: a key id this keyring does not hold.
  EXPECT_TRUE(t.Unpack(Sealed(Plain({Acquire(1)}), *other_)).empty());
  EXPECT_EQ(t.counters().dropped_unknown_key, 1u);
  // Wrong cluster name: authentication fails.
  EXPECT_TRUE(t.Unpack(Sealed(Plain({Acquire(1)}), *keyring_, "other")).empty());
  EXPECT_EQ(t.counters().dropped_unauthenticated, 1u);
  // Altered byte.
  std::string flipped = good;
  flipped[40] ^= 1;
  EXPECT_TRUE(t.Unpack(flipped).empty());
  EXPECT_EQ(t.counters().dropped_unauthenticated, 2u);
  // Truncated: shorter than a frame, or cut inside the ciphertext.
  EXPECT_TRUE(t.Unpack(good.substr(0, 10)).empty());
  EXPECT_EQ(t.counters().dropped_truncated, 1u);
  EXPECT_TRUE(t.Unpack(good.substr(0, good.size() - 1)).empty());
  EXPECT_EQ(t.counters().dropped_unauthenticated, 3u);
  // Garbage and empty.
  EXPECT_TRUE(t.Unpack("").empty());
  EXPECT_TRUE(t.Unpack(std::string(200, '\x01')).empty());  // frame version 1, unknown key
  EXPECT_TRUE(t.Unpack(std::string(200, '\x07')).empty());  // unknown frame version
  EXPECT_EQ(t.counters().dropped_truncated, 2u);
  EXPECT_EQ(t.counters().dropped_unknown_key, 2u);
  EXPECT_EQ(t.counters().dropped_unknown_version, 1u);
  // Oversized.
  EXPECT_TRUE(t.Unpack(std::string(core::kDatagramBytesMax + 1, '\x01')).empty());
  EXPECT_EQ(t.counters().dropped_oversized, 1u);
  // Replayed: the first copy is used, the second dropped.
  EXPECT_EQ(t.Unpack(good).size(), 1u);
  EXPECT_TRUE(t.Unpack(good).empty());
  EXPECT_EQ(t.counters().dropped_replayed, 1u);
  // Sealed correctly but not a batch.
  EXPECT_TRUE(t.Unpack(Sealed("not capnp at all", *keyring_)).empty());
  EXPECT_EQ(t.counters().dropped_malformed, 1u);
  // A batch whose message is not an envelope: that message alone is dropped.
  wire::BatchBuilder mixed;
  mixed.Add(*wire::Encode(Acquire(5)));
  mixed.Add("garbage!");
  EXPECT_EQ(t.Unpack(Sealed(mixed.Finish(), *keyring_)).size(), 1u);
  EXPECT_EQ(t.counters().dropped_malformed, 2u);
  // Everything still works afterwards.
  EXPECT_EQ(t.Unpack(Sealed(Plain({Acquire(9)}), *keyring_)).size(), 1u);
}

TEST_F(TransportTest, AMessageOfAnUnknownProtocolVersionIsDropped) {
  Transport t(io_, keyring_, "c");
  std::string bytes = *wire::Encode(Acquire(1));
  // Find the packed version field (kProtocolVersion == 1) by re-encoding with a patched
  // copy: the codec's own test covers the layout; here any version mismatch must count.
  wire::BatchBuilder b;
  b.Add(bytes);
  std::string plain = b.Finish();
  bool found = false;
  for (std::size_t i = 0; i < plain.size() && !found; ++i) {
    std::string patched = plain;
    patched[i] = static_cast<char>(patched[i] + 1);
    absl::StatusOr<std::vector<std::string>> msgs = wire::DecodeBatch(patched);
    if (!msgs.ok()) continue;
    absl::StatusOr<core::Envelope> env = wire::Decode((*msgs)[0]);
    if (env.status().code() != absl::StatusCode::kUnimplemented) continue;
    found = true;
    EXPECT_TRUE(t.Unpack(Sealed(patched, *keyring_)).empty());
  }
  ASSERT_TRUE(found);
  EXPECT_EQ(t.counters().dropped_unknown_version, 1u);
}

TEST_F(TransportTest, MessagesToOnePeerInOneTurnShareDatagrams) {
  Transport sender(io_, keyring_, "c");
  ASSERT_TRUE(sender.Bind(*ParseEndpoint("127.0.0.1:0")).ok());
  Transport receiver(io_, keyring_, "c");
  ASSERT_TRUE(receiver.Bind(*ParseEndpoint("127.0.0.1:0")).ok());
  // 100 small acquires: batched up to 64 per datagram and 1355 plaintext bytes each.
  for (uint64_t i = 1; i <= 100; ++i) {
    sender.Queue(receiver.local_endpoint(), *wire::Encode(Acquire(i)));
  }
  sender.Flush();
  const uint64_t datagrams = sender.counters().datagrams_sent;
  EXPECT_GE(datagrams, 2u);  // at most kBatchMessagesMax (64) messages in one
  EXPECT_LE(datagrams, 10u);
  EXPECT_EQ(sender.counters().messages_sent, 100u);
  receiver.socket().non_blocking(false);
  std::vector<core::Envelope> got;
  std::array<char, 2048> buf;
  for (uint64_t d = 0; d < datagrams; ++d) {
    udp::endpoint from;
    const std::size_t n = receiver.socket().receive_from(boost::asio::buffer(buf), from);
    EXPECT_LE(n, core::kDatagramBytesMax);
    for (core::Envelope& e : receiver.Unpack(std::string_view(buf.data(), n))) {
      got.push_back(std::move(e));
    }
  }
  ASSERT_EQ(got.size(), 100u);
  for (uint64_t i = 0; i < 100; ++i) EXPECT_EQ(got[i], Acquire(i + 1));
}

TEST_F(TransportTest, ADatagramTheSocketRefusesIsCountedAndTheOthersOfTheTurnStillGo) {
  // Three peers in one turn, one sendmmsg: the middle one's address is IPv6, which the IPv4
  // socket refuses (the call stops there), so the send resumes after it.
  Transport sender(io_, keyring_, "c");
  ASSERT_TRUE(sender.Bind(*ParseEndpoint("127.0.0.1:0")).ok());
  Transport a(io_, keyring_, "c");
  ASSERT_TRUE(a.Bind(*ParseEndpoint("127.0.0.1:0")).ok());
  Transport c(io_, keyring_, "c");
  ASSERT_TRUE(c.Bind(*ParseEndpoint("127.0.0.1:0")).ok());
  sender.Queue(a.local_endpoint(), *wire::Encode(Acquire(1)));
  sender.Queue(*ParseEndpoint("[::1]:9"), *wire::Encode(Acquire(2)));
  sender.Queue(c.local_endpoint(), *wire::Encode(Acquire(3)));
  EXPECT_TRUE(sender.has_queued());
  sender.Flush();
  EXPECT_FALSE(sender.has_queued());
  EXPECT_EQ(sender.counters().send_errors, 1u);
  EXPECT_EQ(sender.counters().datagrams_sent, 2u);
  EXPECT_EQ(sender.counters().messages_sent, 2u);
  std::array<char, 2048> buf;
  for (auto [t, ballot] : {std::pair{&a, 1}, std::pair{&c, 3}}) {
    t->socket().non_blocking(false);
    udp::endpoint from;
    const std::size_t n = t->socket().receive_from(boost::asio::buffer(buf), from);
    std::vector<core::Envelope> got = t->Unpack(std::string_view(buf.data(), n));
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0], Acquire(static_cast<uint64_t>(ballot)));
  }
}

TEST(AddressTest, ParsesNumericAddressesAndRefusesTheRest) {
  EXPECT_EQ(FormatEndpoint(*ParseEndpoint("127.0.0.1:7946")), "127.0.0.1:7946");
  EXPECT_EQ(FormatEndpoint(*ParseEndpoint("[::1]:80")), "[::1]:80");
  for (const char* bad : {"", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", ":80", "::1:80",
                          "[::1]80", "host name:1", "1.2.3.4:x"}) {
    EXPECT_EQ(ParseEndpoint(bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_TRUE(ResolveEndpoint("localhost:1").ok());
}

}  // namespace
}  // namespace lockmesh::runtime
