// File: lease/proposer.h
//
// The proposer half of the lease protocol (DESIGN.md rules 1, 2, 4, 5, 6, 7):
// turns acquire/renew/release requests into attempts with ballots, counts
// accepts from distinct voters, holds a lease until t0 + D_P on its own clock,
// releases partial accepts of failed attempts, and retries with full-jitter
// exponential backoff or on a voter's release notice.
//
// Requests for one resource on one node run one at a time, in arrival order;
// the others wait in a local queue without sending anything.
//
// Each request keeps one ticket across its retries, its first ballot (rule 10):
// voters queue waiters by it and name only the head when a lease ends; a request
// refused as held parks until named (its timer covers a lost notice) and, once
// named, retries at once.
//
// Not thread-safe; owned by one LeaseNode.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "lib/core/config.h"
#include "lib/core/hlc.h"
#include "lib/core/lease/events.h"
#include "lib/core/lease/release_queue.h"
#include "lib/core/limits.h"
#include "lib/core/random.h"

namespace lockmesh::core {

struct AcquireOptions {
  int64_t duration_us = 0;
  // How long the request may wait for the lease: (0, kWaitUsMax]. Ignored with
  // try_once.
  int64_t wait_us = 0;
  // One attempt, answered Aborted when another owner holds the lease. Explicit, not
  // wait_us == 0: a driver whose remaining wait rounds to zero must not turn a waiting
  // request into a try-acquire. A try of a resource whose last try here was refused as held
  // waits out a spacing first (Proposer::SpaceTries), so callers trying in a loop do not
  // flood the voters with tries that duel each other's partial accepts.
  bool try_once = false;
};

struct ProposerStats {
  uint64_t attempts = 0;
  uint64_t grants = 0;
  uint64_t failed_attempts = 0;
  uint64_t requests_failed = 0;
  uint64_t renewals = 0;
  uint64_t renewals_failed = 0;
  uint64_t releases = 0;
  uint64_t expiries = 0;
  uint64_t stale_accepts_released = 0;
  uint64_t orphans_released = 0;      // own accepts named by a voter's refusal, unknown here
  uint64_t releases_resent = 0;       // releases of partial accepts sent again, unconfirmed
  uint64_t releases_unconfirmed = 0;  // given up on (or past kPendingReleasesMax)
  uint64_t replies_ignored = 0;
  uint64_t attempts_ended_early = 0;  // a majority impossible before every voter answered
  uint64_t probes = 0;  // release probes sent instead of acquires to voters not heard lately
  // Attempts that ran the longest an attempt may (LeaseConfig::attempt_timeout_us, or D_P)
  // with voters still silent: a round trip that does not fit an attempt, or voters down.
  // Shorter attempts that end so back the resend interval off instead (RFC 6298, 5.5).
  uint64_t attempts_too_slow = 0;
  uint64_t release_grants = 0;   // grants on a parked ballot accepted at release
  uint64_t attempts_parked = 0;  // failed attempts refused as held: queued at the voters
  uint64_t reparks = 0;          // parked ballots outbid, sent again higher
  uint64_t tries_spaced = 0;     // tries held back after this node's last try was refused
  int64_t round_trip_us = 0;     // smoothed round trip to the remote voters; 0: none yet
};

// A lease the node believes it holds.
struct Holding {
  uint64_t request = 0;
  std::string resource;
  Ballot token = 0;
  int64_t deadline_us = 0;
};

class Proposer {
 public:
  Proposer(const LeaseConfig& config, uint64_t incarnation, Hlc& hlc, Rng& rng);

  // Starts a request; returns its id. InvalidArgument for a bad name or
  // duration, ResourceExhausted when kRequestsMax requests are open.
  absl::StatusOr<uint64_t> Acquire(std::string resource, AcquireOptions options, Now now,
                                   Outbox& out);
  // Starts a renewal of a held lease for `duration_us` (0: the acquired one).
  // FailedPrecondition when the request does not hold a live lease.
  absl::Status Renew(uint64_t request, int64_t duration_us, Now now, Outbox& out);
  // Releases a held lease, or cancels a request still waiting (kFailed with
  // Cancelled). NotFound for an unknown request.
  absl::Status Release(uint64_t request, Now now, Outbox& out);

  void OnAcquireReply(NodeId from, const AcquireReplyMsg& msg, Now now, Outbox& out);
  void OnRenewReply(NodeId from, const RenewReplyMsg& msg, Now now, Outbox& out);
  void OnReleaseNotice(NodeId from, const ReleaseNoticeMsg& msg, Now now, Outbox& out);
  void OnTick(Now now, Outbox& out);
  int64_t NextTickUs() const;

  // Membership's view, as a hint only: an attempt first asks the voters that
  // look alive (when they are a majority) and the rest on its first resend.
  // Safety never depends on it.
  void SetLivenessHint(std::function<bool(NodeId)> looks_alive) {
    looks_alive_ = std::move(looks_alive);
  }

  // Leases held at `now` (deadline not passed).
  std::vector<Holding> Holdings(Now now) const;
  bool IsHolding(uint64_t request, Now now) const;
  // Requests not yet granted, and leases held (their deadline may have passed unreported).
  std::size_t open_requests() const { return requests_.size() - held_; }
  std::size_t held_leases() const { return held_; }
  const ProposerStats& stats() const { return stats_; }

 private:
  enum class State : uint8_t { kQueued, kAttempting, kWaiting, kHolding };
  static constexpr int64_t kNever = std::numeric_limits<int64_t>::max();

  struct Request {
    uint64_t id = 0;
    std::string resource;
    int64_t duration_us = 0;
    int64_t wait_deadline_us = 0;
    bool try_once = false;
    State state = State::kQueued;
    // In quiet_holds_ under this deadline (kNever: in busy_).
    int64_t quiet_until_us = kNever;
    int attempts = 0;
    int failures = 0;    // consecutive failed attempts, for the backoff
    Ballot ticket = 0;   // the first attempt's ballot (rule 10); 0 before it
    bool named = false;  // a release notice came during the current attempt
    // kWaiting after held refusals: the voters may accept `ballot` when the lease ends
    // (rule 10, grant at release); `parked_accepted` are those that did. Voters sent a
    // release of `ballot` (`parked_released`) never count: an accept of theirs may be
    // older than the release that cleared it.
    bool parked = false;
    uint32_t parked_accepted = 0;
    uint32_t parked_released = 0;
    uint32_t parked_unknown = 0;  // had not answered when it parked: may accept it yet
    // Refusals of `ballot` by voters that already accepted a higher one: those can never
    // accept it at release.
    uint32_t outbid = 0;
    Ballot outbid_by = 0;       // the highest ballot those refusals named
    bool reparked = false;      // re-sent once for a ballot voters can still accept
    bool parked_again = false;  // the next attempt re-parks: ballot just above `outbid_by`
    // The current attempt (kAttempting) or the last one.
    Ballot ballot = 0;
    int64_t t0_us = 0;
    int64_t attempt_deadline_us = 0;
    int64_t retransmit_at_us = kNever;
    bool resent = false;    // the acquire went out again: replies no longer time one trip
    int resends = 0;        // of this attempt's acquires, or of this renewal
    uint32_t asked = 0;     // bit i: voters[i] was sent `ballot`
    uint32_t accepted = 0;  // bit i: voters[i] accepted `ballot`
    uint32_t refused = 0;
    uint32_t held_refusals = 0;
    uint32_t quarantine_refusals = 0;
    uint32_t stale_refusals = 0;
    int64_t holder_remaining_us = 0;
    // kWaiting: when to try again.
    int64_t retry_at_us = kNever;
    // kHolding.
    int64_t deadline_us = 0;
    bool renewing = false;
    uint32_t round = 0;
    int64_t t1_us = 0;
    int64_t renew_duration_us = 0;
    int64_t renew_deadline_us = kNever;
    uint32_t renewed = 0;
    uint32_t renew_refused = 0;
  };

  Owner OwnerOf(const Request& r) const { return Owner{config_.self, incarnation_, r.id}; }
  Request* FindForReply(const Owner& owner);
  // `probe_first`: the remote voters get a probe, and the acquire once they answer it.
  void StartAttempt(Request& r, Now now, Outbox& out, bool probe_first = false);
  // Sends `ballot` to the voters in `to_mask` (a probe to those Unheard) and adds those that
  // got the acquire to `asked`.
  void SendAcquire(Request& r, uint32_t to_mask, Now now, Outbox& out, bool probe_all = false);
  uint32_t SelfMask() const;  // our own voter's bit, 0 when we are not a voter
  // A voter answered a probe sent instead of the current attempt's acquire: sends it.
  void OnProbeAnswer(int voter_index, const AcquireReplyMsg& msg, Now now, Outbox& out);
  // Remote voters with an acquire or probe unanswered for a resend interval: their answers do
  // not reach us (a voter down or cut off, or our own inbound cut).
  // With `intervals`: unanswered for that many resend intervals.
  uint32_t Unheard(Now now, int intervals = 1) const;
  // Any answer from voters[index] shows the way back from it works.
  void Heard(int index) { unanswered_since_us_[index] = kNever; }
  void SendRenew(const Request& r, uint32_t to_mask, Outbox& out);
  void SendRelease(const ReleaseMsg& msg, uint32_t mask, Outbox& out);
  // Ends a lease we held (released or expired): once to every voter, and until confirmed to
  // those on lossy links (kLossyLinkMemoryUs).
  void ReleaseHeld(const Request& r, Now now, Outbox& out);
  // Something had to be resent to the voters in `mask`.
  void MarkLossy(uint32_t mask, Now now);
  // Voters on links that lost something lately (kLossyLinkMemoryUs), never our own.
  uint32_t Lossy(Now now) const;
  // The voters a parked request asks again for its ballot (PolledWhileParked in the .cc).
  uint32_t PolledWhileParked(const Request& r, Now now) const;
  // Rule 5, made sure: releases (resource, ballot, owner) at the voters in `now_mask` at
  // once and at those in `later_mask` (silent so far: their answer may still come) after one
  // resend interval, and resends until each confirms, or until a lease of `duration_us`
  // accepted now would have expired.
  void ReleaseUntilConfirmed(const std::string& resource, Ballot ballot, const Owner& owner,
                             uint32_t now_mask, uint32_t later_mask, int64_t duration_us,
                             bool still_waiting, Now now, Outbox& out);
  // A voter refused `msg.ballot`, or answered such a release (a kNoLease refusal): it holds
  // nothing of that ballot.
  void OnReleaseConfirmed(int voter_index, const AcquireReplyMsg& msg);
  // A voter refused us because of a live accept of this node, incarnation and a ballot no
  // request here holds: an accept whose reply was lost. Clears it.
  void ReleaseUnknownAccept(int voter_index, const AcquireReplyMsg& msg, Now now, Outbox& out);
  void TickPendingReleases(Now now, Outbox& out);
  // A majority may still accept the parked ballot of `r` at release: the voters neither sent
  // a release of it nor outbid it.
  bool ParkedBallotCanWin(const Request& r) const;
  // A voter accepted the parked ballot of `r` as a lease ended.
  void OnParkedAccept(Request& r, int voter_index, Now now, Outbox& out);
  // The parked ballot is given up (a new attempt, or the request ends): frees what voters
  // accepted of it. `still_waiting`: the request goes on (the voters keep it in line).
  void Unpark(Request& r, bool still_waiting, Now now, Outbox& out);
  void FailAttempt(Request& r, Now now, Outbox& out);
  void Grant(Request& r, Now now, Outbox& out);
  void FinishRenew(Request& r, bool ok, Outbox& out);
  // Ends the request with `event` and starts the next queued one.
  void Finish(uint64_t id, LeaseEvent event, Now now, Outbox& out);
  void FailRequest(Request& r, absl::Status status, Now now, Outbox& out);
  absl::Status WhyFailed(const Request& r) const;
  uint32_t AllVoters() const;
  uint32_t FirstAsked() const;
  // Remote voters that membership says are down, when the others still make a majority
  // (else the hint is not trusted); 0 without a hint.
  uint32_t LooksDown() const;
  // No majority can accept the attempt any more: too many refused, or did not answer and
  // look down. A hint only ends an attempt early; it never grants.
  bool MajorityImpossible(const Request& r, Now now) const;
  // The resend interval: a few measured round trips, within [kRetransmitUsMin,
  // LeaseConfig::retransmit_us].
  // `resends`: how many times it went out again already; each doubles the interval (a dead
  // voter costs a few messages, not one per round trip).
  int64_t RetransmitUs(int resends = 0) const;
  void ObserveRoundTrip(int64_t sample_us);
  // How long an attempt may last by the measured round trip (kAttemptRetransmitIntervals).
  int64_t AttemptUs() const;
  void TickRequest(Request& r, Now now, Outbox& out);

  const LeaseConfig& config_;
  const uint64_t incarnation_;
  Hlc& hlc_;
  Rng& rng_;
  uint64_t next_request_ = 1;
  absl::btree_map<uint64_t, Request> requests_;
  // The requests' wake-ups, indexed so that an input costs nothing per lease merely held (a
  // job scheduler may hold 100,000): a holder that is not renewing needs a tick only at its
  // deadline, kept in `quiet_holds_` by (deadline, id); every other request is in `busy_`
  // and is looked at on each tick, as all were before. Quiet() and Busy() move a request.
  absl::btree_set<std::pair<int64_t, uint64_t>> quiet_holds_;
  absl::btree_set<uint64_t> busy_;
  void Quiet(Request& r);
  void Busy(Request& r);
  // Takes `r` out of whichever of the two holds it.
  void Unindex(const Request& r);
  std::size_t held_ = 0;                                       // of requests_, those in kHolding
  absl::btree_map<std::string, std::deque<uint64_t>> queues_;  // front is active
  // Resources whose last try (try_once) here was refused as held: the next try waits until
  // `not_before_us`. A grant of the resource here forgets it; at most kTrySpacedResourcesMax.
  struct TrySpacing {
    int64_t not_before_us = 0;
    int refusals = 0;  // in a row, for the doubling
  };
  absl::btree_map<std::string, TrySpacing> try_spacing_;
  // Records a try of `resource` refused as held; the next waits a jittered, doubling spacing.
  void SpaceTries(const std::string& resource, Now now);
  ReleaseQueue pending_releases_{kPendingReleasesMax};
  std::function<bool(NodeId)> looks_alive_;
  // By voter index: when the oldest acquire it has not answered since its last answer left
  // (kNever: none). Voters unheard past a resend interval get probes, not acquires, while the
  // voters heard are not a majority.
  std::vector<int64_t> unanswered_since_us_;
  // By voter index: until when its link counts as lossy (MarkLossy).
  std::vector<int64_t> lossy_until_us_;
  int64_t rtt_var_us_ = 0;  // mean deviation of the round trip (RFC 6298)
  int rto_backoff_ = 0;     // doublings of the resend interval since the last valid sample
  ProposerStats stats_;
};

}  // namespace lockmesh::core
