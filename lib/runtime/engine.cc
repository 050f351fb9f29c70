// The engine's event loop: clocks, the socket, timers, routing, gossip, metrics, stop.
#include "lib/runtime/engine.h"

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <limits>

#include "absl/strings/str_cat.h"
#include "lib/core/check.h"
#include "lib/runtime/address.h"
#include "lib/runtime/drop_log.h"
#include "lib/wire/codec.h"
#include "sodium.h"

namespace lockmesh::runtime {
namespace {

constexpr int64_t kNever = std::numeric_limits<int64_t>::max();

uint64_t SecureSeed() {
  uint64_t seed = 0;
  randombytes_buf(&seed, sizeof(seed));
  return seed;
}

int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Engine::Engine(Settings settings, boost::asio::io_context& io)
    : settings_(std::move(settings)),
      io_(io),
      strand_(boost::asio::make_strand(io)),
      timer_(io),
      keyring_(settings_.keyring),
      transport_(io, keyring_, settings_.options.cluster_name),
      rng_(SecureSeed()),
      routes_(settings_.voter_routes) {}

Engine::~Engine() = default;

absl::StatusOr<std::shared_ptr<Engine>> Engine::Create(Settings settings,
                                                       boost::asio::io_context& io) {
  std::shared_ptr<Engine> e(new Engine(std::move(settings), io));
  if (absl::Status st = e->transport_.Bind(e->settings_.bind); !st.ok()) return st;
  Settings& s = e->settings_;
  if (s.self.address.empty()) s.self.address = FormatEndpoint(e->transport_.local_endpoint());
  if (absl::Status st = core::ValidateMemberInfo(s.self); !st.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("lockmesh options: ", st.message()));
  }
  const core::Now now = e->Now();
  // A new life gets a new incarnation: wall time makes it larger than any earlier life's
  // (leases: owners of an earlier life are told apart; gossip: refutes an old death at once).
  const uint64_t incarnation = static_cast<uint64_t>(now.wall_ms);
  e->lease_ = std::make_unique<core::LeaseNode>(
      s.lease, incarnation,
      s.options.bootstrap ? core::StartMode::kBootstrap : core::StartMode::kRestart, now, e->rng_);
  e->gossip_ = std::make_unique<core::Gossip>(s.gossip, s.self, incarnation / 1000, now, e->rng_);
  core::Gossip* gossip = e->gossip_.get();
  e->lease_->SetLivenessHint([gossip](core::NodeId id) { return gossip->LooksAlive(id); });
  e->breaker_.cooldown_us = s.options.breaker_cooldown.count() * 1000;
  e->CountMembers();
  e->PublishMetrics();  // nothing runs on the strand yet
  return e;
}

core::Now Engine::Now() const {
  const int64_t mono = std::chrono::duration_cast<std::chrono::microseconds>(
                           std::chrono::steady_clock::now().time_since_epoch())
                           .count();
  return core::Now{.mono_us = mono, .wall_ms = WallMs()};
}

void Engine::Log(LogLevel level, std::string_view event, std::string message) const {
  const NodeOptions& o = settings_.options;
  if (!o.log || level < o.log_level) return;
  // At once, not deferred like the other callbacks: a record is out before the metrics that
  // count what it reports are published (AfterInput).
  o.log(LogRecord{
      .level = level, .event = event, .message = std::move(message), .node = settings_.self.name});
}

void Engine::LogFromAnyThread(LogLevel level, std::string event, std::string message) {
  Post([this, level, event = std::move(event), message = std::move(message)]() mutable {
    Log(level, event, std::move(message));
  });
}

void Engine::Start() {
  Post([this] {
    if (started_) return;
    started_ = true;
    Log(LogLevel::kInfo, "node.start",
        absl::StrCat("node ", name(), " at ", address(), settings_.self.voter ? " (voter)" : "",
                     ", cluster ", settings_.options.cluster_name,
                     settings_.options.bootstrap ? ", bootstrap" : ""));
    core::GossipEffects gfx;
    if (!settings_.seeds.empty()) {
      absl::Status st = gossip_->Join(settings_.seeds, Now(), gfx);
      if (!st.ok()) Log(LogLevel::kError, "node.join_failed", std::string(st.message()));
    }
    Apply(gfx);
    CountMembers();
    Receive();
  });
}

void Engine::Receive() {
  if (stopped_) return;
  transport_.socket().async_receive_from(
      boost::asio::buffer(recv_buffer_), recv_from_,
      boost::asio::bind_executor(
          strand_, [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
            self->OnReceived(ec, n);
          }));
}

void Engine::OnReceived(boost::system::error_code ec, std::size_t bytes) {
  if (stopped_ || ec == boost::asio::error::operation_aborted) return;
  // Other errors (an ICMP unreachable reported on a UDP socket) end one receive, not the node.
  if (!ec) OnDatagram(std::string_view(recv_buffer_.data(), bytes), recv_from_);
  AfterInput();
  Receive();
  RunCallbacks();
}

void Engine::OnDatagram(std::string_view datagram, const udp::endpoint& from) {
  const DatagramCounters before = transport_.counters();
  std::vector<core::Envelope> envelopes = transport_.Unpack(datagram);
  for (const DropToLog& drop : DropsToLog(before, transport_.counters())) {
    Log(LogLevel::kWarning, "datagram.dropped",
        absl::StrCat("dropped a datagram from ", FormatEndpoint(from), ": ", drop.reason, " (",
                     drop.what, "); ", drop.count, " so far (logged at the first, then every ",
                     kDropLogEveryDatagrams, "th)"));
  }
  const core::Now now = Now();
  for (core::Envelope& env : envelopes) {
    if (core::IsGossipMessage(env.body)) {
      core::GossipEffects gfx;
      gossip_->OnMessage(env, now, gfx);
      Apply(gfx);
      continue;
    }
    // The source of an authenticated message is where its sender listens (nodes send from
    // the socket they bind), unless gossip or the configuration already says otherwise.
    if (env.from != 0 && env.from != id() && !routes_.contains(env.from) &&
        routes_.size() < core::kMembersMax) {
      routes_[env.from] = from;
    }
    core::Effects fx;
    const uint64_t mismatched = lease_->stats().dropped_voter_set_mismatch;
    lease_->OnMessage(env, now, fx);
    if (lease_->stats().dropped_voter_set_mismatch != mismatched) {
      // A misconfigured node: say so loudly, but not for every datagram it sends.
      const uint64_t n = lease_->stats().dropped_voter_set_mismatch;
      if (n == 1 || n % 1000 == 0) {
        Log(LogLevel::kError, "lease.voter_set_mismatch",
            absl::StrCat("node ", env.from, " at ", FormatEndpoint(from),
                         " runs with another voter set; its lease messages are refused (", n,
                         " so far)"));
      }
    }
    Apply(fx);
  }
}

void Engine::Apply(core::Effects& fx) {
  for (const core::Envelope& env : fx.messages) Route(env);
  const core::Now now = Now();
  for (core::LeaseEvent& event : fx.events) OnLeaseEvent(std::move(event), now);
  fx.Clear();
}

void Engine::Apply(core::GossipEffects& fx) {
  for (const core::Outgoing& out : fx.messages) {
    auto it = parsed_addresses_.find(out.to_address);
    if (it == parsed_addresses_.end()) {
      absl::StatusOr<udp::endpoint> ep = ParseEndpoint(out.to_address);
      if (!ep.ok()) {
        ++own_.dropped_unroutable;
        continue;
      }
      if (parsed_addresses_.size() >= core::kMembersMax) parsed_addresses_.clear();
      it = parsed_addresses_.emplace(out.to_address, *ep).first;
    }
    SendTo(it->second, out.envelope);
  }
  for (const core::MemberEvent& event : fx.events) OnMemberEvent(event);
  if (!fx.events.empty()) CountMembers();
  fx.Clear();
}

void Engine::Route(const core::Envelope& envelope) {
  auto it = routes_.find(envelope.to);
  if (it == routes_.end()) {
    ++own_.dropped_unroutable;
    return;
  }
  SendTo(it->second, envelope);
}

void Engine::SendTo(const udp::endpoint& to, const core::Envelope& envelope) {
  absl::StatusOr<std::string> bytes = wire::Encode(envelope);
  if (!bytes.ok()) {
    // The cores keep their messages within the wire's bounds; this is a bug, not input.
    Log(LogLevel::kError, "wire.encode_failed",
        absl::StrCat(core::DescribeMessage(envelope.body), ": ", bytes.status().message()));
    ++own_.send_errors;
    return;
  }
  transport_.Queue(to, *std::move(bytes));  // sent by the flush AfterInput posts
}

void Engine::OnMemberEvent(const core::MemberEvent& event) {
  using Kind = core::MemberEvent::Kind;
  const std::string who = event.info.name.empty() ? absl::StrCat(event.node) : event.info.name;
  if (!event.info.address.empty() &&
      (event.kind == Kind::kJoined || event.kind == Kind::kUpdated || event.kind == Kind::kAlive)) {
    absl::StatusOr<udp::endpoint> ep = ParseEndpoint(event.info.address);
    if (ep.ok() && routes_.size() < core::kMembersMax) routes_[event.node] = *ep;
  }
  const LogLevel level = event.kind == Kind::kDead ? LogLevel::kWarning : LogLevel::kInfo;
  Log(level, absl::StrCat("member.", core::MemberEventKindName(event.kind)),
      absl::StrCat(who, " ", core::MemberEventKindName(event.kind), " (", event.info.address, ")"));
}

void Engine::CountMembers() {
  uint64_t counts[core::kMemberStateCount] = {};
  for (const core::Member& m : gossip_->Members()) ++counts[static_cast<int>(m.state)];
  own_.members_alive = counts[static_cast<int>(core::MemberState::kAlive)];
  own_.members_suspect = counts[static_cast<int>(core::MemberState::kSuspect)];
  own_.members_dead = counts[static_cast<int>(core::MemberState::kDead)];
  own_.members_left = counts[static_cast<int>(core::MemberState::kLeft)];
}

void Engine::AfterInput() {
  if (stopped_) return;
  // Done when the leave has spread, nobody is left to tell, or the leave timeout passed.
  if (stopping_ && (Now().mono_us >= stop_deadline_us_ || gossip_->NextTickUs() == kNever ||
                    gossip_->LiveMembers() <= 1)) {
    FinishStop();
    return;
  }
  PostFlush();
  ReportSlowAttempts();
  ScheduleTick();
  PublishMetrics();  // before any callback runs: a caller woken by a result may read them
}

void Engine::ReportSlowAttempts() {
  const uint64_t slow = lease_->proposer().stats().attempts_too_slow;
  if (slow == slow_attempts_seen_) return;
  // Loudly, but a line per kSlowAttemptLogEvery, not per attempt.
  if (slow_attempts_seen_ == 0 ||
      slow / kSlowAttemptLogEvery != slow_attempts_seen_ / kSlowAttemptLogEvery) {
    Log(LogLevel::kWarning, "lease.attempt_too_slow",
        absl::StrCat(slow, " acquire attempts so far ran their whole timeout (",
                     settings_.lease.attempt_timeout_us / 1000,
                     " ms) with voters silent: the round trip to the voters does not fit it, or "
                     "voters are down (NodeOptions::timing sets the timeout; logged at the first, "
                     "then every ",
                     kSlowAttemptLogEvery, "th)"));
  }
  slow_attempts_seen_ = slow;
}

void Engine::PostFlush() {
  if (!transport_.has_queued() || flush_posted_) return;
  flush_posted_ = true;
  // After the handlers already waiting on the strand (posted calls and network input alike):
  // what they queue for the same peers shares the datagrams, sent in one sendmmsg.
  boost::asio::post(strand_, [self = shared_from_this()] {
    self->flush_posted_ = false;
    if (self->stopped_) return;
    self->transport_.Flush();
    self->PublishMetrics();
  });
}

void Engine::ScheduleTick() {
  int64_t wake = std::min({lease_->NextTickUs(), gossip_->NextTickUs(), NextLeaseWakeUs()});
  if (stopping_) wake = std::min(wake, stop_deadline_us_);
  if (wake == kNever) return;
  if (timer_at_us_ != 0 && timer_at_us_ <= wake) return;  // an earlier wake-up is armed
  timer_at_us_ = wake;
  timer_.expires_at(std::chrono::steady_clock::time_point(std::chrono::microseconds(wake)));
  timer_.async_wait(boost::asio::bind_executor(
      strand_, [self = shared_from_this(), wake](boost::system::error_code ec) {
        if (ec || self->stopped_ || self->timer_at_us_ != wake) return;
        self->timer_at_us_ = 0;
        self->OnTimer();
        self->AfterInput();
        self->RunCallbacks();
      }));
}

void Engine::OnTimer() {
  const core::Now now = Now();
  core::Effects fx;
  lease_->OnTick(now, fx);
  Apply(fx);
  core::GossipEffects gfx;
  gossip_->OnTick(now, gfx);
  Apply(gfx);
  LeaseTimers(now);
  BreakerTimers(now);
}

void Engine::UpdateTag(const std::string& key, const std::string& value) {
  core::Tags tags = gossip_->self().tags;
  if (value.empty()) {
    if (tags.erase(key) == 0) return;
  } else {
    tags[key] = value;
  }
  core::GossipEffects gfx;
  absl::Status st = gossip_->UpdateMeta(settings_.self.voter, std::move(tags), Now(), gfx);
  if (!st.ok()) Log(LogLevel::kWarning, "tags.update_failed", std::string(st.message()));
  Apply(gfx);
}

void Engine::SetTags(core::Tags tags, absl::AnyInvocable<void(absl::Status)> done) {
  Post([this, tags = std::move(tags), done = std::move(done)]() mutable {
    // Keep the tags the engine publishes for held election terms.
    for (const auto& [request, held] : held_) {
      if (!held.publish_tag.empty()) tags[held.publish_tag] = absl::StrCat(held.state->token);
    }
    core::GossipEffects gfx;
    absl::Status st = stopping_
                          ? absl::FailedPreconditionError("the node is stopping")
                          : gossip_->UpdateMeta(settings_.self.voter, std::move(tags), Now(), gfx);
    Apply(gfx);
    Defer([done = std::move(done), st]() mutable { done(st); });
  });
}

void Engine::GetMembers(absl::AnyInvocable<void(std::vector<MemberView>)> done) {
  Post([this, done = std::move(done)]() mutable {
    std::vector<MemberView> out;
    for (const core::Member& m : gossip_->Members()) {
      MemberView v{.name = m.info.name,
                   .address = m.info.address,
                   .voter = m.info.voter,
                   .state = static_cast<MemberView::State>(m.state)};
      for (const auto& [k, val] : m.info.tags) v.tags[k] = val;
      out.push_back(std::move(v));
    }
    std::sort(out.begin(), out.end(),
              [](const MemberView& a, const MemberView& b) { return a.name < b.name; });
    Defer([done = std::move(done), out = std::move(out)]() mutable { done(std::move(out)); });
  });
}

void Engine::PublishMetrics() {
  const core::ProposerStats& p = lease_->proposer().stats();
  const core::NodeStats& n = lease_->stats();
  const DatagramCounters& t = transport_.counters();
  const core::Now now = Now();
  absl::MutexLock lock(&metrics_mu_);
  Metrics& m = metrics_;
  const Histogram latency = m.acquire_latency;
  m = own_;
  m.acquire_latency = latency;
  m.attempts = p.attempts;
  m.attempts_failed = p.failed_attempts;
  m.attempts_queued = p.attempts_parked;
  m.grants_at_release = p.release_grants;
  m.attempts_too_slow = p.attempts_too_slow;
  m.probes = p.probes;
  m.renewals = p.renewals;
  m.renewals_failed = p.renewals_failed;
  m.leases_held = held_.size();
  m.breaker_open = breaker_.open;
  static_cast<DatagramCounters&>(m) = t;
  m.send_errors += own_.send_errors;  // messages the engine could not encode
  m.dropped_voter_set_mismatch = n.dropped_voter_set_mismatch;
  m.dropped_misaddressed = n.dropped_misaddressed + gossip_->stats().dropped_misaddressed;
  m.voter = settings_.self.voter;
  if (const core::Voter* v = lease_->voter()) {
    m.quarantined = v->InQuarantine(now);
    m.quarantine_remaining_ms =
        m.quarantined ? (v->quarantine_until_us() - now.mono_us + 999) / 1000 : 0;
  }
}

Metrics Engine::GetMetrics() const {
  absl::MutexLock lock(&metrics_mu_);
  return metrics_;
}

void Engine::Stop(absl::AnyInvocable<void()> done) {
  Post([this, done = std::move(done)]() mutable {
    if (stopped_) {
      Defer(std::move(done));
      return;
    }
    stop_done_.push_back(std::move(done));
    if (stopping_) return;
    stopping_ = true;
    const core::Now now = Now();
    stop_deadline_us_ = now.mono_us + settings_.options.leave_timeout.count() * 1000;
    Log(LogLevel::kInfo, "node.stop", "leaving the cluster");
    // Waiting requests end with Cancelled; held leases go back to the voters.
    std::vector<uint64_t> requests;
    for (const auto& [request, pending] : pending_) requests.push_back(request);
    for (const auto& [request, held] : held_) requests.push_back(request);
    for (uint64_t request : requests) ReleaseNow(request, now);
    while (!deferred_.empty()) {
      Pending p = std::move(deferred_.front());
      deferred_.pop_front();
      ++own_.acquires_cancelled;
      Complete(p, absl::CancelledError("the node is stopping"));
    }
    core::GossipEffects gfx;
    if (started_) gossip_->Leave(now, gfx);
    Apply(gfx);
    if (!started_) FinishStop();
  });
}

void Engine::FinishStop() {
  if (stopped_) return;
  transport_.Flush();  // the releases and the leave announcement
  stopped_ = true;
  stopped_flag_.store(true);
  timer_.cancel();
  transport_.Close();
  PublishMetrics();
  Log(LogLevel::kInfo, "node.stopped", "socket closed");
  for (auto& d : stop_done_) Defer(std::move(d));
  stop_done_.clear();
}

}  // namespace lockmesh::runtime
