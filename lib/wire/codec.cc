#include "lib/wire/codec.h"

#include <capnp/message.h>
#include <capnp/serialize-packed.h>
#include <capnp/serialize.h>
#include <kj/exception.h>
#include <kj/io.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "lib/core/limits.h"
#include "lib/wire/capnp_status.h"
#include "lockmesh.capnp.h"

namespace lockmesh::wire {
namespace {

using Body = schema::Envelope::Body;

// The schema enum must stay a copy of the core enum: the codec converts by value.
static_assert(core::kRefuseReasonCount == 8);
static_assert(static_cast<int>(schema::RefuseReason::NONE) ==
              static_cast<int>(core::RefuseReason::kNone));
static_assert(static_cast<int>(schema::RefuseReason::QUARANTINE) ==
              static_cast<int>(core::RefuseReason::kQuarantine));
static_assert(static_cast<int>(schema::RefuseReason::STALE_BALLOT) ==
              static_cast<int>(core::RefuseReason::kStaleBallot));
static_assert(static_cast<int>(schema::RefuseReason::HELD) ==
              static_cast<int>(core::RefuseReason::kHeld));
static_assert(static_cast<int>(schema::RefuseReason::NO_LEASE) ==
              static_cast<int>(core::RefuseReason::kNoLease));
static_assert(static_cast<int>(schema::RefuseReason::TABLE_FULL) ==
              static_cast<int>(core::RefuseReason::kTableFull));
static_assert(static_cast<int>(schema::RefuseReason::BAD_REQUEST) ==
              static_cast<int>(core::RefuseReason::kBadRequest));
static_assert(static_cast<int>(schema::RefuseReason::NOT_VOTER) ==
              static_cast<int>(core::RefuseReason::kNotVoter));
static_assert(core::kMemberStateCount == 4);
static_assert(static_cast<int>(schema::MemberState::ALIVE) ==
              static_cast<int>(core::MemberState::kAlive));
static_assert(static_cast<int>(schema::MemberState::SUSPECT) ==
              static_cast<int>(core::MemberState::kSuspect));
static_assert(static_cast<int>(schema::MemberState::DEAD) ==
              static_cast<int>(core::MemberState::kDead));
static_assert(static_cast<int>(schema::MemberState::LEFT) ==
              static_cast<int>(core::MemberState::kLeft));
static_assert(core::kMessageKindCount == 12, "add the new message kind to the schema and codec");

// Encode refuses messages over the reader's traversal limit, so a first segment of that size
// holds every message it produces in one segment: it never allocates a second one, and the
// size bounds of lib/core/membership/wire_budget.h (which assume one segment) hold.
constexpr std::size_t kFirstSegmentWords = core::kWireTraversalWordsMax;

// Packing never takes more than 10 bytes per word (tag, 8 bytes, run count). The scratch
// buffer holds the packing of the largest message Encode accepts, so it packs without
// allocating.
constexpr std::size_t kPackedBytesPerWordMax = 10;
constexpr std::size_t kEncodeScratchBytes = kPackedBytesPerWordMax * (kFirstSegmentWords + 1);

// A datagram of kDatagramBytesMax packed bytes can unpack to ~1.4 MB of zero runs. Refuse to
// unpack more than this; legitimate messages are ~50 words. The bound is twice the traversal
// limit so that it only stops amplification, and the reader's traversal limit stays the
// check for messages that are merely too big.
constexpr std::size_t kUnpackedWordsMax = 2 * core::kWireTraversalWordsMax;

// Thread-local so Encode/Decode stay thread-safe with no per-call scratch allocation.
// MallocMessageBuilder requires a zeroed first segment and re-zeroes what it used on
// destruction, so the array can be handed to one builder after another.
thread_local std::array<capnp::word, kFirstSegmentWords> tls_first_segment{};
thread_local std::array<kj::byte, kEncodeScratchBytes> tls_packed{};
thread_local std::array<capnp::word, kUnpackedWordsMax> tls_unpacked{};

kj::ArrayPtr<const kj::byte> AsBytes(std::string_view s) {
  return kj::arrayPtr(reinterpret_cast<const kj::byte*>(s.data()), s.size());
}

absl::Status CheckResource(std::string_view resource) {
  if (resource.empty()) return absl::InvalidArgumentError("resource name is empty");
  if (resource.size() > core::kResourceBytesMax) {
    return absl::InvalidArgumentError(absl::StrCat("resource name is ", resource.size(),
                                                   " bytes, more than the limit of ",
                                                   core::kResourceBytesMax));
  }
  return absl::OkStatus();
}

absl::Status CheckReason(core::RefuseReason reason) {
  if (static_cast<int>(reason) >= core::kRefuseReasonCount) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown refuse reason ", static_cast<int>(reason)));
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------
// Encode: core -> schema. Every message has a resource; most have an owner.

void SetOwner(schema::Owner::Builder out, const core::Owner& owner) {
  out.setNode(owner.node);
  out.setIncarnation(owner.incarnation);
  out.setRequest(owner.request);
}

schema::RefuseReason ToSchema(core::RefuseReason reason) {
  return static_cast<schema::RefuseReason>(reason);
}

void Fill(Body::Builder body, const core::AcquireMsg& m) {
  auto out = body.initAcquire();
  out.setResource(AsBytes(m.resource));
  out.setBallot(m.ballot);
  SetOwner(out.initOwner(), m.owner);
  out.setDurationUs(m.duration_us);
  out.setTicket(m.ticket);
  out.setHears(m.hears);
}

void Fill(Body::Builder body, const core::AcquireReplyMsg& m) {
  auto out = body.initAcquireReply();
  out.setResource(AsBytes(m.resource));
  out.setBallot(m.ballot);
  SetOwner(out.initOwner(), m.owner);
  out.setAccepted(m.accepted);
  out.setReason(ToSchema(m.reason));
  out.setHighestBallot(m.highest_ballot);
  out.setHolderRemainingUs(m.holder_remaining_us);
  // An empty holder stays a null pointer (smallest).
  if (m.holder != core::Owner{}) SetOwner(out.initHolder(), m.holder);
  out.setHolderBallot(m.holder_ballot);
}

void Fill(Body::Builder body, const core::RenewMsg& m) {
  auto out = body.initRenew();
  out.setResource(AsBytes(m.resource));
  out.setToken(m.token);
  SetOwner(out.initOwner(), m.owner);
  out.setDurationUs(m.duration_us);
  out.setRound(m.round);
}

void Fill(Body::Builder body, const core::RenewReplyMsg& m) {
  auto out = body.initRenewReply();
  out.setResource(AsBytes(m.resource));
  out.setToken(m.token);
  SetOwner(out.initOwner(), m.owner);
  out.setRound(m.round);
  out.setRenewed(m.renewed);
  out.setReason(ToSchema(m.reason));
  out.setHighestBallot(m.highest_ballot);
}

void Fill(Body::Builder body, const core::ReleaseMsg& m) {
  auto out = body.initRelease();
  out.setResource(AsBytes(m.resource));
  out.setBallot(m.ballot);
  SetOwner(out.initOwner(), m.owner);
  out.setAckWanted(m.ack_wanted);
  out.setStillWaiting(m.still_waiting);
}

void Fill(Body::Builder body, const core::ReleaseNoticeMsg& m) {
  auto out = body.initReleaseNotice();
  out.setResource(AsBytes(m.resource));
  out.setBallot(m.ballot);
}

// ---------------------------------------------------------------------------------------
// Membership messages. Empty Data fields and empty lists stay null pointers (smallest).

void SetBytes(std::string_view in, auto setter) {
  if (!in.empty()) setter(AsBytes(in));
}

void FillUpdates(const std::vector<core::MemberUpdate>& in,
                 capnp::List<schema::MemberUpdate>::Builder out) {
  for (unsigned i = 0; i < in.size(); ++i) {
    const core::MemberUpdate& u = in[i];
    auto b = out[i];
    b.setNode(u.node);
    b.setIncarnation(u.incarnation);
    b.setFrom(u.from);
    b.setState(static_cast<schema::MemberState>(u.state));
    b.setVoter(u.info.voter);
    SetBytes(u.info.name, [&](auto bytes) { b.setName(bytes); });
    SetBytes(u.info.address, [&](auto bytes) { b.setAddress(bytes); });
    if (u.info.tags.empty()) continue;
    auto tags = b.initTags(static_cast<unsigned>(u.info.tags.size()));
    unsigned j = 0;
    for (const auto& [key, value] : u.info.tags) {
      auto tag = tags[j++];
      SetBytes(key, [&](auto bytes) { tag.setKey(bytes); });
      SetBytes(value, [&](auto bytes) { tag.setValue(bytes); });
    }
  }
}

template <typename Builder>
void FillUpdatesOf(Builder out, const std::vector<core::MemberUpdate>& updates) {
  if (!updates.empty())
    FillUpdates(updates, out.initUpdates(static_cast<unsigned>(updates.size())));
}

void Fill(Body::Builder body, const core::PingMsg& m) {
  auto out = body.initPing();
  out.setSeq(m.seq);
  SetBytes(m.source_address, [&](auto bytes) { out.setSourceAddress(bytes); });
  FillUpdatesOf(out, m.updates);
}

void Fill(Body::Builder body, const core::PingReqMsg& m) {
  auto out = body.initPingReq();
  out.setSeq(m.seq);
  out.setNack(m.nack);
  out.setTarget(m.target);
  SetBytes(m.target_address, [&](auto bytes) { out.setTargetAddress(bytes); });
  SetBytes(m.source_address, [&](auto bytes) { out.setSourceAddress(bytes); });
  FillUpdatesOf(out, m.updates);
}

void Fill(Body::Builder body, const core::AckMsg& m) {
  auto out = body.initAck();
  out.setSeq(m.seq);
  FillUpdatesOf(out, m.updates);
}

void Fill(Body::Builder body, const core::NackMsg& m) {
  auto out = body.initNack();
  out.setSeq(m.seq);
  FillUpdatesOf(out, m.updates);
}

void Fill(Body::Builder body, const core::GossipMsg& m) {
  FillUpdatesOf(body.initGossip(), m.updates);
}

void Fill(Body::Builder body, const core::PushPullMsg& m) {
  auto out = body.initPushPull();
  out.setJoin(m.join);
  out.setReply(m.reply);
  out.setChunkIndex(m.chunk_index);
  out.setChunkCount(m.chunk_count);
  if (!m.members.empty()) {
    FillUpdates(m.members, out.initMembers(static_cast<unsigned>(m.members.size())));
  }
}

absl::Status CheckAddress(absl::string_view what, std::string_view address) {
  if (address.size() > core::kMemberAddressBytesMax) {
    return absl::InvalidArgumentError(absl::StrCat(what, " is ", address.size(),
                                                   " bytes, more than the limit of ",
                                                   core::kMemberAddressBytesMax));
  }
  return absl::OkStatus();
}

absl::Status CheckUpdates(const std::vector<core::MemberUpdate>& updates) {
  if (updates.size() > core::kGossipUpdatesPerMessageMax) {
    return absl::InvalidArgumentError(absl::StrCat(updates.size(),
                                                   " member updates, more than the limit of ",
                                                   core::kGossipUpdatesPerMessageMax));
  }
  for (const core::MemberUpdate& u : updates) {
    if (absl::Status s = core::CheckMemberUpdateBounds(u); !s.ok()) return s;
  }
  return absl::OkStatus();
}

// The codec checks bounds only (sizes, counts, enums); what the fields mean is the
// gossip core's to judge, update by update.
absl::Status CheckGossip(const core::MessageBody& body) {
  if (const auto* m = std::get_if<core::PingMsg>(&body)) {
    if (absl::Status s = CheckAddress("source address", m->source_address); !s.ok()) return s;
    return CheckUpdates(m->updates);
  }
  if (const auto* m = std::get_if<core::PingReqMsg>(&body)) {
    if (absl::Status s = CheckAddress("source address", m->source_address); !s.ok()) return s;
    if (absl::Status s = CheckAddress("target address", m->target_address); !s.ok()) return s;
    return CheckUpdates(m->updates);
  }
  if (const auto* m = std::get_if<core::AckMsg>(&body)) return CheckUpdates(m->updates);
  if (const auto* m = std::get_if<core::NackMsg>(&body)) return CheckUpdates(m->updates);
  if (const auto* m = std::get_if<core::GossipMsg>(&body)) return CheckUpdates(m->updates);
  if (const auto* m = std::get_if<core::PushPullMsg>(&body)) return CheckUpdates(m->members);
  return absl::OkStatus();
}

// Validates what Decode would refuse, so a bad message fails at its sender, not silently at
// every receiver.
absl::Status CheckBody(const core::MessageBody& body) {
  if (body.valueless_by_exception()) return absl::InvalidArgumentError("envelope has no body");
  if (core::IsGossipMessage(body)) return CheckGossip(body);
  if (absl::Status s = CheckResource(core::ResourceOf(body)); !s.ok()) return s;
  if (const auto* m = std::get_if<core::AcquireReplyMsg>(&body)) return CheckReason(m->reason);
  if (const auto* m = std::get_if<core::RenewReplyMsg>(&body)) return CheckReason(m->reason);
  return absl::OkStatus();
}

absl::StatusOr<std::string> EncodeUnchecked(const core::Envelope& env) {
  capnp::MallocMessageBuilder message(kj::arrayPtr(tls_first_segment.data(), kFirstSegmentWords));
  auto root = message.initRoot<schema::Envelope>();
  root.setVersion(core::kProtocolVersion);
  root.setFrom(env.from);
  root.setFromIncarnation(env.from_incarnation);
  root.setTo(env.to);
  root.setHlc(env.hlc);
  root.setVoterSetHash(env.voter_set_hash);
  std::visit([&](const auto& m) { Fill(root.getBody(), m); }, env.body);

  const std::size_t words = capnp::computeSerializedSizeInWords(message);
  // Decode's traversal limit would refuse more; the scratch buffer is sized for this.
  if (words > core::kWireTraversalWordsMax || words * kPackedBytesPerWordMax > tls_packed.size()) {
    return absl::InvalidArgumentError(absl::StrCat("message of ", words,
                                                   " words is too large to encode (limit ",
                                                   core::kWireTraversalWordsMax, ")"));
  }
  kj::ArrayOutputStream stream(kj::arrayPtr(tls_packed.data(), tls_packed.size()));
  capnp::writePackedMessage(stream, message);
  const kj::ArrayPtr<kj::byte> packed = stream.getArray();
  // The message must still fit a datagram alone once batched (lib/wire/batch.h) and sealed
  // (lib/crypto adds its header and MAC).
  if (packed.size() > core::kEnvelopeBytesMax) {
    return absl::InvalidArgumentError(absl::StrCat("encoded message is ", packed.size(),
                                                   " bytes, more than the envelope limit of ",
                                                   core::kEnvelopeBytesMax));
  }
  return std::string(reinterpret_cast<const char*>(packed.begin()), packed.size());
}

// ---------------------------------------------------------------------------------------
// Decode: schema -> core. Readers are views into tls_unpacked; everything is copied out.

core::Owner GetOwner(schema::Owner::Reader in) {
  return core::Owner{in.getNode(), in.getIncarnation(), in.getRequest()};
}

absl::Status GetResource(capnp::Data::Reader in, std::string* out) {
  const std::string_view name(reinterpret_cast<const char*>(in.begin()), in.size());
  if (absl::Status s = CheckResource(name); !s.ok()) return s;
  out->assign(name);
  return absl::OkStatus();
}

absl::Status GetReason(schema::RefuseReason in, core::RefuseReason* out) {
  // Cap'n Proto hands unknown enumerants through as their raw number.
  const auto raw = static_cast<uint16_t>(in);
  if (raw >= core::kRefuseReasonCount) {
    return absl::InvalidArgumentError(absl::StrCat("unknown refuse reason ", raw));
  }
  *out = static_cast<core::RefuseReason>(raw);
  return absl::OkStatus();
}

std::string GetBytes(capnp::Data::Reader in) {
  return std::string(reinterpret_cast<const char*>(in.begin()), in.size());
}

// Each pointer is read once: the traversal limit counts every read.
absl::Status GetUpdates(capnp::List<schema::MemberUpdate>::Reader in,
                        std::vector<core::MemberUpdate>* out) {
  if (in.size() > core::kGossipUpdatesPerMessageMax) {
    return absl::InvalidArgumentError(absl::StrCat(
        in.size(), " member updates, more than the limit of ", core::kGossipUpdatesPerMessageMax));
  }
  out->reserve(in.size());
  for (auto u : in) {
    core::MemberUpdate update;
    update.node = u.getNode();
    update.incarnation = u.getIncarnation();
    update.from = u.getFrom();
    const auto raw_state = static_cast<uint16_t>(u.getState());
    if (raw_state >= core::kMemberStateCount) {
      return absl::InvalidArgumentError(absl::StrCat("unknown member state ", raw_state));
    }
    update.state = static_cast<core::MemberState>(raw_state);
    update.info.voter = u.getVoter();
    update.info.name = GetBytes(u.getName());
    update.info.address = GetBytes(u.getAddress());
    auto tags = u.getTags();
    if (tags.size() > core::kMemberTagsMax) {
      return absl::InvalidArgumentError(
          absl::StrCat(tags.size(), " tags, more than the limit of ", core::kMemberTagsMax));
    }
    for (auto tag : tags) {
      if (!update.info.tags.emplace(GetBytes(tag.getKey()), GetBytes(tag.getValue())).second) {
        return absl::InvalidArgumentError("duplicate tag key");
      }
    }
    if (absl::Status s = core::CheckMemberUpdateBounds(update); !s.ok()) return s;
    out->push_back(std::move(update));
  }
  return absl::OkStatus();
}

absl::StatusOr<core::MessageBody> ReadGossip(Body::Reader body) {
  switch (body.which()) {
    case Body::PING: {
      auto in = body.getPing();
      core::PingMsg m;
      m.seq = in.getSeq();
      m.source_address = GetBytes(in.getSourceAddress());
      if (absl::Status s = CheckAddress("source address", m.source_address); !s.ok()) return s;
      if (absl::Status s = GetUpdates(in.getUpdates(), &m.updates); !s.ok()) return s;
      return m;
    }
    case Body::PING_REQ: {
      auto in = body.getPingReq();
      core::PingReqMsg m;
      m.seq = in.getSeq();
      m.nack = in.getNack();
      m.target = in.getTarget();
      m.target_address = GetBytes(in.getTargetAddress());
      m.source_address = GetBytes(in.getSourceAddress());
      if (absl::Status s = CheckAddress("target address", m.target_address); !s.ok()) return s;
      if (absl::Status s = CheckAddress("source address", m.source_address); !s.ok()) return s;
      if (absl::Status s = GetUpdates(in.getUpdates(), &m.updates); !s.ok()) return s;
      return m;
    }
    case Body::ACK: {
      auto in = body.getAck();
      core::AckMsg m;
      m.seq = in.getSeq();
      if (absl::Status s = GetUpdates(in.getUpdates(), &m.updates); !s.ok()) return s;
      return m;
    }
    case Body::NACK: {
      auto in = body.getNack();
      core::NackMsg m;
      m.seq = in.getSeq();
      if (absl::Status s = GetUpdates(in.getUpdates(), &m.updates); !s.ok()) return s;
      return m;
    }
    case Body::GOSSIP: {
      core::GossipMsg m;
      if (absl::Status s = GetUpdates(body.getGossip().getUpdates(), &m.updates); !s.ok()) {
        return s;
      }
      return m;
    }
    case Body::PUSH_PULL: {
      auto in = body.getPushPull();
      core::PushPullMsg m;
      m.join = in.getJoin();
      m.reply = in.getReply();
      m.chunk_index = in.getChunkIndex();
      m.chunk_count = in.getChunkCount();
      if (absl::Status s = GetUpdates(in.getMembers(), &m.members); !s.ok()) return s;
      return m;
    }
    default:
      break;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown message kind (union tag ", static_cast<int>(body.which()), ")"));
}

absl::StatusOr<core::MessageBody> ReadBody(Body::Reader body) {
  switch (body.which()) {
    case Body::ACQUIRE: {
      auto in = body.getAcquire();
      core::AcquireMsg m;
      if (absl::Status s = GetResource(in.getResource(), &m.resource); !s.ok()) return s;
      m.ballot = in.getBallot();
      m.owner = GetOwner(in.getOwner());
      m.duration_us = in.getDurationUs();
      m.ticket = in.getTicket();
      m.hears = in.getHears();
      return m;
    }
    case Body::ACQUIRE_REPLY: {
      auto in = body.getAcquireReply();
      core::AcquireReplyMsg m;
      if (absl::Status s = GetResource(in.getResource(), &m.resource); !s.ok()) return s;
      m.ballot = in.getBallot();
      m.owner = GetOwner(in.getOwner());
      m.accepted = in.getAccepted();
      if (absl::Status s = GetReason(in.getReason(), &m.reason); !s.ok()) return s;
      m.highest_ballot = in.getHighestBallot();
      m.holder_remaining_us = in.getHolderRemainingUs();
      if (in.hasHolder()) m.holder = GetOwner(in.getHolder());
      m.holder_ballot = in.getHolderBallot();
      return m;
    }
    case Body::RENEW: {
      auto in = body.getRenew();
      core::RenewMsg m;
      if (absl::Status s = GetResource(in.getResource(), &m.resource); !s.ok()) return s;
      m.token = in.getToken();
      m.owner = GetOwner(in.getOwner());
      m.duration_us = in.getDurationUs();
      m.round = in.getRound();
      return m;
    }
    case Body::RENEW_REPLY: {
      auto in = body.getRenewReply();
      core::RenewReplyMsg m;
      if (absl::Status s = GetResource(in.getResource(), &m.resource); !s.ok()) return s;
      m.token = in.getToken();
      m.owner = GetOwner(in.getOwner());
      m.round = in.getRound();
      m.renewed = in.getRenewed();
      if (absl::Status s = GetReason(in.getReason(), &m.reason); !s.ok()) return s;
      m.highest_ballot = in.getHighestBallot();
      return m;
    }
    case Body::RELEASE: {
      auto in = body.getRelease();
      core::ReleaseMsg m;
      if (absl::Status s = GetResource(in.getResource(), &m.resource); !s.ok()) return s;
      m.ballot = in.getBallot();
      m.owner = GetOwner(in.getOwner());
      m.ack_wanted = in.getAckWanted();
      m.still_waiting = in.getStillWaiting();
      return m;
    }
    case Body::RELEASE_NOTICE: {
      auto in = body.getReleaseNotice();
      core::ReleaseNoticeMsg m;
      if (absl::Status s = GetResource(in.getResource(), &m.resource); !s.ok()) return s;
      m.ballot = in.getBallot();
      return m;
    }
    default:
      break;
  }
  // A membership message, a newer sender's message kind, or corruption.
  return ReadGossip(body);
}

absl::StatusOr<core::Envelope> DecodeUnchecked(std::string_view bytes) {
  // Sizing first bounds the memory a hostile datagram can make us touch.
  const std::size_t words = capnp::computeUnpackedSizeInWords(AsBytes(bytes));
  if (words > kUnpackedWordsMax) {
    return absl::DataLossError(absl::StrCat("message unpacks to ", words,
                                            " words, more than the limit of ", kUnpackedWordsMax));
  }
  // Unpacking by hand (PackedMessageReader would do it internally) lets us see whether any
  // input is left over after the message. PackedInputStream is in capnp's `_` namespace but
  // declared in the public serialize-packed.h; it is what PackedMessageReader uses.
  kj::ArrayInputStream input(AsBytes(bytes));
  capnp::_::PackedInputStream unpacker(input);
  // Throws "premature end of packed input" on a truncated last word, which the size
  // computation above does not notice.
  unpacker.read(tls_unpacked.data(), words * sizeof(capnp::word));
  if (input.tryGetReadBuffer().size() != 0) {
    return absl::DataLossError("trailing bytes after the packed message");
  }
  const kj::ArrayPtr<const capnp::word> flat(tls_unpacked.data(), words);

  capnp::ReaderOptions options;
  options.traversalLimitInWords = core::kWireTraversalWordsMax;
  options.nestingLimit = core::kWireNestingMax;
  capnp::FlatArrayMessageReader reader(flat, options);
  if (reader.getEnd() != flat.end()) {
    return absl::DataLossError(absl::StrCat("trailing data: message ends after ",
                                            reader.getEnd() - flat.begin(), " of ", words,
                                            " words"));
  }
  auto root = reader.getRoot<schema::Envelope>();
  // Checked before anything else: another version may lay out the body differently.
  if (root.getVersion() != core::kProtocolVersion) {
    return absl::UnimplementedError(absl::StrCat("unsupported protocol version ", root.getVersion(),
                                                 " (this build speaks ", core::kProtocolVersion,
                                                 ")"));
  }
  core::Envelope env;
  env.from = root.getFrom();
  env.from_incarnation = root.getFromIncarnation();
  env.to = root.getTo();
  env.hlc = root.getHlc();
  env.voter_set_hash = root.getVoterSetHash();
  absl::StatusOr<core::MessageBody> body = ReadBody(root.getBody());
  if (!body.ok()) return body.status();
  env.body = *std::move(body);
  return env;
}

}  // namespace

absl::StatusOr<std::string> Encode(const core::Envelope& env) {
  if (absl::Status s = CheckBody(env.body); !s.ok()) return s;
  // Encoding a checked message cannot fail in Cap'n Proto short of memory exhaustion, but the
  // codec promises never to throw, so the boundary is the same as Decode's.
  return CatchCapnp(absl::StatusCode::kInternal, "Cap'n Proto failed to encode",
                    [&] { return EncodeUnchecked(env); });
}

absl::StatusOr<core::Envelope> Decode(std::string_view bytes) {
  if (bytes.empty()) return absl::InvalidArgumentError("empty datagram");
  if (bytes.size() > core::kDatagramBytesMax) {
    return absl::InvalidArgumentError(absl::StrCat(
        "datagram is ", bytes.size(), " bytes, more than the limit of ", core::kDatagramBytesMax));
  }
  return CatchCapnp(absl::StatusCode::kDataLoss, "malformed Cap'n Proto message",
                    [&] { return DecodeUnchecked(bytes); });
}

}  // namespace lockmesh::wire
