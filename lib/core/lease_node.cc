#include "lib/core/lease_node.h"

#include <algorithm>

#include "lib/core/check.h"
#include "lib/core/limits.h"

namespace lockmesh::core {

absl::string_view LeaseEventKindName(LeaseEvent::Kind kind) {
  switch (kind) {
    case LeaseEvent::Kind::kGranted:
      return "granted";
    case LeaseEvent::Kind::kRenewed:
      return "renewed";
    case LeaseEvent::Kind::kRenewFailed:
      return "renew-failed";
    case LeaseEvent::Kind::kReleased:
      return "released";
    case LeaseEvent::Kind::kExpired:
      return "expired";
    case LeaseEvent::Kind::kFailed:
      return "failed";
  }
  return "unknown";
}

// Routes a half's output: to ourselves through the local queue, to peers into
// the effects with a stamped envelope.
class LeaseNode::Router final : public Outbox {
 public:
  Router(LeaseNode& node, Now now, Effects& fx) : node_(node), now_(now), fx_(fx) {}

  void Send(NodeId to, MessageBody body) override {
    if (to == node_.config_.self) {
      node_.local_.push_back(std::move(body));
      return;
    }
    ++node_.stats_.messages_out;
    fx_.messages.push_back(Envelope{node_.config_.self, node_.incarnation_, to,
                                    node_.hlc_.Tick(now_.wall_ms), node_.voter_set_hash_,
                                    std::move(body)});
  }
  void Emit(LeaseEvent event) override { fx_.events.push_back(std::move(event)); }

 private:
  LeaseNode& node_;
  Now now_;
  Effects& fx_;
};

LeaseNode::LeaseNode(const LeaseConfig& config, uint64_t incarnation, StartMode mode, Now now,
                     Rng& rng)
    : config_(config),
      incarnation_(incarnation),
      voter_set_hash_(config.VoterSetHash()),
      proposer_(config_, incarnation, hlc_, rng) {
  LM_CHECK(config_.Validate().ok());
  hlc_.Tick(now.wall_ms);
  if (config_.IsVoter(config_.self)) {
    voter_.emplace(config_, hlc_, mode == StartMode::kRestart, now);
  }
}

void LeaseNode::Dispatch(NodeId from, const MessageBody& body, Now now, Router& out) {
  struct Visitor {
    LeaseNode& n;
    NodeId from;
    Now now;
    Router& out;
    bool NeedVoter() {
      if (n.voter_) return true;
      ++n.stats_.dropped_not_voter;
      return false;
    }
    void operator()(const AcquireMsg& m) {
      if (NeedVoter()) n.voter_->OnAcquire(from, m, now, out);
    }
    void operator()(const RenewMsg& m) {
      if (NeedVoter()) n.voter_->OnRenew(from, m, now, out);
    }
    void operator()(const ReleaseMsg& m) {
      if (NeedVoter()) n.voter_->OnRelease(from, m, now, out);
    }
    void operator()(const AcquireReplyMsg& m) { n.proposer_.OnAcquireReply(from, m, now, out); }
    void operator()(const RenewReplyMsg& m) { n.proposer_.OnRenewReply(from, m, now, out); }
    void operator()(const ReleaseNoticeMsg& m) { n.proposer_.OnReleaseNotice(from, m, now, out); }
    // Membership messages belong to Gossip; OnMessage filters them out before this.
    void operator()(const PingMsg&) { ++n.stats_.ignored_gossip; }
    void operator()(const PingReqMsg&) { ++n.stats_.ignored_gossip; }
    void operator()(const AckMsg&) { ++n.stats_.ignored_gossip; }
    void operator()(const NackMsg&) { ++n.stats_.ignored_gossip; }
    void operator()(const GossipMsg&) { ++n.stats_.ignored_gossip; }
    void operator()(const PushPullMsg&) { ++n.stats_.ignored_gossip; }
  };
  std::visit(Visitor{*this, from, now, out}, body);
}

void LeaseNode::DrainLocal(Now now, Router& out) {
  while (!local_.empty()) {
    MessageBody body = std::move(local_.front());
    local_.pop_front();
    Dispatch(config_.self, body, now, out);
  }
}

namespace {

// The largest ballot or token a lease message carries (0 for gossip).
struct HighestBallot {
  Ballot operator()(const AcquireMsg& m) const { return m.ballot; }
  Ballot operator()(const AcquireReplyMsg& m) const { return std::max(m.ballot, m.highest_ballot); }
  Ballot operator()(const RenewMsg& m) const { return m.token; }
  Ballot operator()(const RenewReplyMsg& m) const { return std::max(m.token, m.highest_ballot); }
  Ballot operator()(const ReleaseMsg& m) const { return m.ballot; }
  Ballot operator()(const ReleaseNoticeMsg& m) const { return m.ballot; }
  template <typename Gossip>
  Ballot operator()(const Gossip&) const {
    return 0;
  }
};

}  // namespace

bool LeaseNode::TooFarAhead(const Envelope& message, Now now) const {
  const uint64_t limit = static_cast<uint64_t>(std::max<int64_t>(now.wall_ms, 0) + kClockAheadMsMax)
                         << kHlcLogicalBits;
  return message.hlc > limit || std::visit(HighestBallot{}, message.body) > limit;
}

void LeaseNode::OnMessage(const Envelope& message, Now now, Effects& fx) {
  ++stats_.messages_in;
  if (IsGossipMessage(message.body)) {
    // Checked first so that it is not miscounted as a voter-set mismatch (gossip
    // envelopes carry no voter-set hash).
    ++stats_.ignored_gossip;
    return;
  }
  if (message.to != config_.self || message.from == config_.self) {
    ++stats_.dropped_misaddressed;
    return;
  }
  if (message.voter_set_hash != voter_set_hash_) {
    // Two nodes configured with different voter sets could each see a
    // "majority"; nothing from such a peer may count.
    ++stats_.dropped_voter_set_mismatch;
    return;
  }
  if (TooFarAhead(message, now)) {
    ++stats_.dropped_clock_ahead;
    return;
  }
  hlc_.Observe(message.hlc, now.wall_ms);
  Router out(*this, now, fx);
  Dispatch(message.from, message.body, now, out);
  DrainLocal(now, out);
}

void LeaseNode::OnTick(Now now, Effects& fx) {
  Router out(*this, now, fx);
  if (voter_) voter_->OnTick(now, out);
  proposer_.OnTick(now, out);
  DrainLocal(now, out);
}

absl::StatusOr<uint64_t> LeaseNode::Acquire(std::string resource, AcquireOptions options, Now now,
                                            Effects& fx) {
  Router out(*this, now, fx);
  absl::StatusOr<uint64_t> id = proposer_.Acquire(std::move(resource), options, now, out);
  DrainLocal(now, out);
  return id;
}

absl::Status LeaseNode::Renew(uint64_t request, int64_t duration_us, Now now, Effects& fx) {
  Router out(*this, now, fx);
  absl::Status status = proposer_.Renew(request, duration_us, now, out);
  DrainLocal(now, out);
  return status;
}

absl::Status LeaseNode::Release(uint64_t request, Now now, Effects& fx) {
  Router out(*this, now, fx);
  absl::Status status = proposer_.Release(request, now, out);
  DrainLocal(now, out);
  return status;
}

int64_t LeaseNode::NextTickUs() const {
  int64_t next = proposer_.NextTickUs();
  if (voter_) next = std::min(next, voter_->NextTickUs());
  return next;
}

}  // namespace lockmesh::core
