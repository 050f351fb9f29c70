// Tests for lib/wire/batch.h: real envelopes survive a round trip through a batch, bytes()
// predicts the size of Finish() exactly, Fits() refuses at the byte and the count bound, the
// largest envelope Encode makes travels alone, and every kind of bad input (empty, oversized,
// garbage, truncated, trailing bytes, wrong version, no, too many or empty envelopes,
// overlapping elements, random bytes, bit flips) gets the documented error, never a crash or
// an exception.
#include "lib/wire/batch.h"

#include <capnp/message.h>
#include <capnp/serialize.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <iostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/core/limits.h"
#include "lib/core/messages.h"
#include "lib/wire/codec.h"
#include "lockmesh.capnp.h"

namespace lockmesh::wire {
namespace {

using ::testing::HasSubstr;

core::Envelope Wrap(core::MessageBody body, uint64_t hlc = 0x0123456789abcdefULL) {
  core::Envelope env;
  env.from = 0x9e3779b97f4a7c15ULL;
  env.from_incarnation = 3;
  env.to = 0xc2b2ae3d27d4eb4fULL;
  env.hlc = hlc;
  env.voter_set_hash = 0x165667b19e3779f9ULL;
  env.body = std::move(body);
  return env;
}

// Small envelopes of several kinds, as a voter or a node would send them to one peer.
std::vector<core::Envelope> SmallEnvelopes(int n) {
  std::vector<core::Envelope> out;
  for (int i = 0; i < n; ++i) {
    const std::string resource = "orders/" + std::to_string(i);
    const core::Owner owner{0x1234567890abcdefULL, 3, static_cast<uint64_t>(i)};
    const uint64_t ballot = (uint64_t{1'700'000'000'000} << 16) + static_cast<uint64_t>(i);
    switch (i % 6) {
      case 0:
        out.push_back(Wrap(core::AcquireMsg{resource, ballot, owner, 5'000'000}, ballot));
        break;
      case 1:
        out.push_back(Wrap(core::AcquireReplyMsg{resource, ballot, owner, false,
                                                 core::RefuseReason::kHeld, ballot, 1'000},
                           ballot));
        break;
      case 2:
        out.push_back(Wrap(core::RenewMsg{resource, ballot, owner, 5'000'000, 2}, ballot));
        break;
      case 3:
        out.push_back(Wrap(core::ReleaseMsg{resource, ballot, owner}, ballot));
        break;
      case 4:
        out.push_back(Wrap(core::ReleaseNoticeMsg{resource, ballot}, ballot));
        break;
      default:
        out.push_back(Wrap(core::PingMsg{static_cast<uint32_t>(i), "10.0.1.7:7946", {}}, ballot));
    }
  }
  return out;
}

std::string MustEncode(const core::Envelope& env) {
  absl::StatusOr<std::string> bytes = Encode(env);
  EXPECT_TRUE(bytes.ok()) << bytes.status();
  return bytes.ok() ? *bytes : std::string();
}

// The flat bytes of a message built directly with Cap'n Proto.
std::string Flat(capnp::MessageBuilder& message) {
  const kj::Array<capnp::word> words = capnp::messageToFlatArray(message);
  const auto bytes = words.asBytes();
  return std::string(reinterpret_cast<const char*>(bytes.begin()), bytes.size());
}

// A batch built directly with Cap'n Proto, for inputs BatchBuilder refuses to make.
std::string CraftBatch(uint16_t version, const std::vector<std::string>& elements) {
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<schema::Batch>();
  root.setVersion(version);
  auto list = root.initMessages(static_cast<unsigned>(elements.size()));
  for (unsigned i = 0; i < elements.size(); ++i) {
    list.set(
        i, kj::arrayPtr(reinterpret_cast<const kj::byte*>(elements[i].data()), elements[i].size()));
  }
  return Flat(message);
}

// DecodeBatch must never throw. If it accepts an input, the result keeps the promises of the
// format: 1..kBatchMessagesMax envelopes, none empty.
absl::StatusOr<std::vector<std::string>> DecodeChecked(std::string_view bytes) {
  absl::StatusOr<std::vector<std::string>> out;
  EXPECT_NO_THROW(out = DecodeBatch(bytes));
  if (!out.ok()) {
    EXPECT_FALSE(out.status().message().empty());
    return out;
  }
  EXPECT_GE(out->size(), 1u);
  EXPECT_LE(out->size(), core::kBatchMessagesMax);
  for (const std::string& m : *out) EXPECT_FALSE(m.empty());
  return out;
}

void ExpectCode(std::string_view bytes, absl::StatusCode code, const std::string& why) {
  const absl::StatusOr<std::vector<std::string>> out = DecodeChecked(bytes);
  EXPECT_EQ(out.status().code(), code) << out.status();
  EXPECT_THAT(std::string(out.status().message()), HasSubstr(why));
}

// A valid batch of `n` small encoded envelopes.
std::string ValidBatch(int n) {
  BatchBuilder builder;
  for (const core::Envelope& env : SmallEnvelopes(n)) builder.Add(MustEncode(env));
  return builder.Finish();
}

// ---------------------------------------------------------------------------------------
// Round trips

TEST(BatchTest, RoundTripsOneEnvelope) {
  const core::Envelope env = SmallEnvelopes(1)[0];
  const std::string bytes = MustEncode(env);
  BatchBuilder builder;
  ASSERT_TRUE(builder.Fits(bytes.size()));
  builder.Add(bytes);
  EXPECT_EQ(builder.count(), 1u);
  const std::string batch = builder.Finish();
  EXPECT_EQ(batch.size(), BatchBytes(1, PaddedBytes(bytes.size())));
  absl::StatusOr<std::vector<std::string>> back = DecodeBatch(batch);
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_EQ(back->size(), 1u);
  EXPECT_EQ((*back)[0], bytes);
  absl::StatusOr<core::Envelope> decoded = Decode((*back)[0]);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, env);
}

TEST(BatchTest, RoundTripsManyEnvelopesInOrder) {
  // 30 envelopes of six kinds (~70-100 bytes each) need more than one batch; every one comes
  // back in order and decodes to what was sent.
  const std::vector<core::Envelope> sent = SmallEnvelopes(30);
  std::vector<std::string> batches;
  BatchBuilder builder;
  for (const core::Envelope& env : sent) {
    std::string bytes = MustEncode(env);
    if (!builder.Fits(bytes.size())) batches.push_back(builder.Finish());
    builder.Add(std::move(bytes));
  }
  batches.push_back(builder.Finish());
  EXPECT_GT(batches.size(), 1u);
  std::vector<core::Envelope> received;
  for (const std::string& batch : batches) {
    EXPECT_LE(batch.size(), core::kSealedPlaintextBytesMax);
    absl::StatusOr<std::vector<std::string>> messages = DecodeBatch(batch);
    ASSERT_TRUE(messages.ok()) << messages.status();
    for (const std::string& m : *messages) {
      absl::StatusOr<core::Envelope> env = Decode(m);
      ASSERT_TRUE(env.ok()) << env.status();
      received.push_back(*env);
    }
  }
  EXPECT_EQ(received, sent);
  std::cout << sent.size() << " small envelopes took " << batches.size() << " batch(es), "
            << batches[0].size() << " bytes the first\n";
}

TEST(BatchTest, FinishIsTheCapnpFlatMessageAndStampsTheVersion) {
  // Finish writes what Cap'n Proto's own messageToFlatArray writes for the same Batch.
  std::vector<std::string> elements;
  BatchBuilder builder;
  for (const core::Envelope& env : SmallEnvelopes(7)) {
    elements.push_back(MustEncode(env));
    builder.Add(elements.back());
  }
  const std::string batch = builder.Finish();
  EXPECT_EQ(batch, CraftBatch(core::kProtocolVersion, elements));
  kj::Array<capnp::word> words = kj::heapArray<capnp::word>(batch.size() / sizeof(capnp::word));
  std::memcpy(words.begin(), batch.data(), batch.size());
  capnp::FlatArrayMessageReader reader(words);
  EXPECT_EQ(reader.getRoot<schema::Batch>().getVersion(), core::kProtocolVersion);
}

TEST(BatchTest, FinishResetsTheBuilder) {
  BatchBuilder builder(600);
  builder.Add("first");
  const std::string one = builder.Finish();
  EXPECT_TRUE(builder.empty());
  EXPECT_EQ(builder.count(), 0u);
  EXPECT_EQ(builder.bytes(), kBatchFixedBytes);
  builder.Add("first");
  EXPECT_EQ(builder.Finish(), one);
  // The bound is kept: 600 - 32 - 8 = 560 bytes fit alone, 561 do not.
  EXPECT_TRUE(builder.Fits(560));
  EXPECT_FALSE(builder.Fits(561));
}

// ---------------------------------------------------------------------------------------
// Size

TEST(BatchTest, SizeFormulaMatchesTheLayout) {
  // 32 fixed bytes, 8 per envelope, each envelope rounded up to whole words.
  EXPECT_EQ(BatchBytes(0, 0), 32u);
  EXPECT_EQ(BatchBytes(1, PaddedBytes(1)), 48u);
  EXPECT_EQ(BatchBytes(1, PaddedBytes(8)), 48u);
  EXPECT_EQ(BatchBytes(1, PaddedBytes(9)), 56u);
  EXPECT_EQ(BatchBytes(1, 0), core::kBatchOfOneOverheadBytes);
  for (std::size_t len : {1, 7, 8, 9, 100, 1312}) {
    SCOPED_TRACE(len);
    BatchBuilder builder;
    builder.Add(std::string(len, 'x'));
    EXPECT_EQ(builder.bytes(), 40 + (len + 7) / 8 * 8);
    EXPECT_EQ(builder.Finish().size(), 40 + (len + 7) / 8 * 8);
  }
}

TEST(BatchTest, BytesPredictsFinishExactly) {
  // 2000 seeded batches of random envelope sizes and counts: bytes() is the size Finish()
  // returns, after every Add.
  std::mt19937_64 rng(20250301);
  for (int i = 0; i < 2000; ++i) {
    BatchBuilder builder;
    std::size_t padded = 0;
    const std::size_t count_max = 1 + rng() % core::kBatchMessagesMax;
    std::vector<std::string> added;
    while (builder.count() < count_max) {
      // Mostly small envelopes, sometimes one up to the largest Encode makes.
      const std::size_t len = 1 + (rng() % 8 == 0 ? rng() % core::kEnvelopeBytesMax : rng() % 120);
      if (!builder.Fits(len)) break;
      std::string message(len, static_cast<char>(rng()));
      builder.Add(message);
      added.push_back(std::move(message));
      padded += PaddedBytes(len);
      ASSERT_EQ(builder.bytes(), BatchBytes(builder.count(), padded));
    }
    SCOPED_TRACE(testing::Message() << "batch " << i << " of " << builder.count());
    const std::size_t predicted = builder.bytes();
    EXPECT_LE(predicted, core::kSealedPlaintextBytesMax);
    const std::string batch = builder.Finish();
    ASSERT_EQ(batch.size(), predicted);
    absl::StatusOr<std::vector<std::string>> back = DecodeBatch(batch);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(*back, added);
  }
}

TEST(BatchTest, FitsRefusesAtTheByteBound) {
  // A 200-byte builder: 32 + 8 + 160 = 200, so 160 bytes fit alone and 161 (168 padded) not.
  BatchBuilder builder(200);
  EXPECT_FALSE(builder.Fits(0));
  EXPECT_TRUE(builder.Fits(153));
  EXPECT_TRUE(builder.Fits(160));
  EXPECT_FALSE(builder.Fits(161));
  EXPECT_FALSE(builder.Fits(SIZE_MAX));
  // Two: 32 + 16 + 152 = 200.
  builder.Add(std::string(100, 'a'));  // 104 padded: 144 bytes
  EXPECT_EQ(builder.bytes(), 144u);
  EXPECT_TRUE(builder.Fits(48));
  EXPECT_FALSE(builder.Fits(49));
  builder.Add(std::string(48, 'b'));
  EXPECT_EQ(builder.bytes(), 200u);
  EXPECT_FALSE(builder.Fits(1));
  EXPECT_EQ(builder.Finish().size(), 200u);

  // The default bound: the sealed plaintext.
  BatchBuilder sealed;
  EXPECT_TRUE(sealed.Fits(core::kEnvelopeBytesMax));
  EXPECT_FALSE(sealed.Fits(core::kEnvelopeBytesMax + 1));
}

TEST(BatchTest, FitsRefusesAtTheCountBound) {
  // 64 one-byte envelopes take 32 + 64 * 16 = 1056 bytes, well within the bytes; the 65th is
  // refused by count alone.
  BatchBuilder builder;
  for (std::size_t i = 0; i < core::kBatchMessagesMax; ++i) {
    ASSERT_TRUE(builder.Fits(1)) << i;
    builder.Add(std::string(1, static_cast<char>('a' + i % 26)));
  }
  EXPECT_EQ(builder.bytes(), 1056u);
  EXPECT_FALSE(builder.Fits(1));
  absl::StatusOr<std::vector<std::string>> back = DecodeBatch(builder.Finish());
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->size(), core::kBatchMessagesMax);
  EXPECT_TRUE(builder.Fits(1));  // a fresh batch
}

// A PushPull chunk of one member at every limit (all bytes non-zero, as codec_test's
// LargestUpdate), one with a full name and address, and one that grows with `k`: its name,
// then its address, then one tag value, one byte at a time. The encoding grows by a few bytes
// per step.
core::Envelope GrowingEnvelope(std::size_t k) {
  constexpr uint64_t kU64Max = ~uint64_t{0};
  core::MemberUpdate big;
  big.node = kU64Max;
  big.incarnation = core::kIncarnationMax;
  big.from = kU64Max;
  big.state = core::MemberState::kSuspect;
  big.info.voter = true;
  big.info.name = std::string(core::kMemberNameBytesMax, 'n');
  big.info.address = std::string(core::kMemberAddressBytesMax, 'a');
  std::size_t budget = core::kMemberTagsBytesMax;
  for (std::size_t i = 0; i < core::kMemberTagsMax; ++i) {
    std::string key(9, 'k');
    key[0] = static_cast<char>('a' + i);
    const std::size_t value_len = std::min<std::size_t>(budget - key.size(), 17);
    budget -= key.size() + value_len;
    big.info.tags[key] = std::string(value_len, 'v');
  }
  core::MemberUpdate grown;
  grown.node = kU64Max - 1;
  grown.incarnation = core::kIncarnationMax;
  grown.from = kU64Max;
  const std::size_t name = std::min(k, core::kMemberNameBytesMax);
  k -= name;
  const std::size_t address = std::min(k, core::kMemberAddressBytesMax);
  k -= address;
  grown.info.name = std::string(name, 'N');
  grown.info.address = std::string(address, 'A');
  if (k > 0) grown.info.tags["t"] = std::string(std::min(k, core::kMemberTagValueBytesMax), 'T');
  core::MemberUpdate middle = big;  // name and address only
  middle.node = kU64Max - 2;
  middle.info.tags.clear();
  return Wrap(core::PushPullMsg{false, true, 0, 1, {big, middle, grown}});
}

TEST(BatchTest, LargestEnvelopeEncodeAcceptsFitsAlone) {
  // Grow an envelope until Encode refuses it; the last one it accepts is within a few bytes
  // of kEnvelopeBytesMax, fits an empty batch alone, and the batch fits a sealed datagram.
  std::string largest;
  std::size_t k = 0;
  for (;; ++k) {
    ASSERT_LT(k, 256u) << "the growing envelope never reached the limit: "
                       << Encode(GrowingEnvelope(0))->size() << ".." << largest.size();
    absl::StatusOr<std::string> bytes = Encode(GrowingEnvelope(k));
    if (!bytes.ok()) {
      EXPECT_EQ(bytes.status().code(), absl::StatusCode::kInvalidArgument);
      EXPECT_THAT(std::string(bytes.status().message()), HasSubstr("envelope limit of 1312"));
      break;
    }
    largest = *std::move(bytes);
  }
  std::cout << "largest envelope Encode accepted: " << largest.size() << " bytes (limit "
            << core::kEnvelopeBytesMax << ")\n";
  EXPECT_LE(largest.size(), core::kEnvelopeBytesMax);
  EXPECT_GT(largest.size(), core::kEnvelopeBytesMax - 8);
  BatchBuilder builder;
  ASSERT_TRUE(builder.Fits(largest.size()));
  builder.Add(largest);
  EXPECT_FALSE(builder.Fits(1));
  const std::string batch = builder.Finish();
  EXPECT_LE(batch.size(), core::kSealedPlaintextBytesMax);
  absl::StatusOr<std::vector<std::string>> back = DecodeBatch(batch);
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_EQ(back->size(), 1u);
  absl::StatusOr<core::Envelope> env = Decode((*back)[0]);
  ASSERT_TRUE(env.ok()) << env.status();
  EXPECT_EQ(*env, GrowingEnvelope(k - 1));
}

TEST(BatchTest, AcceptsABatchOfAWholeDatagram) {
  // A builder bounded by the datagram (unsealed use) makes a 1400-byte batch; DecodeBatch
  // takes it.
  BatchBuilder builder(core::kDatagramBytesMax);
  builder.Add(std::string(core::kDatagramBytesMax - 40, 'x'));
  const std::string batch = builder.Finish();
  EXPECT_EQ(batch.size(), core::kDatagramBytesMax);
  absl::StatusOr<std::vector<std::string>> back = DecodeBatch(batch);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ((*back)[0].size(), core::kDatagramBytesMax - 40);
}

TEST(BatchTest, IsThreadSafe) {
  // Four threads build and decode batches at once; each sees only its own envelopes.
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t, &failures] {
      for (int i = 0; i < 300; ++i) {
        BatchBuilder builder;
        std::vector<std::string> sent;
        for (int j = 0; j <= (i + t) % 10; ++j) {
          sent.push_back(std::string(1 + (i * 7 + j) % 90, static_cast<char>('a' + t)));
          builder.Add(sent.back());
        }
        absl::StatusOr<std::vector<std::string>> back = DecodeBatch(builder.Finish());
        if (!back.ok() || *back != sent) ++failures[t];
      }
    });
  }
  for (std::thread& th : threads) th.join();
  for (int f : failures) EXPECT_EQ(f, 0);
}

// ---------------------------------------------------------------------------------------
// Bad input to DecodeBatch

TEST(BatchTest, EmptyInputIsInvalidArgument) {
  ExpectCode("", absl::StatusCode::kInvalidArgument, "empty");
}

TEST(BatchTest, OversizedInputIsInvalidArgument) {
  // 1401 bytes get InvalidArgument before any parsing, even when they start with a batch.
  std::string bytes = ValidBatch(3);
  bytes.resize(core::kDatagramBytesMax + 1, '\0');
  ExpectCode(bytes, absl::StatusCode::kInvalidArgument, "1401");
  ExpectCode(std::string(65'536, '\0'), absl::StatusCode::kInvalidArgument, "65536");
}

TEST(BatchTest, GarbageIsDataLoss) {
  ExpectCode("hello, world!!!!", absl::StatusCode::kDataLoss, "malformed");
  ExpectCode(std::string(64, '\xff'), absl::StatusCode::kDataLoss, "malformed");
  // A packed envelope is not a flat batch.
  ExpectCode(MustEncode(SmallEnvelopes(1)[0]), absl::StatusCode::kDataLoss, "");
}

TEST(BatchTest, EveryTruncationIsAnError) {
  // Every strict prefix of a valid batch: InvalidArgument for the empty one, DataLoss for
  // the rest (not whole words, or ending before the segment the table announces).
  for (const std::string& batch : {ValidBatch(1), ValidBatch(10)}) {
    for (std::size_t len = 0; len < batch.size(); ++len) {
      SCOPED_TRACE(testing::Message() << "prefix " << len << "/" << batch.size());
      const absl::StatusOr<std::vector<std::string>> out =
          DecodeChecked(std::string_view(batch).substr(0, len));
      EXPECT_EQ(out.status().code(),
                len == 0 ? absl::StatusCode::kInvalidArgument : absl::StatusCode::kDataLoss)
          << out.status();
    }
  }
}

TEST(BatchTest, TrailingBytesAreDataLoss) {
  const std::string batch = ValidBatch(4);
  ExpectCode(batch + std::string(1, '\0'), absl::StatusCode::kDataLoss, "whole 8-byte words");
  ExpectCode(batch + std::string(8, '\0'), absl::StatusCode::kDataLoss, "trailing data");
  ExpectCode(batch + batch, absl::StatusCode::kDataLoss, "trailing data");
}

TEST(BatchTest, WrongVersionIsUnimplemented) {
  const std::vector<std::string> elements = {MustEncode(SmallEnvelopes(1)[0])};
  for (uint16_t version : {0, 2, 65535}) {
    SCOPED_TRACE(version);
    ExpectCode(CraftBatch(version, elements), absl::StatusCode::kUnimplemented,
               "unsupported protocol version " + std::to_string(version));
  }
  // The crafted batch of the right version is accepted: only the version was wrong.
  EXPECT_TRUE(DecodeChecked(CraftBatch(core::kProtocolVersion, elements)).ok());
}

TEST(BatchTest, NoMessagesIsInvalidArgument) {
  // An empty list, and no list at all (a null pointer reads as an empty list).
  ExpectCode(CraftBatch(core::kProtocolVersion, {}), absl::StatusCode::kInvalidArgument,
             "no messages");
  capnp::MallocMessageBuilder message;
  message.initRoot<schema::Batch>().setVersion(core::kProtocolVersion);
  ExpectCode(Flat(message), absl::StatusCode::kInvalidArgument, "no messages");
}

TEST(BatchTest, TooManyMessagesIsInvalidArgument) {
  const std::vector<std::string> at_limit(core::kBatchMessagesMax, "x");
  EXPECT_TRUE(DecodeChecked(CraftBatch(core::kProtocolVersion, at_limit)).ok());
  const std::vector<std::string> over(core::kBatchMessagesMax + 1, "x");
  ExpectCode(CraftBatch(core::kProtocolVersion, over), absl::StatusCode::kInvalidArgument,
             "65 messages");
}

TEST(BatchTest, EmptyElementIsInvalidArgument) {
  // A zero-length element in the middle, and an element left null.
  ExpectCode(CraftBatch(core::kProtocolVersion, {"a", "", "c"}), absl::StatusCode::kInvalidArgument,
             "message 1 of 3 in the batch is empty");
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<schema::Batch>();
  root.setVersion(core::kProtocolVersion);
  auto list = root.initMessages(2);
  list.set(0, kj::arrayPtr(reinterpret_cast<const kj::byte*>("a"), 1));
  ExpectCode(Flat(message), absl::StatusCode::kInvalidArgument,
             "message 1 of 2 in the batch is empty");
}

TEST(BatchTest, OverlappingElementsAreDataLoss) {
  // 64 elements that all point at one 300-byte blob would make DecodeBatch copy 19 KB out of
  // a 1352-byte batch; the traversal limit (the input's own size) stops it.
  std::vector<std::string> elements(core::kBatchMessagesMax, "y");
  elements[0] = std::string(300, 'x');
  std::string batch = CraftBatch(core::kProtocolVersion, elements);
  ASSERT_TRUE(DecodeChecked(batch).ok());
  // Layout: segment table, root pointer, Batch (data word, list pointer), then the list of
  // element pointers from word 4. A list pointer's low 32 bits are (offset << 2) | 1, the
  // offset counted in words from the end of the pointer.
  std::vector<uint64_t> words(batch.size() / 8);
  std::memcpy(words.data(), batch.data(), batch.size());
  const uint64_t first = words[4];
  const auto offset = static_cast<int32_t>(static_cast<uint32_t>(first)) >> 2;
  for (std::size_t i = 1; i < core::kBatchMessagesMax; ++i) {
    const uint32_t low = (static_cast<uint32_t>(offset - static_cast<int32_t>(i)) << 2) | 1;
    words[4 + i] = (first & 0xffffffff00000000ULL) | low;
  }
  std::memcpy(batch.data(), words.data(), batch.size());
  ExpectCode(batch, absl::StatusCode::kDataLoss, "malformed");
}

TEST(BatchTest, RandomBytesNeverCrash) {
  // 5000 seeded random buffers: half short, half of whole words so they get past the first
  // check into the reader. Each gets an error or, rarely, a batch that keeps the promises.
  std::mt19937_64 rng(20250302);
  int accepted = 0;
  for (int i = 0; i < 5000; ++i) {
    const std::size_t max_len = i % 2 == 0 ? 96 : core::kDatagramBytesMax;
    std::size_t len = std::uniform_int_distribution<std::size_t>(1, max_len)(rng);
    if (i % 4 < 2) len = std::max<std::size_t>(8, len / 8 * 8);
    std::string buf(len, '\0');
    for (char& c : buf) c = static_cast<char>(rng());
    if (i % 8 == 0) std::memset(buf.data(), 0, std::min<std::size_t>(4, len));  // one segment
    SCOPED_TRACE(i);
    if (DecodeChecked(buf).ok()) ++accepted;
  }
  EXPECT_LT(accepted, 50);
}

TEST(BatchTest, BitFlipsNeverCrash) {
  // Every single-bit flip of a valid batch of three envelopes gets an error or a batch that
  // keeps the promises; whatever elements come out are left to Decode to judge.
  const std::string batch = ValidBatch(3);
  for (std::size_t bit = 0; bit < batch.size() * 8; ++bit) {
    std::string flipped = batch;
    flipped[bit / 8] = static_cast<char>(flipped[bit / 8] ^ (1 << (bit % 8)));
    SCOPED_TRACE(bit);
    absl::StatusOr<std::vector<std::string>> out = DecodeChecked(flipped);
    if (out.ok()) {
      for (const std::string& m : *out) EXPECT_NO_THROW((void)Decode(m));
    }
  }
}

}  // namespace
}  // namespace lockmesh::wire
