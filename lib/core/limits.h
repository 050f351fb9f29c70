// File: limits.h
//
// Every bound of the core (leases and membership) in one place. A table, queue or message that is
// not bounded here is a bug. Names carry their units.
#pragma once

#include <cstddef>
#include <cstdint>

namespace lockmesh::core {

// Voters: 3 to 7 is the normal case; larger sets only add latency.
inline constexpr std::size_t kVotersMax = 9;

// A resource name is bytes; the bound keeps every lease message well inside one
// datagram (1400 bytes) with room for batching.
inline constexpr std::size_t kResourceBytesMax = 256;

// Resources a voter tracks at once (live leases plus entries with waiters): at least
// kHeldLeasesMax, so one node can hold its bound of leases. About 180 bytes of heap per held
// lease (bench_core's BM_VoterHeldLeaseBytes), so ~47 MB at the bound.
inline constexpr std::size_t kVoterResourcesMax = 262144;

// Waiters a voter remembers per resource for release notices. Waiters past the
// bound are not remembered; they fall back to their retry timer.
inline constexpr std::size_t kWaitersPerResourceMax = 32;

// A voter grants a lease at release to the head of the waiters on the ballot of the head's
// refused acquire (rule 10) only while that acquire is younger than duration / this: the
// head holds from when it sent that ballot, so an older one would leave it a short lease.
inline constexpr int64_t kReleaseGrantAgeDivisor = 8;

// Requests not yet granted (queued, attempting, waiting) one node keeps at once.
inline constexpr std::size_t kRequestsMax = 4096;

// Leases one node holds at once, counted apart from open requests: a job scheduler may hold
// a lease per job. Requests and held leases together stay within this bound too.
inline constexpr std::size_t kHeldLeasesMax = 131072;
static_assert(kHeldLeasesMax <= kVoterResourcesMax);

// Resources whose refused tries one node spaces at once (Proposer::TrySpacing). Past the
// bound the expired records go; if none has, a new refusal is not spaced.
inline constexpr std::size_t kTrySpacedResourcesMax = 4096;
// A try's spacing doubles with each refusal in a row, up to this many times the first.
inline constexpr int kTrySpacingDoublingsMax = 3;

// Releases of failed attempts' accepts one node resends until the voters confirm them. Past
// the bound a release is sent once, unconfirmed, and an accept it misses lives until it
// expires at its voter.
inline constexpr std::size_t kPendingReleasesMax = 4096;

// The shortest interval between resends of an unanswered acquire, renewal or release, however
// short the measured round trip (LeaseConfig::retransmit_us is the longest).
inline constexpr int64_t kRetransmitUsMin = 1'000;

// A voter to which something had to be resent within this long is on a lossy link: releases
// of held leases go to it with an acknowledgement asked for, and are resent until it
// confirms. Elsewhere a release goes once, unacknowledged (the hot path's cost); a lost one
// keeps that voter from the next holder until the lease expires there.
inline constexpr int64_t kLossyLinkMemoryUs = 10'000'000;
// ... except a voter that has answered nothing for this many resend intervals (crashed, cut
// off): releases to it go once, as a confirmed one would be resent to it for nothing.
inline constexpr int kSilentVoterRetransmits = 16;

// Once the round trip is measured, an attempt lasts at most this many resend intervals (four
// sends, each interval twice the one before: 1 + 2 + 4 + 8), and at least kAttemptUsMin;
// LeaseConfig::attempt_timeout_us stays the ceiling. A proposer that cannot hear its voters
// then holds their accepts for a few round trips, not for the whole configured timeout.
inline constexpr int kAttemptRetransmitIntervals = 15;
inline constexpr int64_t kAttemptUsMin = 10'000;

// Lease durations accepted by any configuration.
inline constexpr int64_t kLeaseDurationUsMin = 10'000;         // 10 ms
inline constexpr int64_t kLeaseDurationUsMax = 3'600'000'000;  // 1 hour

// The longest a voter keeps an ended lease for the waiters it told (waiter priority). The
// window only has to cover a notice and one round trip; it is a term of the liveness bound
// (an idle window when the told waiters gave up), so it must not grow without limit.
inline constexpr int64_t kWaiterPriorityUsMax = 10'000'000;  // 10 s

// The longest an acquire may wait for a lease.
inline constexpr int64_t kWaitUsMax = 86'400'000'000;  // 1 day

// A ballot or HLC stamp further ahead of our wall clock than this is refused as
// bad input: accepting it would drag every token that far ahead (or, near 2^64,
// wrap the clock). Generous, so that a real wall-clock jump still works.
inline constexpr int64_t kClockAheadMsMax = 86'400'000;  // 1 day

// Largest clock rate error bound a configuration may state (10%).
inline constexpr int64_t kRhoPpmMax = 100'000;

// The wire format's datagram budget.
inline constexpr std::size_t kDatagramBytesMax = 1400;

// Every datagram is sealed (lib/crypto/sealed_frame.h): a 29-byte header (version, key id,
// nonce) and a 16-byte MAC around the encoded message. So the encoded message itself must
// stay within kSealedPlaintextBytesMax for the sealed datagram to stay within
// kDatagramBytesMax. sealed_frame.h asserts that its layout adds exactly this much.
inline constexpr std::size_t kSealOverheadBytes = 45;
inline constexpr std::size_t kSealedPlaintextBytesMax = kDatagramBytesMax - kSealOverheadBytes;

// Envelopes to one peer share a datagram: its plaintext is one flat Cap'n Proto Batch
// (lib/wire/batch.h) of 1..kBatchMessagesMax encoded envelopes, each padded to whole 8-byte
// words. A batch of one adds 40 bytes to its envelope (segment table, root pointer, version
// word, list pointer, the envelope's pointer); lib/wire/batch.h asserts its layout matches.
inline constexpr std::size_t kBatchMessagesMax = 64;
inline constexpr std::size_t kBatchOfOneOverheadBytes = 40;

// The largest encoded envelope (wire::Encode refuses more): one of this size travels alone in
// a batch within kSealedPlaintextBytesMax. (1355 - 40) rounded down to whole words = 1312.
inline constexpr std::size_t kEnvelopeBytesMax =
    (kSealedPlaintextBytesMax - kBatchOfOneOverheadBytes) / 8 * 8;

// Keys one keyring holds (the primary and the extra keys accepted for opening). Rotation
// needs two at a time; the rest is room for a slow rollout or an aborted one.
inline constexpr std::size_t kKeyringKeysMax = 8;

// The text of one key in a configuration file (64 hex digits or 44 base64 characters, plus
// surrounding whitespace); longer text is refused before it is decoded.
inline constexpr std::size_t kKeyTextBytesMax = 128;

// Cap'n Proto reader limits: a lease message is a few hundred bytes; a full
// gossip datagram is at most a few hundred words (the codec refuses to encode
// more than this many words, so whatever it sends is readable).
inline constexpr uint64_t kWireTraversalWordsMax = 1024;
inline constexpr int kWireNestingMax = 8;

// ---------------------------------------------------------------------------
// Membership (lib/core/membership). The byte bounds are chosen so that one
// member of the largest allowed size still fits one datagram with any gossip
// message around it (lib/core/membership/wire_budget.cc asserts this).

// Members one node tracks, itself and dead or left ones included.
inline constexpr std::size_t kMembersMax = 4096;

// A member's name (its NodeId is the name's hash) and its advertised address.
inline constexpr std::size_t kMemberNameBytesMax = 64;
inline constexpr std::size_t kMemberAddressBytesMax = 64;

// User tags per member: count, key and value sizes, and all keys and values
// together.
inline constexpr std::size_t kMemberTagsMax = 16;
inline constexpr std::size_t kMemberTagKeyBytesMax = 32;
inline constexpr std::size_t kMemberTagValueBytesMax = 128;
inline constexpr std::size_t kMemberTagsBytesMax = 512;

// Member updates one gossip message carries (piggybacked or push-pull entries).
// The datagram budget usually binds first (~20 small updates).
inline constexpr std::size_t kGossipUpdatesPerMessageMax = 64;

// Incarnations above this are refused as malformed, so a refutation (which
// needs incarnation + 1) can never overflow.
inline constexpr uint64_t kIncarnationMax = uint64_t{1} << 62;

// Seed addresses one Join() call takes.
inline constexpr std::size_t kJoinSeedsMax = 16;

// Probes a node runs on behalf of others (ping-req) at once; more are dropped.
inline constexpr std::size_t kIndirectProbesMax = 128;

// Configuration bounds: indirect probers per failed probe, gossip fan-out,
// the Lifeguard awareness multiplier, and the multipliers of the timeouts.
inline constexpr int kIndirectChecksMax = 16;
inline constexpr int kGossipNodesMax = 16;
inline constexpr int kAwarenessMultiplierMax = 64;
inline constexpr int kSuspicionMultMax = 32;
inline constexpr int kRetransmitMultMax = 32;

// Gossip timing bounds accepted by any configuration.
inline constexpr int64_t kGossipPeriodUsMin = 1'000;                // 1 ms
inline constexpr int64_t kGossipPeriodUsMax = 600'000'000;          // 10 min
inline constexpr int64_t kPushPullIntervalUsMax = 86'400'000'000;   // 1 day
inline constexpr int64_t kDeadRetentionUsMax = 7 * 86'400'000'000;  // 1 week

}  // namespace lockmesh::core
