# lockmesh wire schema: every datagram's plaintext is one flat Batch of packed Envelopes.
#
# Mirrors lib/core/messages.h; lib/wire/codec.cc is the only code that reads or builds the
# Envelope structs, lib/wire/batch.cc the only one for Batch. Evolution rules (standard Cap'n
# Proto): never renumber or retype a field, only add fields with new ordinals. A change that
# old readers cannot ignore bumps `version` (core::kProtocolVersion), and readers drop
# envelopes and batches whose version they do not speak.

@0xdd40fae28af6023d;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("lockmesh::wire::schema");

# Who holds or asks for a lease: a node in one incarnation, and the request within it.
struct Owner {
  node @0 :UInt64;
  incarnation @1 :UInt64;
  request @2 :UInt64;
}

# Same order and values as core::RefuseReason; the codec rejects values it does not know.
enum RefuseReason {
  none @0;
  quarantine @1;
  staleBallot @2;
  held @3;
  noLease @4;
  tableFull @5;
  badRequest @6;
  notVoter @7;
}

# Resource names are bytes (Data, not Text): any byte, NUL included, 1..256 bytes.

struct Acquire {
  resource @0 :Data;
  ballot @1 :UInt64;
  owner @2 :Owner;
  durationUs @3 :Int64;
  ticket @4 :UInt64;  # the request's first ballot; voters queue waiters by it (0: not queued)
  hears @5 :Bool;     # the sender heard this voter lately: it may accept this ballot at release
}

struct AcquireReply {
  resource @0 :Data;
  ballot @1 :UInt64;
  owner @2 :Owner;
  accepted @3 :Bool;
  reason @4 :RefuseReason;
  highestBallot @5 :UInt64;
  holderRemainingUs @6 :Int64;
  holder @7 :Owner;          # reason held: whose live lease is in the way
  holderBallot @8 :UInt64;
}

struct Renew {
  resource @0 :Data;
  token @1 :UInt64;
  owner @2 :Owner;
  durationUs @3 :Int64;
  round @4 :UInt32;
}

struct RenewReply {
  resource @0 :Data;
  token @1 :UInt64;
  owner @2 :Owner;
  round @3 :UInt32;
  renewed @4 :Bool;
  reason @5 :RefuseReason;
  highestBallot @6 :UInt64;
}

struct Release {
  resource @0 :Data;
  ballot @1 :UInt64;
  owner @2 :Owner;
  ackWanted @3 :Bool;  # answer with an AcquireReply refusing `ballot` as noLease
  stillWaiting @4 :Bool;  # the owner still waits: keep it queued by its ticket
}

struct ReleaseNotice {
  resource @0 :Data;
  ballot @1 :UInt64;  # the lease that ended
}

# ---------------------------------------------------------------------------------------
# Membership (lib/core/membership). Names, addresses and tag keys/values are bytes (Data), with
# the bounds of lib/core/limits.h; lib/core/membership/wire_budget.cc bounds the packed size of
# every struct below, so a change here must be mirrored there (tests/wire/codec_test.cc checks).

# Same order and values as core::MemberState.
enum MemberState {
  alive @0;
  suspect @1;
  dead @2;
  left @3;
}

struct Tag {
  key @0 :Data;
  value @1 :Data;
}

# One member's state as the sender knows it: a piggybacked update or a push-pull entry.
# `from` is who declared a suspicion or death; name/address/voter/tags are empty in
# suspect/dead/left updates that ride on probe traffic.
struct MemberUpdate {
  node @0 :UInt64;
  incarnation @1 :UInt64;
  from @2 :UInt64;
  state @3 :MemberState;
  voter @4 :Bool;
  name @5 :Data;
  address @6 :Data;
  tags @7 :List(Tag);
}

struct Ping {
  seq @0 :UInt32;
  sourceAddress @1 :Data;  # where the ack goes
  updates @2 :List(MemberUpdate);
}

struct PingReq {
  seq @0 :UInt32;
  nack @1 :Bool;           # the requester wants a nack if the target stays silent
  target @2 :UInt64;
  targetAddress @3 :Data;
  sourceAddress @4 :Data;  # the requester's address
  updates @5 :List(MemberUpdate);
}

struct Ack {
  seq @0 :UInt32;
  updates @1 :List(MemberUpdate);
}

struct Nack {
  seq @0 :UInt32;
  updates @1 :List(MemberUpdate);
}

struct Gossip {
  updates @0 :List(MemberUpdate);
}

# One datagram of a full-state exchange; every chunk stands alone.
struct PushPull {
  join @0 :Bool;
  reply @1 :Bool;
  chunkIndex @2 :UInt16;
  chunkCount @3 :UInt16;
  members @4 :List(MemberUpdate);
}

struct Envelope {
  version @0 :UInt16;          # core::kProtocolVersion of the sender
  from @1 :UInt64;             # sender's NodeId
  fromIncarnation @2 :UInt64;
  to @3 :UInt64;               # receiver's NodeId
  hlc @4 :UInt64;              # sender's HLC when it sent
  voterSetHash @5 :UInt64;     # must equal the receiver's

  # Exactly one message per envelope. Lease messages are @6..@11, membership (gossip)
  # messages @12..@17; ordinals stay fixed. A reader that meets a tag it does not know drops
  # the envelope.
  body :union {
    acquire @6 :Acquire;
    acquireReply @7 :AcquireReply;
    renew @8 :Renew;
    renewReply @9 :RenewReply;
    release @10 :Release;
    releaseNotice @11 :ReleaseNotice;
    ping @12 :Ping;
    pingReq @13 :PingReq;
    ack @14 :Ack;
    nack @15 :Nack;
    gossip @16 :Gossip;
    pushPull @17 :PushPull;
  }
}

# ---------------------------------------------------------------------------------------
# Several envelopes to one peer share a datagram. Its plaintext (before lib/crypto seals it)
# is one Batch, written flat (unpacked, one segment) so that its size is known before it is
# built; lib/wire/batch.h computes it. Each element of `messages` is one packed Envelope as
# made by wire::Encode, and readers decode each on its own. 1..core::kBatchMessagesMax
# elements, none empty.
struct Batch {
  version @0 :UInt16;          # core::kProtocolVersion of the sender
  messages @1 :List(Data);     # packed Envelopes
}
