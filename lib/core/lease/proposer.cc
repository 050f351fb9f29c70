#include "lib/core/lease/proposer.h"

#include <algorithm>
#include <bit>

#include "absl/strings/str_cat.h"
#include "lib/core/check.h"
#include "lib/core/limits.h"

namespace lockmesh::core {
namespace {

// A try-acquire may retry this many times when voters only said its ballot was
// stale (its HLC caught up from the refusal, so the next attempt can win).
constexpr int kTryAttemptsMax = 3;

// How many times attempts that ended with voters silent may double the resend interval
// (and with it the attempt) beyond the measured round trip; the configured ceilings bound
// both anyway.
constexpr int kRtoBackoffMax = 10;

int Count(uint32_t mask) { return std::popcount(mask); }

}  // namespace

Proposer::Proposer(const LeaseConfig& config, uint64_t incarnation, Hlc& hlc, Rng& rng)
    : config_(config),
      incarnation_(incarnation),
      hlc_(hlc),
      rng_(rng),
      unanswered_since_us_(config.voters.size(), kNever),
      lossy_until_us_(config.voters.size(), 0) {
  LM_CHECK(config_.voters.size() <= 32);
}

uint32_t Proposer::AllVoters() const {
  return static_cast<uint32_t>((uint64_t{1} << config_.voters.size()) - 1);
}

uint32_t Proposer::SelfMask() const {
  const int index = config_.VoterIndex(config_.self);
  return index < 0 ? 0 : 1u << index;
}

uint32_t Proposer::FirstAsked() const {
  if (!looks_alive_) return AllVoters();
  uint32_t mask = 0;
  for (std::size_t i = 0; i < config_.voters.size(); ++i) {
    const NodeId v = config_.voters[i];
    if (v == config_.self || looks_alive_(v)) mask |= 1u << i;
  }
  return Count(mask) >= config_.Majority() ? mask : AllVoters();
}

uint32_t Proposer::LooksDown() const {
  if (!looks_alive_) return 0;
  uint32_t down = 0;
  for (std::size_t i = 0; i < config_.voters.size(); ++i) {
    const NodeId v = config_.voters[i];
    if (v != config_.self && !looks_alive_(v)) down |= 1u << i;
  }
  return Count(AllVoters() & ~down) >= config_.Majority() ? down : 0;
}

uint32_t Proposer::Unheard(Now now, int intervals) const {
  const int64_t after_us = intervals * RetransmitUs();
  uint32_t unheard = 0;
  for (std::size_t i = 0; i < config_.voters.size(); ++i) {
    const int64_t since = unanswered_since_us_[i];
    if (config_.voters[i] != config_.self && since != kNever && now.mono_us - since >= after_us) {
      unheard |= 1u << i;
    }
  }
  return unheard;
}

bool Proposer::MajorityImpossible(const Request& r, Now now) const {
  const uint32_t answered = r.accepted | r.refused;
  const uint32_t silent_and_down = LooksDown() & ~answered;
  if (Count(AllVoters() & ~r.refused & ~silent_and_down) < config_.Majority()) return true;
  // Our own measure, which gossip cannot give for a voter that sends but does not hear: a
  // voter that left an acquire unanswered for a resend interval is not counted on (when the
  // others still make a majority). It only ends an attempt early; an answer that comes later
  // makes it count again.
  // Used only when the voters it leaves, together with those membership calls down, are a
  // majority: two hints at once must not end attempts that asking the voters would win.
  const uint32_t silent = Unheard(now) & ~answered;
  if (Count(AllVoters() & ~silent & ~LooksDown()) < config_.Majority()) return false;
  return Count(AllVoters() & ~r.refused & ~silent_and_down & ~silent) < config_.Majority();
}

int64_t Proposer::RetransmitUs(int resends) const {
  if (stats_.round_trip_us == 0) return config_.retransmit_us;
  // Twice the mean, not RFC 6298's once: a round trip that varies within a few times its
  // mean (a busy host, a uniform delay) must not be resent spuriously.
  const int64_t rto = std::max(2 * stats_.round_trip_us + 4 * rtt_var_us_, kRetransmitUsMin);
  return std::min(rto << std::min(resends + rto_backoff_, 20), config_.retransmit_us);
}

int64_t Proposer::AttemptUs() const {
  if (stats_.round_trip_us == 0) return config_.attempt_timeout_us;
  return std::max(kAttemptUsMin, kAttemptRetransmitIntervals * RetransmitUs());
}

void Proposer::ObserveRoundTrip(int64_t sample_us) {
  rto_backoff_ = 0;
  sample_us = std::clamp<int64_t>(sample_us, 0, config_.retransmit_us);
  if (stats_.round_trip_us == 0) {
    stats_.round_trip_us = std::max<int64_t>(sample_us, 1);
    rtt_var_us_ = sample_us / 2;
    return;
  }
  const int64_t err = sample_us - stats_.round_trip_us;
  rtt_var_us_ += ((err < 0 ? -err : err) - rtt_var_us_) / 4;
  stats_.round_trip_us = std::max<int64_t>(stats_.round_trip_us + err / 8, 1);
}

absl::StatusOr<uint64_t> Proposer::Acquire(std::string resource, AcquireOptions options, Now now,
                                           Outbox& out) {
  if (resource.empty() || resource.size() > kResourceBytesMax) {
    return absl::InvalidArgumentError(
        absl::StrCat("resource name must be 1 to ", kResourceBytesMax, " bytes"));
  }
  if (options.duration_us < config_.lease_duration_us_min ||
      options.duration_us > config_.lease_duration_us_max) {
    return absl::InvalidArgumentError(
        absl::StrCat("lease duration must be in [", config_.lease_duration_us_min, ", ",
                     config_.lease_duration_us_max, "] us, got ", options.duration_us));
  }
  if (!options.try_once && (options.wait_us <= 0 || options.wait_us > kWaitUsMax)) {
    return absl::InvalidArgumentError(
        absl::StrCat("wait must be in (0, ", kWaitUsMax, "] us unless try_once"));
  }
  if (options.try_once) {
    auto q = queues_.find(resource);
    if (q != queues_.end() && !q->second.empty()) {
      // Another request of this node holds or wants it: a try-acquire must not
      // wait behind it.
      return absl::AbortedError(absl::StrCat(
          "contended: '", resource, "' is held or asked for by another request on this node"));
    }
  }
  if (requests_.size() - held_ >= kRequestsMax) {
    return absl::ResourceExhaustedError(
        absl::StrCat("too many open lease requests (", kRequestsMax, ")"));
  }
  if (requests_.size() >= kHeldLeasesMax) {
    return absl::ResourceExhaustedError(
        absl::StrCat("too many leases held or asked for (", kHeldLeasesMax, ")"));
  }
  const uint64_t id = next_request_++;
  Request& r = requests_[id];
  r.id = id;
  busy_.insert(id);
  r.resource = std::move(resource);
  r.duration_us = options.duration_us;
  r.try_once = options.try_once;
  r.wait_deadline_us = r.try_once ? kNever : now.mono_us + options.wait_us;
  std::deque<uint64_t>& queue = queues_[r.resource];
  queue.push_back(id);
  if (queue.size() != 1) return id;
  auto spaced = r.try_once ? try_spacing_.find(r.resource) : try_spacing_.end();
  if (spaced != try_spacing_.end() && now.mono_us < spaced->second.not_before_us) {
    // This node's last try of it was refused as held moments ago: ask when the spacing ends
    // (TickRequest starts the attempt), not now.
    r.state = State::kWaiting;
    r.retry_at_us = spaced->second.not_before_us;
    ++stats_.tries_spaced;
    return id;
  }
  StartAttempt(r, now, out);
  return id;
}

void Proposer::StartAttempt(Request& r, Now now, Outbox& out, bool probe_first) {
  // Sent before the new acquire, so a voter that accepted the parked ballot ends that lease
  // (keeping us in line) before it weighs the new one.
  Unpark(r, /*still_waiting=*/true, now, out);
  // Rule 1: t0 is read before the first message of the attempt leaves.
  r.t0_us = now.mono_us;
  r.ballot = hlc_.Tick(now.wall_ms);
  if (r.parked_again) {
    // Re-parking after being outbid: just above the ballot that outbid us, not at the clock,
    // so it stays below the ballots parked by the waiters behind us (who came later) and the
    // handoffs after ours can go at release too. Rule 3 still decides at each voter.
    r.ballot = std::min(r.ballot, r.outbid_by + 1);
    r.parked_again = false;
  }
  if (r.ticket == 0) r.ticket = r.ballot;
  r.named = false;
  r.state = State::kAttempting;
  r.attempt_deadline_us =
      r.t0_us +
      std::min({config_.attempt_timeout_us, config_.HolderDurationUs(r.duration_us), AttemptUs()});
  r.retransmit_at_us = now.mono_us + RetransmitUs();
  r.resent = false;
  r.resends = 0;
  r.asked = r.accepted = r.refused = r.held_refusals = r.quarantine_refusals = r.stale_refusals = 0;
  r.outbid = 0;
  r.outbid_by = 0;
  r.holder_remaining_us = 0;
  r.retry_at_us = kNever;
  ++r.attempts;
  ++stats_.attempts;
  SendAcquire(r, FirstAsked(), now, out, probe_first);
}

void Proposer::SendAcquire(Request& r, uint32_t to_mask, Now now, Outbox& out, bool probe_all) {
  const uint64_t id = r.id;
  const std::string resource = r.resource;
  // A try-acquire will not wait for its turn: it does not queue (ticket 0).
  AcquireMsg msg{resource, r.ballot, OwnerOf(r), r.duration_us, r.try_once ? 0 : r.ticket};
  // A voter that left an acquire unanswered for a resend interval gets a probe, not the
  // acquire, when we hear no majority: if it hears us but we do not hear it (our inbound cut),
  // an accept there would keep the resource from everyone until our release. Its answer to
  // the probe shows the way back works; the acquire follows at once (OnProbeAnswer).
  // Only while the voters heard lately are not a majority: a voter whose answer was lost on
  // a lossy link (the others answering) still gets the acquire, or every loss would cost a
  // round trip.
  const uint32_t unheard = Unheard(now);
  uint32_t probed = Count(AllVoters() & ~unheard) < config_.Majority() ? to_mask & unheard : 0;
  if (probe_all) probed = to_mask & ~SelfMask();
  r.asked |= to_mask & ~probed;  // before sending: our own voter answers in-process
  const ReleaseMsg probe{resource, kProbeBallot, OwnerOf(r), /*ack_wanted=*/true};
  for (std::size_t i = 0; i < config_.voters.size(); ++i) {
    if (!(to_mask & (1u << i))) continue;
    int64_t& since = unanswered_since_us_[i];
    msg.hears = true;  // every acquire that leaves goes to a voter heard lately
    if (since == kNever) since = now.mono_us;
    // A reply from our own voter may finish the request; stop if it did.
    auto it = requests_.find(id);
    if (it == requests_.end() || it->second.ballot != msg.ballot ||
        !(it->second.state == State::kAttempting || it->second.parked)) {
      return;
    }
    if (probed & (1u << i)) {
      ++stats_.probes;
      out.Send(config_.voters[i], probe);
    } else {
      out.Send(config_.voters[i], msg);
    }
  }
}

void Proposer::OnProbeAnswer(int voter_index, const AcquireReplyMsg& msg, Now now, Outbox& out) {
  Request* r = FindForReply(msg.owner);
  const uint32_t bit = 1u << voter_index;
  if (r == nullptr || r->state != State::kAttempting || ((r->accepted | r->refused) & bit)) return;
  r->resent = true;                // Karn: its answer would time the probe's trip as well
  SendAcquire(*r, bit, now, out);  // Heard() ran: it goes as an acquire
}

void Proposer::SendRenew(const Request& r, uint32_t to_mask, Outbox& out) {
  const uint64_t id = r.id;
  const RenewMsg msg{r.resource, r.ballot, OwnerOf(r), r.renew_duration_us, r.round};
  for (std::size_t i = 0; i < config_.voters.size(); ++i) {
    if (!(to_mask & (1u << i))) continue;
    auto it = requests_.find(id);
    if (it == requests_.end() || !it->second.renewing || it->second.round != msg.round) return;
    out.Send(config_.voters[i], msg);
  }
}

void Proposer::SendRelease(const ReleaseMsg& msg, uint32_t mask, Outbox& out) {
  for (std::size_t i = 0; i < config_.voters.size(); ++i) {
    if (mask & (1u << i)) out.Send(config_.voters[i], msg);
  }
}

void Proposer::ReleaseUntilConfirmed(const std::string& resource, Ballot ballot, const Owner& owner,
                                     uint32_t now_mask, uint32_t later_mask, int64_t duration_us,
                                     bool still_waiting, Now now, Outbox& out) {
  if ((now_mask | later_mask) == 0) return;
  if (!pending_releases_.Add({resource, ballot}, owner, now_mask | later_mask,
                             now.mono_us + RetransmitUs(), now.mono_us + duration_us,
                             still_waiting)) {
    ++stats_.releases_unconfirmed;
    return SendRelease(ReleaseMsg{resource, ballot, owner}, now_mask | later_mask, out);
  }
  SendRelease(ReleaseMsg{resource, ballot, owner, /*ack_wanted=*/true, still_waiting}, now_mask,
              out);
}

void Proposer::OnReleaseConfirmed(int voter_index, const AcquireReplyMsg& msg) {
  pending_releases_.Confirm({msg.resource, msg.ballot}, msg.owner, voter_index);
}

void Proposer::ReleaseUnknownAccept(int voter_index, const AcquireReplyMsg& msg, Now now,
                                    Outbox& out) {
  const Owner& h = msg.holder;
  if (h.node != config_.self || h.incarnation != incarnation_ || msg.holder_ballot == 0) return;
  auto it = requests_.find(h.request);
  if (it != requests_.end() && it->second.ballot == msg.holder_ballot &&
      (it->second.state == State::kHolding || it->second.state == State::kAttempting ||
       it->second.parked)) {
    return;  // ours and known: a lease held, an attempt still counting, or granted at release
  }
  ++stats_.orphans_released;
  ReleaseUntilConfirmed(msg.resource, msg.holder_ballot, h, 1u << voter_index, 0,
                        config_.lease_duration_us_max, false, now, out);
}

void Proposer::TickPendingReleases(Now now, Outbox& out) {
  // Any accept a release given up on was meant to clear has expired at its voter by now.
  stats_.releases_unconfirmed += pending_releases_.Tick(
      now.mono_us, [&](const ReleaseQueue::Key& key, ReleaseQueue::Release& p) {
        ++stats_.releases_resent;
        MarkLossy(p.voters, now);
        SendRelease(
            ReleaseMsg{key.first, key.second, p.owner, /*ack_wanted=*/true, p.still_waiting},
            p.voters, out);
        return now.mono_us + RetransmitUs(++p.resends);
      });
}

Proposer::Request* Proposer::FindForReply(const Owner& owner) {
  if (owner.node != config_.self || owner.incarnation != incarnation_) return nullptr;
  auto it = requests_.find(owner.request);
  return it == requests_.end() ? nullptr : &it->second;
}

void Proposer::OnAcquireReply(NodeId from, const AcquireReplyMsg& msg, Now now, Outbox& out) {
  hlc_.Observe(msg.highest_ballot, now.wall_ms);
  const int index = config_.VoterIndex(from);
  if (index >= 0) Heard(index);
  if (index >= 0 && !msg.accepted) {
    OnReleaseConfirmed(index, msg);
    // Only an answer to a release: an acquire is never refused for this reason.
    if (msg.reason == RefuseReason::kNoLease) {
      if (msg.ballot == kProbeBallot) OnProbeAnswer(index, msg, now, out);
      return;
    }
  }
  if (index >= 0 && !msg.accepted && msg.reason == RefuseReason::kHeld) {
    ReleaseUnknownAccept(index, msg, now, out);
  }
  Request* r = FindForReply(msg.owner);
  if (index < 0 || (r == nullptr && !msg.accepted)) {
    ++stats_.replies_ignored;
    return;
  }
  if (r != nullptr && r->parked && r->ballot == msg.ballot) {
    if (msg.accepted) return OnParkedAccept(*r, index, now, out);
    r->parked_unknown &= ~(1u << index);  // it holds nothing of this ballot
    if (PolledWhileParked(*r, now) == 0) r->retransmit_at_us = kNever;  // none left to ask
    if (msg.reason == RefuseReason::kHeld && msg.highest_ballot >= r->ballot) {
      // A voter accepted a higher ballot than the one parked there (that holder was not
      // granted at release): park a higher one unless a majority could still accept ours.
      r->outbid |= 1u << index;
      r->outbid_by = std::max(r->outbid_by, msg.highest_ballot);
      if (!ParkedBallotCanWin(*r)) {
        ++stats_.reparks;
        r->parked_again = true;
        return StartAttempt(*r, now, out);
      }
    }
    return;
  }
  const bool current = r != nullptr && r->ballot == msg.ballot &&
                       (r->state == State::kAttempting || r->state == State::kHolding);
  if (!current) {
    // An accept of an attempt we gave up on: free it now rather than letting it
    // block others until it expires.
    if (msg.accepted && msg.owner.node == config_.self && msg.owner.incarnation == incarnation_) {
      ++stats_.stale_accepts_released;
      // A request still open keeps its place in that voter's line.
      ReleaseUntilConfirmed(msg.resource, msg.ballot, msg.owner, 1u << index, 0,
                            config_.lease_duration_us_max, r != nullptr && !r->try_once, now, out);
    } else {
      ++stats_.replies_ignored;
    }
    return;
  }
  if (r->state == State::kHolding) return;  // a late accept of the granted ballot
  const uint32_t bit = 1u << index;
  if (msg.accepted && (r->refused & bit) && !(r->accepted & bit)) {
    // Refused while the lease was held, then accepted as it ended (rule 10, grant at
    // release): the accept is the voter's last word.
    r->refused &= ~bit;
    r->held_refusals &= ~bit;
    r->stale_refusals &= ~bit;
    r->quarantine_refusals &= ~bit;
    r->outbid &= ~bit;
  }
  if ((r->accepted | r->refused) & bit) return;  // duplicate
  // Karn: only a reply to an acquire sent once times the trip. Our own voter answers
  // in-process and says nothing about the network.
  if (!r->resent && from != config_.self) ObserveRoundTrip(now.mono_us - r->t0_us);
  if (msg.accepted) {
    r->accepted |= bit;
    // Rule 4: a majority of distinct voters, before the attempt's deadline.
    if (Count(r->accepted) >= config_.Majority() && now.mono_us < r->attempt_deadline_us) {
      Grant(*r, now, out);
    }
    return;
  }
  r->refused |= bit;
  if (msg.highest_ballot >= r->ballot) {
    r->outbid |= bit;
    r->outbid_by = std::max(r->outbid_by, msg.highest_ballot);
  }
  if (msg.reason == RefuseReason::kHeld) {
    r->held_refusals |= bit;
    // A peer's number: clamp it, so a bad one can neither overflow a deadline nor
    // park the request beyond any lease a voter may grant.
    r->holder_remaining_us =
        std::max(r->holder_remaining_us,
                 std::clamp<int64_t>(msg.holder_remaining_us, 0, config_.lease_duration_us_max));
  } else if (msg.reason == RefuseReason::kQuarantine) {
    r->quarantine_refusals |= bit;
  } else if (msg.reason == RefuseReason::kStaleBallot) {
    r->stale_refusals |= bit;
  }
  if (MajorityImpossible(*r, now)) {
    if ((r->accepted | r->refused) != AllVoters()) ++stats_.attempts_ended_early;
    FailAttempt(*r, now, out);
  }
}

uint32_t Proposer::PolledWhileParked(const Request& r, Now now) const {
  // An accept at release (or of the attempt itself, its answer lost) reaches the parked
  // request in one message; on a lossy link that message is lost one time in a few, and
  // the voter then holds the resource for a request that never counts it, keeping it from
  // everyone for a whole lease. So the parked ballot is asked again of the voters that did
  // not answer when the attempt ended and of those on lossy links; a voter that holds it
  // answers the duplicate with its accept. Clean links are not polled: nothing is lost there.
  return (r.parked_unknown | Lossy(now)) & ~r.parked_accepted & ~r.parked_released & ~SelfMask();
}

bool Proposer::ParkedBallotCanWin(const Request& r) const {
  return Count(AllVoters() & ~r.parked_released & ~r.outbid) >= config_.Majority();
}

void Proposer::OnParkedAccept(Request& r, int voter_index, Now now, Outbox& out) {
  const uint32_t bit = 1u << voter_index;
  if (r.parked_released & bit) {
    // A release of this ballot went to that voter: its accept cannot be counted.
    ++stats_.stale_accepts_released;
    return ReleaseUntilConfirmed(r.resource, r.ballot, OwnerOf(r), bit, 0, r.duration_us,
                                 !r.try_once, now, out);
  }
  r.parked_accepted |= bit;
  r.parked_unknown &= ~bit;
  if (PolledWhileParked(r, now) == 0) r.retransmit_at_us = kNever;
  if (Count(r.parked_accepted) < config_.Majority()) {
    // The other voters saw the same release and should follow within a round trip. If they
    // do not (they named someone else), holding a minority would only split the vote: ask
    // again then, with a new ballot (Unpark frees these).
    r.retry_at_us = std::min(r.retry_at_us, now.mono_us + RetransmitUs());
    return;
  }
  // Rule 4: the lease runs from t0, read before this ballot first left; it must still be in
  // the future.
  if (now.mono_us >= r.t0_us + config_.HolderDurationUs(r.duration_us)) {
    return StartAttempt(r, now, out);  // Unpark frees the accepts
  }
  r.parked = false;
  r.accepted = r.parked_accepted;
  r.parked_accepted = 0;
  ++stats_.release_grants;
  Grant(r, now, out);
}

void Proposer::Unpark(Request& r, bool still_waiting, Now now, Outbox& out) {
  if (!r.parked) return;
  r.parked = false;
  ReleaseUntilConfirmed(r.resource, r.ballot, OwnerOf(r), r.parked_accepted, r.parked_unknown,
                        r.duration_us, still_waiting, now, out);
  r.parked_accepted = r.parked_unknown = 0;
}

void Proposer::Grant(Request& r, Now now, Outbox& out) {
  if (r.state != State::kHolding) ++held_;
  r.state = State::kHolding;
  r.deadline_us = r.t0_us + config_.HolderDurationUs(r.duration_us);
  LM_CHECK(r.deadline_us > now.mono_us);
  if (!r.renewing) Quiet(r);
  r.failures = 0;
  r.retransmit_at_us = kNever;
  try_spacing_.erase(r.resource);
  ++stats_.grants;
  out.Emit(LeaseEvent{LeaseEvent::Kind::kGranted, r.id, r.resource, r.ballot, r.deadline_us, {}});
}

absl::Status Proposer::WhyFailed(const Request& r) const {
  if (r.held_refusals != 0) {
    return absl::AbortedError(
        absl::StrCat("contended: '", r.resource, "' is held by another owner"));
  }
  if (r.quarantine_refusals != 0) {
    return absl::UnavailableError("no quorum: voters are in restart quarantine");
  }
  if (r.attempts == 0) return absl::DeadlineExceededError("waited in the local queue");
  return absl::UnavailableError("no quorum: a majority of voters did not accept");
}

void Proposer::FailAttempt(Request& r, Now now, Outbox& out) {
  ++stats_.failed_attempts;
  ++r.failures;
  r.state = State::kWaiting;
  r.retransmit_at_us = kNever;
  const uint32_t silent = r.asked & ~(r.accepted | r.refused);
  // Held elsewhere: the voters queued this ballot and may accept it when the lease ends.
  r.parked = !r.try_once && !r.named && r.held_refusals != 0;
  r.parked_accepted = 0;
  r.parked_released = r.accepted;
  r.parked_unknown = r.parked ? silent : 0;
  // Rule 5: free the partial accepts at once, until the voters confirm. A voter that did not
  // answer may have accepted (its reply lost): released too, unless its answer comes soon;
  // for a parked ballot it is left to answer (an accept counts, Unpark frees it otherwise).
  ReleaseUntilConfirmed(r.resource, r.ballot, OwnerOf(r), r.accepted, r.parked ? 0 : silent,
                        r.duration_us, !r.try_once, now, out);
  if (r.parked) {
    ++stats_.attempts_parked;
    r.resends = 0;
    r.retransmit_at_us = PolledWhileParked(r, now) != 0 ? now.mono_us + RetransmitUs() : kNever;
    // Outbid (a later ballot holds it now): no majority could ever accept this one at release,
    // so ask again, once, with a ballot above what the refusals showed (the HLC saw it).
    if (!ParkedBallotCanWin(r) && !r.reparked) {
      r.reparked = true;
      r.parked_again = true;
      ++stats_.reparks;
      r.retry_at_us = now.mono_us;
      return;
    }
  }
  // Stale refusals alone ruled out a majority (voters yet to answer do not
  // matter): the HLC caught up from them, so a new ballot can win at once.
  const bool only_stale =
      r.refused != 0 && r.refused == r.stale_refusals && MajorityImpossible(r, now);
  if (r.try_once) {
    if (only_stale && r.attempts < kTryAttemptsMax) return StartAttempt(r, now, out);
    return FailRequest(r, WhyFailed(r), now, out);
  }
  int64_t delay_us;
  if (r.named) {
    // A voter named us while this attempt ran (its refusal may predate the release).
    delay_us = 0;
  } else if (r.held_refusals != 0) {
    // Parked until a voter names us; the timer only covers a lost notice.
    delay_us = r.holder_remaining_us + config_.held_retry_slack_us;
  } else if (only_stale) {
    delay_us = rng_.Between(0, config_.notice_jitter_us);
  } else {
    const int shift = std::min(r.failures - 1, 30);
    const int64_t ceiling = std::min(config_.backoff_us_max, config_.backoff_us_min << shift);
    delay_us = rng_.Between(0, ceiling);  // full jitter
  }
  r.retry_at_us = now.mono_us + delay_us;
}

void Proposer::SpaceTries(const std::string& resource, Now now) {
  if (try_spacing_.size() >= kTrySpacedResourcesMax && !try_spacing_.contains(resource)) {
    absl::erase_if(try_spacing_,
                   [&](const auto& e) { return e.second.not_before_us <= now.mono_us; });
    if (try_spacing_.size() >= kTrySpacedResourcesMax) return;
  }
  TrySpacing& s = try_spacing_[resource];
  if (s.not_before_us + config_.backoff_us_min < now.mono_us) s.refusals = 0;  // not in a row
  s.refusals = std::min(s.refusals + 1, kTrySpacingDoublingsMax + 1);
  // From a few round trips (the resend interval) or the backoff floor, whichever is longer,
  // doubling; full jitter, so tries from several nodes spread out instead of meeting again.
  const int64_t base = std::max(RetransmitUs(), config_.backoff_us_min);
  const int64_t ceiling = std::min(config_.backoff_us_max, base << (s.refusals - 1));
  s.not_before_us = now.mono_us + rng_.Between(0, ceiling);
}

void Proposer::FailRequest(Request& r, absl::Status status, Now now, Outbox& out) {
  ++stats_.requests_failed;
  if (r.try_once && status.code() == absl::StatusCode::kAborted) SpaceTries(r.resource, now);
  Unpark(r, /*still_waiting=*/false, now, out);
  if (r.state == State::kAttempting) {
    // Nobody will count the answers of a cancelled attempt: free every voter that may hold it.
    ReleaseUntilConfirmed(r.resource, r.ballot, OwnerOf(r), r.asked & ~r.refused, 0, r.duration_us,
                          false, now, out);
  }
  LeaseEvent event{LeaseEvent::Kind::kFailed, r.id, r.resource, 0, 0, std::move(status)};
  Finish(r.id, std::move(event), now, out);
}

void Proposer::Finish(uint64_t id, LeaseEvent event, Now now, Outbox& out) {
  auto it = requests_.find(id);
  LM_CHECK(it != requests_.end());
  const std::string resource = it->second.resource;
  if (it->second.state == State::kHolding) --held_;
  Unindex(it->second);
  requests_.erase(it);
  auto q = queues_.find(resource);
  LM_CHECK(q != queues_.end());
  std::deque<uint64_t>& queue = q->second;
  const bool was_active = !queue.empty() && queue.front() == id;
  queue.erase(std::find(queue.begin(), queue.end(), id));
  out.Emit(std::move(event));
  if (queue.empty()) {
    queues_.erase(q);
  } else if (was_active) {
    Request& next = requests_.at(queue.front());
    if (next.state == State::kQueued) StartAttempt(next, now, out);
  }
}

absl::Status Proposer::Renew(uint64_t request, int64_t duration_us, Now now, Outbox& out) {
  auto it = requests_.find(request);
  if (it == requests_.end() || it->second.state != State::kHolding ||
      now.mono_us >= it->second.deadline_us) {
    return absl::FailedPreconditionError("the request does not hold a live lease");
  }
  Request& r = it->second;
  if (duration_us == 0) duration_us = r.duration_us;
  if (duration_us < config_.lease_duration_us_min || duration_us > config_.lease_duration_us_max) {
    return absl::InvalidArgumentError("renewal duration out of range");
  }
  if (r.renewing) return absl::OkStatus();  // the renewal in flight answers
  // Rule 6: t1 is read before the renewal leaves.
  Busy(r);
  r.renewing = true;
  ++r.round;
  r.t1_us = now.mono_us;
  r.renew_duration_us = duration_us;
  r.renew_deadline_us = std::min(r.deadline_us, r.t1_us + config_.attempt_timeout_us);
  r.renewed = r.renew_refused = 0;
  r.retransmit_at_us = now.mono_us + RetransmitUs();
  r.resends = 0;
  SendRenew(r, AllVoters(), out);
  return absl::OkStatus();
}

void Proposer::OnRenewReply(NodeId from, const RenewReplyMsg& msg, Now now, Outbox& out) {
  hlc_.Observe(msg.highest_ballot, now.wall_ms);
  const int index = config_.VoterIndex(from);
  if (index >= 0) Heard(index);
  Request* r = FindForReply(msg.owner);
  if (index < 0 || r == nullptr || !r->renewing || r->round != msg.round ||
      r->ballot != msg.token) {
    ++stats_.replies_ignored;
    return;
  }
  const uint32_t bit = 1u << index;
  if ((r->renewed | r->renew_refused) & bit) return;
  if (msg.renewed) {
    r->renewed |= bit;
    if (Count(r->renewed) >= config_.Majority() && now.mono_us < r->deadline_us) {
      r->deadline_us =
          std::max(r->deadline_us, r->t1_us + config_.HolderDurationUs(r->renew_duration_us));
      FinishRenew(*r, true, out);
    }
    return;
  }
  r->renew_refused |= bit;
  if (static_cast<int>(config_.voters.size()) - Count(r->renew_refused) < config_.Majority()) {
    FinishRenew(*r, false, out);
  }
}

void Proposer::FinishRenew(Request& r, bool ok, Outbox& out) {
  r.renewing = false;
  r.retransmit_at_us = kNever;
  r.renew_deadline_us = kNever;
  if (r.state == State::kHolding) Quiet(r);
  if (ok) {
    ++stats_.renewals;
  } else {
    ++stats_.renewals_failed;
  }
  out.Emit(LeaseEvent{ok ? LeaseEvent::Kind::kRenewed : LeaseEvent::Kind::kRenewFailed,
                      r.id,
                      r.resource,
                      r.ballot,
                      r.deadline_us,
                      {}});
}

absl::Status Proposer::Release(uint64_t request, Now now, Outbox& out) {
  auto it = requests_.find(request);
  if (it == requests_.end()) return absl::NotFoundError("no such lease request");
  Request& r = it->second;
  if (r.state != State::kHolding) {
    FailRequest(r, absl::CancelledError("cancelled by the caller"), now, out);
    return absl::OkStatus();
  }
  // Rule 7: the caller stopped using the lease when it asked to release (both
  // effects reach the driver together). Tell the voters before Finish() starts
  // the next local request for the resource: its Acquire must reach each voter
  // after our Release, or they would refuse it as held by us.
  ++stats_.releases;
  ReleaseHeld(r, now, out);
  Finish(request, LeaseEvent{LeaseEvent::Kind::kReleased, request, r.resource, r.ballot, 0, {}},
         now, out);
  return absl::OkStatus();
}

void Proposer::ReleaseHeld(const Request& r, Now now, Outbox& out) {
  // A release lost on its way leaves the voter holding the lease until it expires there: at
  // 20% loss one voter in five, each blocking the next holders for a whole lease, and soon no
  // majority is free. So where links lose messages, voters confirm.
  uint32_t lossy = Lossy(now);
  // Not to a voter that has answered nothing for many resend intervals, or that membership
  // says is gone: a crashed voter would get each release resent for a whole lease, for
  // nothing. (One lost answer makes a voter unheard for a while: on lossy links that is
  // common, and those are the releases to confirm.) Asked only then: clean links are the
  // hot path.
  if (lossy != 0) lossy &= ~(Unheard(now, kSilentVoterRetransmits) | LooksDown());
  SendRelease(ReleaseMsg{r.resource, r.ballot, OwnerOf(r)}, AllVoters() & ~lossy, out);
  ReleaseUntilConfirmed(r.resource, r.ballot, OwnerOf(r), lossy, 0, r.duration_us, false, now, out);
}

uint32_t Proposer::Lossy(Now now) const {
  uint32_t lossy = 0;
  for (std::size_t i = 0; i < config_.voters.size(); ++i) {
    if (now.mono_us < lossy_until_us_[i]) lossy |= 1u << i;
  }
  return lossy & ~SelfMask();
}

void Proposer::MarkLossy(uint32_t mask, Now now) {
  for (std::size_t i = 0; i < config_.voters.size(); ++i) {
    if (mask & (1u << i)) lossy_until_us_[i] = now.mono_us + kLossyLinkMemoryUs;
  }
}

void Proposer::OnReleaseNotice(NodeId from, const ReleaseNoticeMsg& msg, Now now, Outbox& out) {
  if (const int index = config_.VoterIndex(from); index >= 0) Heard(index);
  auto q = queues_.find(msg.resource);
  if (q == queues_.end()) return;
  Request& r = requests_.at(q->second.front());
  // Rule 10: the notice names this node the head of the voter's waiters and the voter keeps
  // the resource for it a moment, so no jitter: retry at once.
  if (r.state == State::kAttempting) {
    r.named = true;
  } else if (r.state == State::kWaiting) {
    r.reparked = false;
    if (config_.waiter_priority_us != 0) return StartAttempt(r, now, out);
    // Without the window every waiter is told: a little jitter keeps them from colliding.
    r.retry_at_us =
        std::min(r.retry_at_us, now.mono_us + rng_.Between(0, config_.notice_jitter_us));
  }
}

void Proposer::TickRequest(Request& r, Now now, Outbox& out) {
  const int64_t t = now.mono_us;
  switch (r.state) {
    case State::kQueued:
    case State::kWaiting:
      if (t >= r.wait_deadline_us) {
        // A caller acts differently on "no quorum" (the cluster is sick: back off, alert)
        // than on "others held it all along" (contention), so the wait limit keeps the code.
        absl::Status why = WhyFailed(r);
        std::string message = absl::StrCat("wait limit passed; ", why.message());
        return FailRequest(r,
                           why.code() == absl::StatusCode::kUnavailable
                               ? absl::UnavailableError(std::move(message))
                               : absl::DeadlineExceededError(std::move(message)),
                           now, out);
      }
      if (r.state == State::kWaiting && r.parked && t >= r.retransmit_at_us) {
        const uint32_t polled = PolledWhileParked(r, now);
        r.retransmit_at_us = polled != 0 ? t + RetransmitUs(++r.resends) : kNever;
        MarkLossy(polled & r.parked_unknown, now);  // those left an acquire unanswered
        r.parked_unknown |= polled;                 // each may accept it now: Unpark frees it
        if (polled != 0) SendAcquire(r, polled, now, out);
      }
      if (r.state == State::kWaiting && t >= r.retry_at_us) {
        // Parked, and neither named nor granted at release by the time the holder's lease
        // should have ended: a notice or an accept was lost, or we stopped hearing the voters
        // (our inbound cut). Probes first: an acquire the voters accept but whose answers
        // never reach us would keep the resource from everyone for a whole attempt.
        const bool probe_first = r.parked && r.parked_accepted == 0;
        StartAttempt(r, now, out, probe_first);
      }
      return;
    case State::kAttempting:
      if (t >= r.wait_deadline_us) {
        // Fewer voters than a majority answered at all: the cluster, not contention, is why.
        if (std::popcount(r.accepted | r.refused) < config_.Majority() && r.held_refusals == 0) {
          return FailRequest(
              r, absl::UnavailableError("wait limit passed; no quorum answered the attempt"), now,
              out);
        }
        return FailRequest(r, absl::DeadlineExceededError("wait limit passed during an attempt"),
                           now, out);
      }
      if (t >= r.attempt_deadline_us) {
        // Voters still silent at the deadline: the round trip may have outgrown the estimate,
        // and with every reply to a resent acquire (Karn) no sample can show it. Back the
        // timers off until a sample comes (RFC 6298, 5.5), or the attempts never fit.
        // Silent: sent the acquire or a probe (SendAcquire), and no answer.
        if ((AllVoters() & ~SelfMask() & ~(r.accepted | r.refused)) != 0) {
          if (rto_backoff_ < kRtoBackoffMax) ++rto_backoff_;
          // The loud signal: it ran as long as any attempt may (the configured attempt
          // timeout, or D_P) and answers are still missing.
          if (r.attempt_deadline_us - r.t0_us >=
              std::min(config_.attempt_timeout_us, config_.HolderDurationUs(r.duration_us))) {
            ++stats_.attempts_too_slow;
          }
        }
        return FailAttempt(r, now, out);
      }
      if (MajorityImpossible(r, now)) {  // the liveness view changed since the last answer
        ++stats_.attempts_ended_early;
        return FailAttempt(r, now, out);
      }
      if (t >= r.retransmit_at_us) {
        r.retransmit_at_us = t + RetransmitUs(++r.resends);
        r.resent = true;
        const uint32_t silent = AllVoters() & ~(r.accepted | r.refused);
        MarkLossy(silent, now);
        SendAcquire(r, silent, now, out);
      }
      return;
    case State::kHolding:
      if (t >= r.deadline_us) {
        ++stats_.expiries;
        // We no longer trust the lease; the voters would keep it up to D - D_P
        // longer. Clearing it now (exact match only) lets a waiter in sooner.
        ReleaseHeld(r, now, out);
        return Finish(
            r.id,
            LeaseEvent{LeaseEvent::Kind::kExpired, r.id, r.resource, r.ballot, r.deadline_us, {}},
            now, out);
      }
      if (r.renewing && t >= r.renew_deadline_us) return FinishRenew(r, false, out);
      if (r.renewing && t >= r.retransmit_at_us) {
        r.retransmit_at_us = t + RetransmitUs(++r.resends);
        const uint32_t silent = AllVoters() & ~(r.renewed | r.renew_refused);
        MarkLossy(silent, now);
        SendRenew(r, silent, out);
      }
      return;
  }
}

void Proposer::Unindex(const Request& r) {
  if (r.quiet_until_us == kNever) {
    busy_.erase(r.id);
  } else {
    quiet_holds_.erase({r.quiet_until_us, r.id});
  }
}

void Proposer::Quiet(Request& r) {
  if (r.quiet_until_us == r.deadline_us) return;
  Unindex(r);
  r.quiet_until_us = r.deadline_us;
  quiet_holds_.insert({r.quiet_until_us, r.id});
}

void Proposer::Busy(Request& r) {
  if (r.quiet_until_us == kNever) return;
  Unindex(r);
  r.quiet_until_us = kNever;
  busy_.insert(r.id);
}

void Proposer::OnTick(Now now, Outbox& out) {
  // Every busy request and every quiet holder whose deadline came, in id order: what a walk
  // of all requests did, without the holders that have nothing due.
  std::vector<uint64_t> due(busy_.begin(), busy_.end());
  for (auto it = quiet_holds_.begin(); it != quiet_holds_.end() && it->first <= now.mono_us; ++it) {
    due.push_back(it->second);
  }
  std::sort(due.begin(), due.end());
  for (uint64_t id : due) {
    auto it = requests_.find(id);
    if (it != requests_.end()) TickRequest(it->second, now, out);
  }
  TickPendingReleases(now, out);
}

int64_t Proposer::NextTickUs() const {
  int64_t next = pending_releases_.NextDueUs();
  if (!quiet_holds_.empty()) next = std::min(next, quiet_holds_.begin()->first);
  for (uint64_t id : busy_) {
    const Request& r = requests_.at(id);
    switch (r.state) {
      case State::kQueued:
        next = std::min(next, r.wait_deadline_us);
        break;
      case State::kWaiting:
        next = std::min(
            {next, r.wait_deadline_us, r.retry_at_us, r.parked ? r.retransmit_at_us : kNever});
        break;
      case State::kAttempting:
        next = std::min({next, r.wait_deadline_us, r.attempt_deadline_us, r.retransmit_at_us});
        break;
      case State::kHolding:
        next = std::min(next, r.deadline_us);
        if (r.renewing) next = std::min({next, r.renew_deadline_us, r.retransmit_at_us});
        break;
    }
  }
  return next;
}

std::vector<Holding> Proposer::Holdings(Now now) const {
  std::vector<Holding> out;
  for (const auto& [id, r] : requests_) {
    if (r.state == State::kHolding && now.mono_us < r.deadline_us) {
      out.push_back(Holding{id, r.resource, r.ballot, r.deadline_us});
    }
  }
  return out;
}

bool Proposer::IsHolding(uint64_t request, Now now) const {
  auto it = requests_.find(request);
  return it != requests_.end() && it->second.state == State::kHolding &&
         now.mono_us < it->second.deadline_us;
}

}  // namespace lockmesh::core
