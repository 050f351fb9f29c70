// Gossip: construction, the input methods, dispatch, queries and the plumbing the
// other parts share (sending, events, random members). The protocol itself is in
// state.cc (the member table), probe.cc (failure detection) and dissemination.cc.
#include "lib/core/membership/gossip.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "lib/core/check.h"
#include "lib/core/config.h"
#include "lib/core/limits.h"
#include "lib/core/membership/wire_budget.h"

namespace lockmesh::core {
namespace {

constexpr int64_t kNever = std::numeric_limits<int64_t>::max();

// Below this many members RandomMembers() scans them all (exact, and cheap); above it
// it draws at random like memberlist's kRandomNodes, so a pick costs O(k), not O(n).
constexpr std::size_t kScanMembersMax = 32;

}  // namespace

absl::string_view MemberEventKindName(MemberEvent::Kind kind) {
  switch (kind) {
    case MemberEvent::Kind::kJoined:
      return "joined";
    case MemberEvent::Kind::kSuspect:
      return "suspect";
    case MemberEvent::Kind::kAlive:
      return "alive";
    case MemberEvent::Kind::kDead:
      return "dead";
    case MemberEvent::Kind::kLeft:
      return "left";
    case MemberEvent::Kind::kUpdated:
      return "updated";
  }
  return "unknown";
}

Gossip::Gossip(const GossipConfig& config, MemberInfo self, uint64_t incarnation, Now now, Rng& rng)
    : config_(config),
      rng_(rng),
      self_id_(NodeIdFromName(self.name)),
      self_info_(std::move(self)),
      incarnation_(incarnation),
      awareness_(config.awareness_max) {
  LM_CHECK(config_.Validate().ok());
  LM_CHECK(ValidateMemberInfo(self_info_).ok());
  LM_CHECK(self_info_.tags.size() <= config_.tags_max);
  LM_CHECK(incarnation_ <= kIncarnationMax);
  // The datagram bounds in limits.h must let the largest member travel alone.
  LM_CHECK(Fits(WireSizeOf(GossipMsg{}) + MemberUpdateWireSizeMax()));
  LM_CHECK(Fits(WireSizeOf(PushPullMsg{}) + MemberUpdateWireSizeMax()));
  std::size_t tag_bytes = 0;
  for (const auto& [key, value] : self_info_.tags) tag_bytes += key.size() + value.size();
  LM_CHECK(tag_bytes <= config_.tags_bytes_max);

  members_.emplace(self_id_,
                   Member{self_id_, self_info_, incarnation_, MemberState::kAlive, now.mono_us});
  live_members_ = 1;
  probe_order_.push_back(self_id_);
  hlc_.Tick(now.wall_ms);
  // Random phases, so that nodes started together do not probe and gossip in lockstep.
  next_probe_us_ = now.mono_us + static_cast<int64_t>(rng_.Uniform(config_.probe_interval_us));
  next_gossip_us_ = now.mono_us + static_cast<int64_t>(rng_.Uniform(config_.gossip_interval_us));
  next_push_pull_us_ =
      now.mono_us + static_cast<int64_t>(rng_.Uniform(config_.push_pull_interval_us));
}

void Gossip::Begin(Now now, GossipEffects& fx) {
  now_ = now;
  fx_ = &fx;
}

absl::Status Gossip::Join(const std::vector<std::string>& seeds, Now now, GossipEffects& fx) {
  if (left_) return absl::FailedPreconditionError("gossip: cannot join after leaving");
  if (seeds.empty()) return absl::InvalidArgumentError("gossip: join needs at least one seed");
  if (seeds.size() > kJoinSeedsMax) {
    return absl::InvalidArgumentError(
        absl::StrCat("gossip: ", seeds.size(), " seeds, more than the limit of ", kJoinSeedsMax));
  }
  std::vector<std::string> others;
  for (const std::string& seed : seeds) {
    if (seed.empty() || seed.size() > kMemberAddressBytesMax) {
      return absl::InvalidArgumentError(absl::StrCat("gossip: seed address '", seed,
                                                     "' is empty or longer than ",
                                                     kMemberAddressBytesMax, " bytes"));
    }
    if (seed != self_info_.address &&
        std::find(others.begin(), others.end(), seed) == others.end()) {
      others.push_back(seed);
    }
  }
  Begin(now, fx);
  seeds_ = std::move(others);
  joining_ = !seeds_.empty();
  if (joining_) {
    SendJoin();
    next_join_us_ = now_.mono_us + config_.join_retry_us;
  }
  return absl::OkStatus();
}

void Gossip::Leave(Now now, GossipEffects& fx) {
  if (left_) return;
  Begin(now, fx);
  left_ = true;
  joining_ = false;
  probe_.reset();
  relays_.clear();
  suspicions_.clear();  // a leaving node declares no one dead
  ++incarnation_;
  Member& me = members_.at(self_id_);
  me.incarnation = incarnation_;
  SetState(me, MemberState::kLeft);
  broadcasts_.Push(MemberUpdate{.state = MemberState::kLeft,
                                .node = self_id_,
                                .incarnation = incarnation_,
                                .from = self_id_});
}

absl::Status Gossip::UpdateMeta(bool voter, Tags tags, Now now, GossipEffects& fx) {
  if (left_) return absl::FailedPreconditionError("gossip: cannot update after leaving");
  if (absl::Status s = ValidateTags(tags); !s.ok()) return s;
  std::size_t bytes = 0;
  for (const auto& [key, value] : tags) bytes += key.size() + value.size();
  if (tags.size() > config_.tags_max || bytes > config_.tags_bytes_max) {
    return absl::InvalidArgumentError(absl::StrCat("gossip: ", tags.size(), " tags of ", bytes,
                                                   " bytes exceed the config's ", config_.tags_max,
                                                   " tags of ", config_.tags_bytes_max, " bytes"));
  }
  Begin(now, fx);
  self_info_.voter = voter;
  self_info_.tags = std::move(tags);
  ++incarnation_;
  Member& me = members_.at(self_id_);
  me.info = self_info_;
  me.incarnation = incarnation_;
  broadcasts_.Push(SelfUpdate());
  return absl::OkStatus();
}

void Gossip::OnMessage(const Envelope& message, Now now, GossipEffects& fx) {
  ++stats_.messages_in;
  if (!IsGossipMessage(message.body)) {
    ++stats_.dropped_not_gossip;
    return;
  }
  if (message.from == self_id_ || message.from == 0) {
    ++stats_.dropped_from_self;
    return;
  }
  if (message.to != self_id_) {
    // Only a join may be addressed by address alone: the joiner knows no NodeId yet.
    const auto* pp = std::get_if<PushPullMsg>(&message.body);
    if (message.to != 0 || pp == nullptr || !pp->join || pp->reply) {
      ++stats_.dropped_misaddressed;
      return;
    }
  }
  Begin(now, fx);
  hlc_.Observe(message.hlc, now.wall_ms);
  const NodeId from = message.from;
  std::visit(
      [&]<typename T>(const T& m) {
        if constexpr (std::same_as<T, PingMsg>) {
          OnPing(from, m);
        } else if constexpr (std::same_as<T, PingReqMsg>) {
          OnPingReq(from, m);
        } else if constexpr (std::same_as<T, AckMsg>) {
          OnAck(from, m);
        } else if constexpr (std::same_as<T, NackMsg>) {
          OnNack(from, m);
        } else if constexpr (std::same_as<T, GossipMsg>) {
          if (m.updates.size() > kGossipUpdatesPerMessageMax) {
            ++stats_.dropped_malformed;
            return;
          }
          ApplyUpdates(m.updates);
        } else if constexpr (std::same_as<T, PushPullMsg>) {
          OnPushPull(from, m);
        }
      },
      message.body);
}

void Gossip::OnTick(Now now, GossipEffects& fx) {
  Begin(now, fx);
  // A probe's verdict comes before the next probe starts at the same instant.
  RunProbeTimers();
  RunRelayTimers();
  ExpireSuspicions();
  if (now_.mono_us >= next_probe_us_) ProbeTick();
  if (now_.mono_us >= next_gossip_us_) GossipTick();
  if (config_.push_pull_interval_us > 0 && now_.mono_us >= next_push_pull_us_) PushPullTick();
  if (joining_ && now_.mono_us >= next_join_us_) {
    SendJoin();
    next_join_us_ = now_.mono_us + config_.join_retry_us;
  }
}

int64_t Gossip::NextTickUs() const {
  if (left_) return broadcasts_.empty() ? kNever : next_gossip_us_;
  int64_t next = std::min(next_probe_us_, next_gossip_us_);
  if (config_.push_pull_interval_us > 0) next = std::min(next, next_push_pull_us_);
  if (joining_) next = std::min(next, next_join_us_);
  if (probe_) {
    next = std::min(next, probe_->end_us);
    if (!probe_->indirect_sent) next = std::min(next, probe_->direct_deadline_us);
  }
  for (const auto& [seq, relay] : relays_) next = std::min(next, relay.deadline_us);
  for (const auto& [node, suspicion] : suspicions_) next = std::min(next, suspicion.deadline_us());
  return next;
}

// ---- queries ----

bool Gossip::LooksAlive(NodeId node) const {
  const Member* m = Find(node);
  // A suspect too: a suspicion is one prober's missed acks, or one spread by a member that
  // was cut off and is back, and most are refuted. Not asking a suspect voter costs the
  // cluster that voter for as long as the suspicion lasts (seconds); asking a dead one costs
  // one message.
  return m != nullptr && (m->state == MemberState::kAlive || m->state == MemberState::kSuspect);
}

std::vector<NodeId> Gossip::LiveFirst(const std::vector<NodeId>& voters) const {
  auto rank = [this](NodeId id) {
    const Member* m = Find(id);
    if (m == nullptr) return 2;
    if (m->state == MemberState::kAlive) return 0;
    return m->state == MemberState::kSuspect ? 1 : 2;
  };
  std::vector<NodeId> out = voters;
  std::stable_sort(out.begin(), out.end(), [&](NodeId a, NodeId b) { return rank(a) < rank(b); });
  return out;
}

const Member* Gossip::Find(NodeId node) const {
  auto it = members_.find(node);
  return it == members_.end() ? nullptr : &it->second;
}

std::vector<Member> Gossip::Members() const {
  std::vector<Member> out;
  out.reserve(members_.size());
  for (const auto& [id, member] : members_) out.push_back(member);
  return out;
}

const Suspicion* Gossip::FindSuspicion(NodeId node) const {
  auto it = suspicions_.find(node);
  return it == suspicions_.end() ? nullptr : &it->second;
}

int64_t Gossip::ProbeIntervalUs() const {
  return config_.lifeguard ? awareness_.Scale(config_.probe_interval_us)
                           : config_.probe_interval_us;
}

// ---- plumbing ----

void Gossip::Send(NodeId to, const std::string& address, MessageBody body) {
  LM_CHECK(fx_ != nullptr);
  ++stats_.messages_out;
  fx_->messages.push_back(Outgoing{
      address, Envelope{self_id_, incarnation_, to, hlc_.Tick(now_.wall_ms), 0, std::move(body)}});
}

void Gossip::Emit(MemberEvent::Kind kind, const Member& member) {
  LM_CHECK(fx_ != nullptr);
  fx_->events.push_back(MemberEvent{kind, member.id, member.incarnation, member.info});
}

MemberUpdate Gossip::SelfUpdate() const {
  return MemberUpdate{.state = MemberState::kAlive,
                      .node = self_id_,
                      .incarnation = incarnation_,
                      .from = self_id_,
                      .info = self_info_};
}

// Up to k distinct members that pass `filter`, chosen at random.
std::vector<const Member*> Gossip::RandomMembers(int k,
                                                 absl::FunctionRef<bool(const Member&)> filter) {
  std::vector<const Member*> out;
  if (k <= 0) return out;
  const std::size_t n = probe_order_.size();
  if (n <= kScanMembersMax) {
    for (const auto& [id, member] : members_) {
      if (filter(member)) out.push_back(&member);
    }
    // Partial Fisher-Yates: the first k are a uniform sample.
    const std::size_t want = std::min(out.size(), static_cast<std::size_t>(k));
    for (std::size_t i = 0; i < want; ++i) {
      std::swap(out[i], out[i + rng_.Uniform(out.size() - i)]);
    }
    out.resize(want);
    return out;
  }
  // memberlist's kRandomNodes: up to 3n draws, so a sparse filter cannot loop forever.
  for (std::size_t i = 0; i < 3 * n && out.size() < static_cast<std::size_t>(k); ++i) {
    const Member& member = members_.at(probe_order_[rng_.Uniform(n)]);
    if (!filter(member) || std::find(out.begin(), out.end(), &member) != out.end()) continue;
    out.push_back(&member);
  }
  return out;
}

}  // namespace lockmesh::core
