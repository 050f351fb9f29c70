# lockmesh wire schema: every datagram is one packed Envelope.
#
# Mirrors lib/core/messages.h; lib/wire/codec.cc is the only code that reads or builds these
# structs. Evolution rules (standard Cap'n Proto): never renumber or retype a field, only add
# fields with new ordinals. A change that old readers cannot ignore bumps `version`
# (core::kProtocolVersion), and readers drop envelopes whose version they do not speak.

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
}

struct AcquireReply {
  resource @0 :Data;
  ballot @1 :UInt64;
  owner @2 :Owner;
  accepted @3 :Bool;
  reason @4 :RefuseReason;
  highestBallot @5 :UInt64;
  holderRemainingUs @6 :Int64;
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
}

struct ReleaseNotice {
  resource @0 :Data;
  ballot @1 :UInt64;  # the lease that ended
}

struct Envelope {
  version @0 :UInt16;          # core::kProtocolVersion of the sender
  from @1 :UInt64;             # sender's NodeId
  fromIncarnation @2 :UInt64;
  to @3 :UInt64;               # receiver's NodeId
  hlc @4 :UInt64;              # sender's HLC when it sent
  voterSetHash @5 :UInt64;     # must equal the receiver's

  # Exactly one message per envelope. Gossip (membership) messages will be added here as
  # further union members with ordinals @12 and up (ping, ack, ping-req, suspect/alive/dead
  # updates, push-pull); lease ordinals stay fixed. A reader that meets a tag it does not
  # know drops the envelope.
  body :union {
    acquire @6 :Acquire;
    acquireReply @7 :AcquireReply;
    renew @8 :Renew;
    renewReply @9 :RenewReply;
    release @10 :Release;
    releaseNotice @11 :ReleaseNotice;
  }
}
