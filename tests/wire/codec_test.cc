// Tests for lib/wire/codec.h: every lease and membership message survives a round trip with
// edge values, and every kind of bad input (empty, garbage, truncated, bit-flipped, oversized,
// wrong version, unknown kind or enum, bad name, member fields over their bounds, over the
// reader limits, trailing bytes) gets an error status, never a crash or an exception. The size
// bounds of lib/core/membership/wire_budget.h hold for worst-case membership messages.
#include "lib/wire/codec.h"

#include <capnp/message.h>
#include <capnp/serialize-packed.h>
#include <capnp/serialize.h>
#include <kj/io.h>

#include <algorithm>
#include <cstdint>
#include <iostream>
#include <limits>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/core/config.h"
#include "lib/core/limits.h"
#include "lib/core/membership/wire_budget.h"
#include "lib/core/messages.h"
#include "lockmesh.capnp.h"

namespace lockmesh::wire {
namespace {

using ::testing::HasSubstr;

constexpr uint64_t kU64Max = std::numeric_limits<uint64_t>::max();
constexpr int64_t kI64Max = std::numeric_limits<int64_t>::max();
constexpr int64_t kI64Min = std::numeric_limits<int64_t>::min();
constexpr uint32_t kU32Max = std::numeric_limits<uint32_t>::max();

// 256 bytes (the limit) covering every byte value, NUL first.
std::string BinaryName() {
  std::string name(core::kResourceBytesMax, '\0');
  for (std::size_t i = 0; i < name.size(); ++i) name[i] = static_cast<char>(i);
  return name;
}

core::Envelope Wrap(core::MessageBody body) {
  core::Envelope env;
  env.from = kU64Max;
  env.from_incarnation = kU64Max - 1;
  env.to = 1;
  env.hlc = kU64Max;
  env.voter_set_hash = 0x0123456789abcdefULL;
  env.body = std::move(body);
  return env;
}

core::Envelope TypicalAcquire() {
  core::Envelope env;
  env.from = 0x9e3779b97f4a7c15ULL;  // node ids are hashes of names: all 64 bits used
  env.from_incarnation = 3;
  env.to = 0xc2b2ae3d27d4eb4fULL;
  env.hlc = (uint64_t{1'732'600'000'000} << core::kHlcLogicalBits) | 7;
  env.voter_set_hash = 0x165667b19e3779f9ULL;
  core::AcquireMsg m;
  m.resource = "orders/42x";  // 10 bytes
  m.ballot = env.hlc;
  m.owner = core::Owner{env.from, 3, 17};
  m.duration_us = 10'000'000;
  m.ticket = env.hlc - 5;
  env.body = m;
  return env;
}

// A string of `len` bytes, none zero (the worst case for packing) unless `fill` is '\0'.
std::string Filled(std::size_t len, char fill) { return std::string(len, fill); }

// The largest member update: name, address and tags at their limits, every byte non-zero,
// tag lengths chosen so that every Data field ends with 7 bytes of padding.
core::MemberUpdate LargestUpdate(char fill) {
  core::MemberUpdate u;
  u.state = core::MemberState::kSuspect;
  u.node = kU64Max;
  u.incarnation = core::kIncarnationMax;
  u.from = kU64Max;
  u.info.name = Filled(core::kMemberNameBytesMax, fill);
  u.info.address = Filled(core::kMemberAddressBytesMax, fill);
  u.info.voter = true;
  std::size_t budget = core::kMemberTagsBytesMax;
  for (std::size_t i = 0; i < core::kMemberTagsMax; ++i) {
    std::string key = Filled(9, fill);
    key[0] = static_cast<char>('a' + i);
    const std::size_t value_len = std::min<std::size_t>(budget - key.size(), 17);
    budget -= key.size() + value_len;
    u.info.tags[key] = Filled(value_len, fill);
  }
  return u;
}

// A typical update: a short name and address, a node id with all 64 bits in use.
core::MemberUpdate TypicalUpdate(int i) {
  core::MemberUpdate u;
  u.info.name = "node-" + std::to_string(i);
  u.info.address = "10.0.1." + std::to_string(i % 250) + ":7946";
  u.node = core::NodeIdFromName(u.info.name);
  u.incarnation = static_cast<uint64_t>(i);
  u.from = u.node;
  return u;
}

// Every membership message kind, with edge values in every field.
std::vector<core::Envelope> GossipEdgeEnvelopes() {
  std::vector<core::Envelope> out;
  std::vector<core::MemberUpdate> every_state;
  for (int st = 0; st < core::kMemberStateCount; ++st) {
    core::MemberUpdate u = TypicalUpdate(st);
    u.state = static_cast<core::MemberState>(st);
    u.info.tags = {{"zone", "eu-1"}, {"k", ""}};
    every_state.push_back(u);
  }
  core::MemberUpdate bare;  // a suspicion with no info: only ids travel
  bare.state = core::MemberState::kDead;
  bare.node = 1;
  bare.from = kU64Max;
  every_state.push_back(bare);
  const std::string max_address = Filled(core::kMemberAddressBytesMax, '\xff');
  out.push_back(Wrap(core::PingMsg{kU32Max, max_address, every_state}));
  out.push_back(Wrap(core::PingMsg{0, "a", {}}));
  out.push_back(Wrap(core::PingReqMsg{kU32Max, kU64Max, max_address, max_address, true, {bare}}));
  out.push_back(Wrap(core::PingReqMsg{0, 0, "", "", false, {}}));
  out.push_back(Wrap(core::AckMsg{kU32Max, every_state}));
  out.push_back(Wrap(core::AckMsg{0, {}}));
  out.push_back(Wrap(core::NackMsg{kU32Max, {bare}}));
  out.push_back(Wrap(core::NackMsg{0, {}}));
  out.push_back(Wrap(core::GossipMsg{{LargestUpdate('\xff')}}));
  out.push_back(Wrap(core::GossipMsg{{}}));
  out.push_back(Wrap(core::PushPullMsg{true, true, 65535, 65535, every_state}));
  out.push_back(Wrap(core::PushPullMsg{false, false, 0, 1, {LargestUpdate('x')}}));
  out.push_back(Wrap(core::PushPullMsg{true, false, 0, 0, {}}));
  return out;
}

// Every message kind, with edge values in every field.
std::vector<core::Envelope> EdgeEnvelopes() {
  const core::Owner max_owner{kU64Max, kU64Max, kU64Max};
  const core::Owner empty_owner{};
  std::vector<core::Envelope> out;
  out.push_back(Wrap(core::AcquireMsg{BinaryName(), kU64Max, max_owner, kI64Max, kU64Max}));
  out.push_back(Wrap(core::AcquireMsg{"a", 0, empty_owner, kI64Min}));
  out.push_back(Wrap(core::AcquireMsg{std::string(1, '\0'), 1, empty_owner, 0}));
  for (int r = 0; r < core::kRefuseReasonCount; ++r) {
    const auto reason = static_cast<core::RefuseReason>(r);
    out.push_back(Wrap(core::AcquireReplyMsg{BinaryName(), kU64Max, max_owner, r == 0, reason,
                                             kU64Max, kI64Min, max_owner, kU64Max}));
    out.push_back(Wrap(
        core::AcquireReplyMsg{"h", 1, empty_owner, r == 0, reason, 0, 0, core::Owner{1, 0, 0}, 0}));
    out.push_back(Wrap(core::RenewReplyMsg{"x", 0, empty_owner, kU32Max, r == 0, reason, kU64Max}));
  }
  out.push_back(Wrap(core::RenewMsg{BinaryName(), kU64Max, max_owner, kI64Max, kU32Max}));
  out.push_back(Wrap(core::RenewMsg{"r", 0, empty_owner, 0, 0}));
  out.push_back(Wrap(core::ReleaseMsg{BinaryName(), kU64Max, max_owner, true, true}));
  out.push_back(Wrap(core::ReleaseMsg{"r", 0, empty_owner}));
  out.push_back(Wrap(core::ReleaseNoticeMsg{BinaryName(), kU64Max}));
  out.push_back(Wrap(core::ReleaseNoticeMsg{"n", 0}));
  core::Envelope zeros;  // every envelope field zero
  zeros.body = core::ReleaseNoticeMsg{"z", 0};
  out.push_back(zeros);
  for (core::Envelope& env : GossipEdgeEnvelopes()) out.push_back(std::move(env));
  return out;
}

std::string MustEncode(const core::Envelope& env) {
  absl::StatusOr<std::string> bytes = Encode(env);
  EXPECT_TRUE(bytes.ok()) << bytes.status();
  return bytes.ok() ? *bytes : std::string();
}

// Decode must never throw. If it accepts an input, the result must be a valid envelope: one
// that encodes again and survives another round trip.
absl::Status DecodeChecked(std::string_view bytes) {
  absl::StatusOr<core::Envelope> env;
  EXPECT_NO_THROW(env = Decode(bytes));
  if (!env.ok()) {
    EXPECT_FALSE(env.status().message().empty());
    return env.status();
  }
  absl::StatusOr<std::string> again = Encode(*env);
  EXPECT_TRUE(again.ok()) << again.status();
  if (again.ok()) {
    absl::StatusOr<core::Envelope> back = Decode(*again);
    EXPECT_TRUE(back.ok()) << back.status();
    if (back.ok()) {
      EXPECT_EQ(*back, *env);
    }
  }
  return absl::OkStatus();
}

// Packed bytes of a message built directly with Cap'n Proto, for inputs Encode refuses to make.
std::string Pack(capnp::MessageBuilder& message) {
  kj::VectorOutputStream out;
  capnp::writePackedMessage(out, message);
  const auto bytes = out.getArray();
  return std::string(reinterpret_cast<const char*>(bytes.begin()), bytes.size());
}

// Packed bytes of an unpacked (flat) message, possibly one patched by hand.
std::string PackFlat(kj::ArrayPtr<const capnp::word> flat) {
  kj::VectorOutputStream out;
  {
    capnp::_::PackedOutputStream packed(out);
    packed.write(flat.begin(), flat.size() * sizeof(capnp::word));
  }
  const auto bytes = out.getArray();
  return std::string(reinterpret_cast<const char*>(bytes.begin()), bytes.size());
}

schema::Envelope::Builder CraftEnvelope(capnp::MallocMessageBuilder& message) {
  auto root = message.initRoot<schema::Envelope>();
  root.setVersion(core::kProtocolVersion);
  root.setFrom(1);
  root.setTo(2);
  return root;
}

// ---------------------------------------------------------------------------------------
// Round trips

TEST(CodecTest, RoundTripsEveryMessageKindWithEdgeValues) {
  bool seen[core::kMessageKindCount] = {};
  for (const core::Envelope& env : EdgeEnvelopes()) {
    SCOPED_TRACE(core::MessageKindName(env.body.index()));
    seen[env.body.index()] = true;
    const std::string bytes = MustEncode(env);
    EXPECT_LE(bytes.size(), core::kDatagramBytesMax);
    absl::StatusOr<core::Envelope> back = Decode(bytes);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(*back, env);
  }
  for (bool s : seen) EXPECT_TRUE(s);
}

TEST(CodecTest, EncodeStampsTheProtocolVersion) {
  const std::string bytes = MustEncode(TypicalAcquire());
  kj::ArrayInputStream input(
      kj::arrayPtr(reinterpret_cast<const kj::byte*>(bytes.data()), bytes.size()));
  capnp::PackedMessageReader reader(input);
  EXPECT_EQ(reader.getRoot<schema::Envelope>().getVersion(), core::kProtocolVersion);
}

TEST(CodecTest, TypicalAcquireIsSmall) {
  const std::string bytes = MustEncode(TypicalAcquire());
  std::cout << "typical Acquire envelope (10-byte resource): " << bytes.size() << " bytes\n";
  RecordProperty("typical_acquire_bytes", static_cast<int>(bytes.size()));
  EXPECT_LE(bytes.size(), 128u);
}

TEST(CodecTest, LargestMessageFitsADatagram) {
  // An AcquireReply with a 256-byte incompressible name and all-ones fields is the worst case.
  std::string name(core::kResourceBytesMax, '\xff');
  const core::Owner owner{kU64Max, kU64Max, kU64Max};
  const std::string bytes = MustEncode(Wrap(core::AcquireReplyMsg{
      name, kU64Max, owner, true, core::RefuseReason::kNotVoter, kU64Max, -1, owner, kU64Max}));
  EXPECT_LE(bytes.size(), core::kDatagramBytesMax / 2);
}

TEST(CodecTest, AcceptsMultiSegmentMessages) {
  // Other Cap'n Proto writers may split a message into segments; that is still valid input.
  capnp::MallocMessageBuilder message(1, capnp::AllocationStrategy::FIXED_SIZE);
  auto acquire = CraftEnvelope(message).getBody().initAcquire();
  acquire.setResource(kj::StringPtr("multi").asBytes());
  acquire.initOwner().setRequest(9);
  ASSERT_GT(message.getSegmentsForOutput().size(), 1u);
  absl::StatusOr<core::Envelope> env = Decode(Pack(message));
  ASSERT_TRUE(env.ok()) << env.status();
  EXPECT_EQ(std::get<core::AcquireMsg>(env->body).owner.request, 9u);
}

// An acquire from a sender that predates tickets reads as ticket 0: voters do not queue it
// (rule 10), and it falls back to its retry timer as it always did.
TEST(CodecTest, AnAcquireWithoutATicketReadsAsTicketZero) {
  capnp::MallocMessageBuilder message;
  auto acquire = CraftEnvelope(message).getBody().initAcquire();
  acquire.setResource(kj::StringPtr("old").asBytes());
  acquire.setBallot(42);
  absl::StatusOr<core::Envelope> env = Decode(Pack(message));
  ASSERT_TRUE(env.ok()) << env.status();
  EXPECT_EQ(std::get<core::AcquireMsg>(env->body).ticket, 0u);
  EXPECT_EQ(std::get<core::AcquireMsg>(env->body).ballot, 42u);
}

TEST(CodecTest, IsThreadSafe) {
  const std::vector<core::Envelope> envs = EdgeEnvelopes();
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) {
        const core::Envelope& env = envs[(i + t) % envs.size()];
        absl::StatusOr<std::string> bytes = Encode(env);
        absl::StatusOr<core::Envelope> back =
            bytes.ok() ? Decode(*bytes) : absl::StatusOr<core::Envelope>(bytes.status());
        if (!back.ok() || !(*back == env)) ++failures[t];
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (int f : failures) EXPECT_EQ(f, 0);
}

// ---------------------------------------------------------------------------------------
// Encode refuses what Decode would refuse

TEST(CodecTest, EncodeRefusesTooLongResource) {
  // A 257-byte name gets InvalidArgument naming the limit.
  core::Envelope env = TypicalAcquire();
  std::get<core::AcquireMsg>(env.body).resource.assign(core::kResourceBytesMax + 1, 'x');
  absl::StatusOr<std::string> bytes = Encode(env);
  EXPECT_EQ(bytes.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bytes.status().message()), HasSubstr("257"));
}

TEST(CodecTest, EncodeRefusesEmptyResource) {
  // An empty name gets InvalidArgument.
  core::Envelope env = TypicalAcquire();
  std::get<core::AcquireMsg>(env.body).resource.clear();
  EXPECT_EQ(Encode(env).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(CodecTest, EncodeRefusesUnknownRefuseReason) {
  // A reason outside the enum (a cast from a bad integer) gets InvalidArgument.
  core::Envelope env =
      Wrap(core::RenewReplyMsg{"r", 1, {}, 1, false, static_cast<core::RefuseReason>(42), 0});
  absl::StatusOr<std::string> bytes = Encode(env);
  EXPECT_EQ(bytes.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bytes.status().message()), HasSubstr("42"));
}

// ---------------------------------------------------------------------------------------
// Bad input to Decode

TEST(CodecTest, EmptyInputIsInvalidArgument) {
  // Zero bytes get InvalidArgument "empty datagram".
  absl::StatusOr<core::Envelope> env = Decode("");
  EXPECT_EQ(env.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(env.status().message()), HasSubstr("empty"));
}

TEST(CodecTest, OversizedInputIsInvalidArgument) {
  // 1401 bytes (one over the datagram limit) get InvalidArgument before any parsing, even when
  // they start with a valid message.
  std::string bytes = MustEncode(TypicalAcquire());
  bytes.resize(core::kDatagramBytesMax + 1, '\0');
  absl::StatusOr<core::Envelope> env = Decode(bytes);
  EXPECT_EQ(env.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(env.status().message()), HasSubstr("1401"));
}

TEST(CodecTest, RandomGarbageNeverCrashes) {
  // 1000 seeded random buffers of random length (1..1400 bytes) get an error or, rarely, a
  // valid envelope; never a crash or an exception.
  std::mt19937_64 rng(20240611);
  int accepted = 0;
  for (int i = 0; i < 1000; ++i) {
    // Half short buffers: those get past the size checks into the parser more often.
    const std::size_t max_len = i % 2 == 0 ? 64 : core::kDatagramBytesMax;
    std::string buf(std::uniform_int_distribution<std::size_t>(1, max_len)(rng), '\0');
    for (char& c : buf) c = static_cast<char>(rng());
    SCOPED_TRACE(i);
    if (DecodeChecked(buf).ok()) ++accepted;
  }
  EXPECT_LT(accepted, 10);
}

TEST(CodecTest, EveryTruncationIsAnError) {
  // Every strict prefix of a valid message (lengths 0..n-1) gets an error: InvalidArgument for
  // the empty prefix, DataLoss ("premature end", "ends prematurely") for the rest.
  for (const core::Envelope& env : EdgeEnvelopes()) {
    const std::string bytes = MustEncode(env);
    for (std::size_t len = 0; len < bytes.size(); ++len) {
      SCOPED_TRACE(testing::Message() << core::MessageKindName(env.body.index()) << " prefix "
                                      << len << "/" << bytes.size());
      const absl::Status status = DecodeChecked(std::string_view(bytes).substr(0, len));
      EXPECT_FALSE(status.ok());
      if (len > 0) {
        EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
      }
    }
  }
}

TEST(CodecTest, BitFlipsNeverCrash) {
  // Each single-bit flip in each byte of valid messages gets an error or a (different) valid
  // envelope; never a crash or an exception.
  int errors = 0;
  int decoded = 0;
  for (const core::Envelope& env : EdgeEnvelopes()) {
    const std::string bytes = MustEncode(env);
    for (std::size_t i = 0; i < bytes.size(); ++i) {
      for (int bit = 0; bit < 8; ++bit) {
        std::string flipped = bytes;
        flipped[i] = static_cast<char>(flipped[i] ^ (1 << bit));
        SCOPED_TRACE(testing::Message() << "byte " << i << " bit " << bit);
        (DecodeChecked(flipped).ok() ? decoded : errors)++;
      }
    }
  }
  EXPECT_GT(errors, 0);
  EXPECT_GT(decoded, 0);
}

TEST(CodecTest, TrailingBytesAreDataLoss) {
  const std::string bytes = MustEncode(TypicalAcquire());
  // A second message after the first gets DataLoss "trailing".
  absl::Status status = DecodeChecked(bytes + bytes);
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(status.message()), HasSubstr("trailing"));
  // One packed zero word (tag 0x00, run 0) after it gets DataLoss "trailing".
  status = DecodeChecked(bytes + std::string(2, '\0'));
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(status.message()), HasSubstr("trailing"));
  // A lone stray byte gets DataLoss (it is the start of an incomplete packed word).
  status = DecodeChecked(bytes + "\x01");
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
}

TEST(CodecTest, UnknownVersionIsUnimplemented) {
  // Version 2 (a future build) and 0 (field missing) get Unimplemented naming the version.
  for (uint16_t version : {uint16_t{2}, uint16_t{0}, uint16_t{65535}}) {
    capnp::MallocMessageBuilder message;
    auto root = CraftEnvelope(message);
    root.setVersion(version);
    root.getBody().initReleaseNotice().setResource(kj::StringPtr("r").asBytes());
    const absl::Status status = DecodeChecked(Pack(message));
    EXPECT_EQ(status.code(), absl::StatusCode::kUnimplemented) << status;
    EXPECT_THAT(std::string(status.message()), HasSubstr("version " + std::to_string(version)));
  }
}

TEST(CodecTest, UnknownMessageKindIsInvalidArgument) {
  // Union tag 18 (one past push-pull) gets InvalidArgument "unknown message kind".
  capnp::MallocMessageBuilder message;
  CraftEnvelope(message).getBody().initReleaseNotice().setResource(kj::StringPtr("r").asBytes());
  kj::Array<capnp::word> flat = capnp::messageToFlatArray(message);
  // Layout (see `capnp compile -ocapnp`): word 0 segment table, word 1 root pointer, word 2
  // the root's first data word, whose bits 16..31 are the body's union tag.
  auto* bytes = reinterpret_cast<uint8_t*>(flat.begin());
  ASSERT_EQ(bytes[2 * 8 + 2] | (bytes[2 * 8 + 3] << 8), schema::Envelope::Body::RELEASE_NOTICE);
  bytes[2 * 8 + 2] = 18;
  const absl::Status status = DecodeChecked(PackFlat(flat));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr("unknown message kind (union tag 18)"));
}

TEST(CodecTest, UnknownRefuseReasonIsInvalidArgument) {
  // Enum value 8 (one past kNotVoter) gets InvalidArgument "unknown refuse reason 8".
  capnp::MallocMessageBuilder message;
  auto reply = CraftEnvelope(message).getBody().initAcquireReply();
  reply.setResource(kj::StringPtr("r").asBytes());
  reply.setReason(static_cast<schema::RefuseReason>(8));
  absl::Status status = DecodeChecked(Pack(message));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("unknown refuse reason 8"));

  // The same in a RenewReply, with the largest raw value.
  capnp::MallocMessageBuilder message2;
  auto renew = CraftEnvelope(message2).getBody().initRenewReply();
  renew.setResource(kj::StringPtr("r").asBytes());
  renew.setReason(static_cast<schema::RefuseReason>(65535));
  status = DecodeChecked(Pack(message2));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("unknown refuse reason 65535"));
}

TEST(CodecTest, BadResourceNameIsInvalidArgument) {
  // A 257-byte name gets InvalidArgument naming the length.
  {
    capnp::MallocMessageBuilder message;
    auto release = CraftEnvelope(message).getBody().initRelease();
    release.initResource(core::kResourceBytesMax + 1);
    const absl::Status status = DecodeChecked(Pack(message));
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(status.message()), HasSubstr("257 bytes"));
  }
  // A missing (null) name gets InvalidArgument "empty".
  {
    capnp::MallocMessageBuilder message;
    CraftEnvelope(message).getBody().initRenew().setRound(1);
    const absl::Status status = DecodeChecked(Pack(message));
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(status.message()), HasSubstr("empty"));
  }
  // An envelope with no body set (union tag 0 = acquire, null pointer) gets the same.
  {
    capnp::MallocMessageBuilder message;
    CraftEnvelope(message);
    const absl::Status status = DecodeChecked(Pack(message));
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(status.message()), HasSubstr("empty"));
  }
}

TEST(CodecTest, TraversalLimitExceededIsDataLoss) {
  // A 1500-word (12000-byte) zero Data field packs to a few dozen bytes, fits the unpacking
  // bound, and gets DataLoss from the reader's traversal limit (1024 words).
  capnp::MallocMessageBuilder message;
  CraftEnvelope(message).getBody().initAcquire().initResource(1500 * 8);
  const std::string bytes = Pack(message);
  ASSERT_LT(bytes.size(), core::kDatagramBytesMax);
  const absl::Status status = DecodeChecked(bytes);
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(status.message()), HasSubstr("traversal limit"));
}

TEST(CodecTest, HugeUnpackedSizeIsDataLoss) {
  // A 100000-byte zero Data field packs to well under 1400 bytes but unpacks to ~12500 words;
  // it gets DataLoss "unpacks to" before anything is unpacked.
  capnp::MallocMessageBuilder message;
  CraftEnvelope(message).getBody().initAcquire().initResource(100'000);
  const std::string bytes = Pack(message);
  ASSERT_LT(bytes.size(), core::kDatagramBytesMax);
  const absl::Status status = DecodeChecked(bytes);
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(status.message()), HasSubstr("unpacks to"));
}

TEST(CodecTest, HugeListPointerIsDataLoss) {
  // A Data pointer that claims 2^29-1 bytes in a tiny message gets DataLoss (out of bounds or
  // over the traversal limit), without reading or allocating that much.
  capnp::MallocMessageBuilder message;
  CraftEnvelope(message).getBody().initAcquire().setResource(kj::StringPtr("abcdefgh").asBytes());
  kj::Array<capnp::word> flat = capnp::messageToFlatArray(message);
  // Find the list pointer of the 8-byte name: element size 2 (byte), count 8 << 3 | 2.
  auto* words = reinterpret_cast<uint64_t*>(flat.begin());
  bool patched = false;
  for (std::size_t i = 1; i < flat.size(); ++i) {
    if ((words[i] & 3) == 1 && (words[i] >> 32) == ((8u << 3) | 2u)) {
      words[i] = (words[i] & 0xffffffffULL) | (uint64_t{(0x1fffffffu << 3) | 2u} << 32);
      patched = true;
    }
  }
  ASSERT_TRUE(patched);
  const absl::Status status = DecodeChecked(PackFlat(flat));
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
}

TEST(CodecTest, HugeSegmentTableIsDataLoss) {
  // A segment table claiming 2^32-1 segments or a 2^32-1-word segment gets DataLoss.
  for (uint64_t first : {uint64_t{0xffffffff}, uint64_t{0xffffffff00000000}}) {
    kj::Array<capnp::word> flat = kj::heapArray<capnp::word>(2);
    auto* words = reinterpret_cast<uint64_t*>(flat.begin());
    words[0] = first;
    words[1] = 0;
    const absl::Status status = DecodeChecked(PackFlat(flat));
    EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
  }
}

// ---------------------------------------------------------------------------------------
// Membership messages

// The unpacked size of packed bytes, in words (segment table included).
std::size_t UnpackedWords(const std::string& bytes) {
  return capnp::computeUnpackedSizeInWords(
      kj::arrayPtr(reinterpret_cast<const kj::byte*>(bytes.data()), bytes.size()));
}

void ExpectWithinBudget(const core::Envelope& env) {
  const core::WireSize bound = core::GossipWireSize(env.body);
  const std::string bytes = MustEncode(env);
  EXPECT_LE(bytes.size(), bound.bytes) << core::DescribeMessage(env.body);
  EXPECT_LE(UnpackedWords(bytes), bound.words) << core::DescribeMessage(env.body);
}

TEST(CodecGossipTest, EdgeMessagesStayWithinTheWireBudget) {
  for (const core::Envelope& env : GossipEdgeEnvelopes()) ExpectWithinBudget(env);
}

TEST(CodecGossipTest, RandomMessagesStayWithinTheWireBudget) {
  // 500 seeded random messages of every kind, with random field lengths and bytes (zero,
  // 0xff, anything); each whose bound fits a datagram must encode within the bound.
  std::mt19937_64 rng(77);
  auto random_bytes = [&](std::size_t max_len, bool nonempty) {
    std::size_t len = std::uniform_int_distribution<std::size_t>(nonempty ? 1 : 0, max_len)(rng);
    std::string out(len, '\0');
    const int style = static_cast<int>(rng() % 3);
    for (char& c : out) {
      c = style == 0 ? '\xff' : style == 1 ? '\0' : static_cast<char>(rng());
    }
    return out;
  };
  auto random_update = [&] {
    core::MemberUpdate u;
    u.state = static_cast<core::MemberState>(rng() % core::kMemberStateCount);
    u.node = rng();
    u.incarnation = rng() % (core::kIncarnationMax + 1);
    u.from = rng() >> (rng() % 64);
    u.info.voter = rng() % 2 == 0;
    u.info.name = random_bytes(core::kMemberNameBytesMax, false);
    u.info.address = random_bytes(core::kMemberAddressBytesMax, false);
    const std::size_t tags = rng() % (core::kMemberTagsMax + 1);
    std::size_t budget = core::kMemberTagsBytesMax;
    for (std::size_t i = 0; i < tags && budget > 1; ++i) {
      std::string key = random_bytes(std::min(budget - 1, core::kMemberTagKeyBytesMax), true);
      budget -= key.size();
      std::string value = random_bytes(std::min(budget, core::kMemberTagValueBytesMax), false);
      budget -= value.size();
      u.info.tags[std::move(key)] = std::move(value);
    }
    return u;
  };
  int encoded = 0;
  for (int i = 0; i < 500; ++i) {
    std::vector<core::MemberUpdate> updates(rng() % 4);
    for (core::MemberUpdate& u : updates) u = random_update();
    const uint32_t seq = static_cast<uint32_t>(rng());
    core::MessageBody body;
    switch (i % 6) {
      case 0:
        body = core::PingMsg{seq, random_bytes(64, true), updates};
        break;
      case 1:
        body = core::PingReqMsg{
            seq, rng(), random_bytes(64, true), random_bytes(64, true), rng() % 2 == 0, updates};
        break;
      case 2:
        body = core::AckMsg{seq, updates};
        break;
      case 3:
        body = core::NackMsg{seq, updates};
        break;
      case 4:
        body = core::GossipMsg{updates};
        break;
      default:
        body = core::PushPullMsg{rng() % 2 == 0, rng() % 2 == 0, static_cast<uint16_t>(rng()),
                                 static_cast<uint16_t>(rng()), updates};
    }
    core::Envelope env = Wrap(std::move(body));
    env.from = rng();
    env.to = rng() >> (rng() % 64);
    if (!core::Fits(core::GossipWireSize(env.body))) continue;
    SCOPED_TRACE(i);
    ExpectWithinBudget(env);
    ++encoded;
  }
  EXPECT_GT(encoded, 200);
}

TEST(CodecGossipTest, LargestUpdateTravelsAloneInGossipAndPushPull) {
  // One update at every limit, all bytes 0xff, fits one datagram in either message.
  for (core::MessageBody body :
       {core::MessageBody(core::GossipMsg{{LargestUpdate('\xff')}}),
        core::MessageBody(core::PushPullMsg{true, true, 65535, 65535, {LargestUpdate('\xff')}})}) {
    const core::Envelope env = Wrap(body);
    const std::string bytes = MustEncode(env);
    EXPECT_LE(bytes.size(), core::kDatagramBytesMax);
    EXPECT_LE(core::GossipWireSize(env.body).bytes, core::kDatagramBytesMax);
    absl::StatusOr<core::Envelope> back = Decode(bytes);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(*back, env);
  }
  const core::WireSize largest = core::MemberUpdateWireSizeMax();
  EXPECT_GE(largest.bytes, core::WireSizeOf(LargestUpdate('\xff')).bytes);
  EXPECT_GE(largest.words, core::WireSizeOf(LargestUpdate('\xff')).words);
}

// Expects Encode to refuse `body` with InvalidArgument mentioning `why`.
void ExpectEncodeRefuses(core::MessageBody body, const std::string& why) {
  absl::StatusOr<std::string> bytes = Encode(Wrap(std::move(body)));
  EXPECT_EQ(bytes.status().code(), absl::StatusCode::kInvalidArgument) << bytes.status();
  EXPECT_THAT(std::string(bytes.status().message()), HasSubstr(why));
}

TEST(CodecGossipTest, EncodeRefusesMembershipFieldsOverTheirBounds) {
  auto with = [](auto change) {
    core::MemberUpdate u = TypicalUpdate(1);
    change(u);
    return core::MessageBody(core::GossipMsg{{u}});
  };
  ExpectEncodeRefuses(with([](auto& u) { u.info.name = Filled(65, 'n'); }), "name is 65 bytes");
  ExpectEncodeRefuses(with([](auto& u) { u.info.address = Filled(65, 'a'); }),
                      "address is 65 bytes");
  ExpectEncodeRefuses(with([](auto& u) { u.state = static_cast<core::MemberState>(7); }),
                      "unknown member state 7");
  ExpectEncodeRefuses(with([](auto& u) { u.incarnation = core::kIncarnationMax + 1; }),
                      "incarnation");
  ExpectEncodeRefuses(with([](auto& u) {
                        for (int i = 0; i < 17; ++i) u.info.tags[std::to_string(i)] = "";
                      }),
                      "17 tags");
  ExpectEncodeRefuses(with([](auto& u) { u.info.tags[Filled(33, 'k')] = ""; }),
                      "tag key is 33 bytes");
  ExpectEncodeRefuses(with([](auto& u) { u.info.tags["k"] = Filled(129, 'v'); }), "129 bytes");
  ExpectEncodeRefuses(with([](auto& u) {
                        for (int i = 0; i < 5; ++i)
                          u.info.tags[std::to_string(i)] = Filled(128, 'v');
                      }),
                      "all tag keys and values");
  ExpectEncodeRefuses(with([](auto& u) { u.info.tags[""] = "v"; }), "empty");
  ExpectEncodeRefuses(core::PingMsg{1, Filled(65, 'a'), {}}, "source address is 65 bytes");
  ExpectEncodeRefuses(core::PingReqMsg{1, 2, Filled(65, 'a'), "b", true, {}},
                      "target address is 65 bytes");
  // 65 updates (one over the limit) are refused before their size is looked at.
  ExpectEncodeRefuses(core::AckMsg{1, std::vector<core::MemberUpdate>(65)}, "65 member updates");
  // 40 typical updates are within the count limit but over 1400 bytes.
  std::vector<core::MemberUpdate> many;
  for (int i = 0; i < 40; ++i) many.push_back(TypicalUpdate(i));
  ExpectEncodeRefuses(core::PushPullMsg{false, false, 0, 1, many}, "envelope limit of 1312");
}

// Packed bytes of a PushPull whose members are built by `build` directly with Cap'n Proto.
template <typename Build>
std::string CraftPushPull(unsigned members, Build build) {
  capnp::MallocMessageBuilder message;
  auto pp = CraftEnvelope(message).getBody().initPushPull();
  pp.setChunkCount(1);
  auto list = pp.initMembers(members);
  for (unsigned i = 0; i < members; ++i) {
    list[i].setNode(i + 1);
    build(list[i]);
  }
  return Pack(message);
}

void ExpectDecodeRefuses(const std::string& bytes, const std::string& why) {
  const absl::Status status = DecodeChecked(bytes);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr(why));
}

TEST(CodecGossipTest, DecodeRefusesMembershipFieldsOverTheirBounds) {
  ExpectDecodeRefuses(
      CraftPushPull(1, [](auto u) { u.setState(static_cast<schema::MemberState>(4)); }),
      "unknown member state 4");
  ExpectDecodeRefuses(CraftPushPull(65, [](auto) {}), "65 member updates");
  ExpectDecodeRefuses(CraftPushPull(1, [](auto u) { u.initName(65); }), "name is 65 bytes");
  ExpectDecodeRefuses(CraftPushPull(1, [](auto u) { u.initAddress(65); }), "address is 65 bytes");
  ExpectDecodeRefuses(CraftPushPull(1, [](auto u) { u.setIncarnation(kU64Max); }), "incarnation");
  ExpectDecodeRefuses(CraftPushPull(1,
                                    [](auto u) {
                                      auto tags = u.initTags(2);
                                      tags[0].setKey(kj::StringPtr("k").asBytes());
                                      tags[1].setKey(kj::StringPtr("k").asBytes());
                                    }),
                      "duplicate tag key");
  ExpectDecodeRefuses(CraftPushPull(1, [](auto u) { u.initTags(17); }), "17 tags");
  ExpectDecodeRefuses(CraftPushPull(1, [](auto u) { u.initTags(1); }), "tag key is empty");
  {
    capnp::MallocMessageBuilder message;
    CraftEnvelope(message).getBody().initPing().initSourceAddress(65);
    ExpectDecodeRefuses(Pack(message), "source address is 65 bytes");
  }
  {
    capnp::MallocMessageBuilder message;
    CraftEnvelope(message).getBody().initPingReq().initTargetAddress(100);
    ExpectDecodeRefuses(Pack(message), "target address is 100 bytes");
  }
}

TEST(CodecGossipTest, MeaningIsLeftToTheCore) {
  // Bounds are the codec's; sense is not: a suspicion without an accuser, a name that does
  // not hash to the node id, chunk 3 of 2, all decode and reach the gossip core, which judges
  // them update by update.
  core::MemberUpdate u = TypicalUpdate(3);
  u.node = 42;
  u.from = 0;
  u.state = core::MemberState::kSuspect;
  const core::Envelope env = Wrap(core::PushPullMsg{false, false, 3, 2, {u}});
  absl::StatusOr<core::Envelope> back = Decode(MustEncode(env));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, env);
}

}  // namespace
}  // namespace lockmesh::wire
