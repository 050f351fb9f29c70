#include "sim/simulation.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <variant>

#include "absl/strings/str_format.h"
#include "lib/core/check.h"
#include "lib/wire/codec.h"
#include "sim/fairness.h"
#include "sim/simulation_internal.h"
#include "sim/timeline.h"

namespace lockmesh::sim {
namespace {

constexpr uint64_t kFnvPrime = 0x100000001b3ULL;
constexpr int64_t kPollUs = 100'000;
// Simulated wall clocks start here (1000 s) so tokens read short.
constexpr int64_t kWallStartUs = 1'000'000'000;

}  // namespace

uint64_t RunStats::MessagesSent() const {
  uint64_t n = 0;
  for (uint64_t s : sent) n += s;
  return n;
}

std::string FormatTime(int64_t us) { return absl::StrFormat("%9.3fs", us / 1e6); }

Simulation::Simulation(Scenario scenario, uint64_t seed, std::ostream* narrate)
    : scenario_(std::move(scenario)),
      seed_(seed),
      narrate_(narrate),
      rng_(seed),
      hash_(0xcbf29ce484222325ULL ^ seed),
      datagrams_(std::make_unique<Slots<Datagram>>()),
      writes_(std::make_unique<Slots<PendingWrite>>()),
      network_(scenario_.Nodes()),
      net_(scenario_.net) {
  const int n = scenario_.Nodes();
  std::vector<core::NodeId> voters;
  for (int i = 0; i < n; ++i) {
    auto node = std::make_unique<Node>();
    node->index = i;
    node->id = core::NodeIdFromName(absl::StrCat("n", i));
    index_of_[node->id] = i;
    if (i < scenario_.voters) voters.push_back(node->id);
    nodes_.push_back(std::move(node));
  }
  for (auto& node : nodes_) {
    node->config = scenario_.timing;
    node->config.voters = voters;
    node->config.self = node->id;
    const int64_t drift = rng_.Between(-scenario_.drift_ppm_max, scenario_.drift_ppm_max);
    const int64_t skew = rng_.Between(-scenario_.wall_skew_us_max, scenario_.wall_skew_us_max);
    node->clock = SimClock(kWallStartUs + skew, rng_.Between(1'000'000, 1'000'000'000));
    node->clock.SetDriftPpm(0, drift);
    node->base_drift_ppm = drift;
    NoteWallOffset(*node);
  }
  for (const Action& a : scenario_.actions) {
    if (a.kind == Action::Kind::kStart) nodes_[a.target.node]->start_late = true;
  }
  for (auto& node : nodes_) {
    index_of_address_[node->Name()] = node->index;
    if (node->start_late) {
      node->up = false;
      node->incarnation = 0;
    } else {
      StartNode(*node, core::StartMode::kBootstrap);
    }
  }
  checker_ = std::make_unique<Checker>(Checker::Options{
      .rates_in_bound = !scenario_.ClockOutOfBound(),
      .quiet_us = scenario_.QuietUs(),
      .liveness_bound_us = scenario_.LivenessBoundUs(),
      .progress_bound_us = scenario_.ProgressBoundUs(),
      .judge_progress = scenario_.judge_progress,
      .valid =
          [this](int node, int64_t deadline_us) {
            const Node& nd = *nodes_[node];
            return nd.up && nd.clock.MonoUs(now_) < deadline_us;
          },
      .can_progress = [this](int node) { return CanProgress(node); },
  });
  // F1 is promised without faults: a network that loses, duplicates or straggles from the
  // start is one, and a head whose notice was lost is skipped by design.
  const bool faulty_from_start =
      scenario_.net.loss > 0 || scenario_.net.duplicate > 0 || scenario_.net.tail > 0;
  fairness_ = std::make_unique<Fairness>(
      faulty_from_start           ? 0
      : scenario_.actions.empty() ? std::numeric_limits<int64_t>::max()
                                  : scenario_.actions.front().at_us,
      [this](const std::string& resource, core::NodeId node, core::Ballot ticket) {
        for (const auto& n : nodes_) {
          if (n->config.VoterIndex(n->id) < 0) continue;
          // A voter that is down queues nothing (an up node always has its core).
          if (!n->up || !n->core->voter()->Queued(resource, node, ticket)) return false;
        }
        return true;
      });
  int client_id = 0;
  for (auto& node : nodes_) {
    for (int c = 0; c < scenario_.clients_per_node; ++c) {
      auto client = std::make_unique<Client>();
      client->id = client_id++;
      client->node = node->index;
      node->clients.push_back(client->id);
      clients_.push_back(std::move(client));
    }
  }
}

Simulation::~Simulation() = default;

void Simulation::Hash(uint64_t value) {
  // A word at a time: the trace hash is computed for every event and datagram.
  hash_ = (hash_ ^ value) * kFnvPrime;
  hash_ ^= hash_ >> 29;
}

void Simulation::HashBytes(absl::string_view bytes) {
  std::size_t i = 0;
  for (; i + 8 <= bytes.size(); i += 8) {
    uint64_t word;
    std::memcpy(&word, bytes.data() + i, 8);
    Hash(word);
  }
  uint64_t tail = bytes.size();
  for (; i < bytes.size(); ++i) tail = (tail << 8) | static_cast<uint8_t>(bytes[i]);
  Hash(tail);
}

void Simulation::Push(Event event) {
  event.seq = seq_++;
  queue_.push_back(std::move(event));
  std::push_heap(queue_.begin(), queue_.end(), std::greater<>{});
}

RunResult Simulation::Run() {
  if (!scenario_.description.empty()) {
    Say("scenario ", scenario_.name, ": ", scenario_.description);
  }
  Say(scenario_.voters, " voters, ", scenario_.members, " other members, ",
      scenario_.clients_per_node, " client(s) per node, lease ", scenario_.lease_us / 1000,
      "ms, seed ", seed_);
  if (timeline_ != nullptr) {
    timeline_->NetworkChanged(0, network_);
    for (const auto& node : nodes_) {
      if (!node->up) timeline_->NodeDown(0, node->index, "not started");
    }
  }
  for (auto& node : nodes_) {
    Reschedule(*node);
    StartClients(*node);
  }
  for (std::size_t i = 0; i < scenario_.actions.size(); ++i) {
    Push(Event{.at = scenario_.actions[i].at_us,
               .index = static_cast<int32_t>(i),
               .kind = EventKind::kAction});
  }
  Push(Event{.at = scenario_.QuietUs(), .kind = EventKind::kQuiet});
  Push(Event{.at = 0, .kind = EventKind::kPoll});  // L2 and the fault-time measures from the start
  while (!queue_.empty()) {
    std::pop_heap(queue_.begin(), queue_.end(), std::greater<>{});
    Event event = std::move(queue_.back());
    queue_.pop_back();
    if (event.at > scenario_.run_us) break;
    LM_CHECK(event.at >= now_);
    now_ = event.at;
    ++stats_.events;
    Hash(static_cast<uint64_t>(now_));
    Hash(static_cast<uint64_t>(event.kind) << 32 | static_cast<uint32_t>(event.node));
    Process(event);
  }
  now_ = scenario_.run_us;
  stats_.virtual_us = now_;
  if (timeline_ != nullptr) timeline_->Finish(now_);
  for (const auto& node : nodes_) NoteWallOffset(*node);
  RunResult result;
  result.rates_in_bound = !scenario_.ClockOutOfBound();
  result.wall_offset_us_max = wall_offset_us_max_;
  result.walls_in_bound = wall_offset_us_max_ <= scenario_.timing.quarantine_us / 4;
  checker_->Finish(result.walls_in_bound);
  result.tokens_out_of_order = checker_->tokens_out_of_order();
  result.violations = checker_->violations();
  result.trace_hash = hash_;
  result.stats = stats_;
  result.worst_wait_after_quiet_us = checker_->worst_wait_after_quiet_us();
  result.worst_progress_gap_us = checker_->worst_progress_gap_us();
  result.progress_judged = scenario_.judge_progress;
  result.worst_gap_during_faults_us = checker_->worst_gap_during_faults_us();
  result.handoff_gaps_us = checker_->handoff_gaps_us();
  result.fairness_grants_judged = fairness_->judged();
  result.fairness_grants_contested = fairness_->contested();
  result.store = store_.registers();
  return result;
}

bool Simulation::Deferred(Node& node, Event& event) {
  if (!node.Paused(now_)) return false;
  // A paused process handles nothing; what arrives waits in its socket buffer.
  node.held.push_back(std::move(event));
  return true;
}

void Simulation::ReleaseHeld(Node& node) {
  std::vector<Event> held = std::move(node.held);
  node.held.clear();
  for (Event& event : held) {
    event.at = now_;
    Push(std::move(event));
  }
}

bool Simulation::Healthy(const Node& node) const {
  return node.up && !node.Paused(now_) && node.slow_us == 0;
}

bool Simulation::CanProgress(int index) const {
  // L2's premise (sim/checker.h): clocks and network inside what the timing
  // assumes, the node itself healthy, and a majority of voters that can accept
  // and that it talks to both ways.
  if (scenario_.ClockOutOfBound() || net_.loss > 0 || net_.tail > 0 ||
      2 * net_.delay_us_max >= scenario_.timing.attempt_timeout_us) {
    return false;
  }
  const Node& node = *nodes_[index];
  if (!Healthy(node)) return false;
  int voters = 0;
  for (int v = 0; v < scenario_.voters; ++v) {
    const Node& voter = *nodes_[v];
    if (!Healthy(voter) || voter.core->voter()->InQuarantine(voter.Now(now_))) continue;
    if (v != index && !(network_.CanReach(index, v) && network_.CanReach(v, index))) continue;
    ++voters;
  }
  return voters > scenario_.voters / 2;
}

void Simulation::NoteWallOffset(const Node& node) {
  const int64_t offset = node.clock.WallMs(now_) * 1000 - (kWallStartUs + now_);
  wall_offset_us_max_ = std::max(wall_offset_us_max_, std::abs(offset));
}

void Simulation::Process(Event& event) {
  switch (event.kind) {
    case EventKind::kDeliver:
      return Deliver(event);
    case EventKind::kTick: {
      Node& node = *nodes_[event.node];
      if (!node.up || event.gen != node.tick_gen || node.Paused(now_)) return;
      node.tick_at = -1;
      return TickNode(node);
    }
    case EventKind::kAction:
      ++stats_.faults;
      return ApplyAction(scenario_.actions[event.index]);
    case EventKind::kQuiet:
      return Quiet();
    case EventKind::kResume: {
      Node& node = *nodes_[event.node];
      // A pause cut short (faults stopped) or lengthened leaves stale resumes.
      if (!node.up || node.Paused(now_) || event.at != node.paused_until) return;
      Say(node.Name(), " resumes after its pause");
      if (timeline_ != nullptr) timeline_->Resumed(now_, node.index);
      ReleaseHeld(node);
      return TickNode(node);
    }
    case EventKind::kClient: {
      Client& client = *clients_[event.index];
      Node& node = *nodes_[client.node];
      if (event.gen != client.gen || !node.up) return;
      if (Deferred(node, event)) return;
      return ClientStep(client);
    }
    case EventKind::kClientWrite:
      return ClientWrite(event);
    case EventKind::kPoll:
      checker_->Poll(now_);
      Push(Event{.at = now_ + kPollUs, .kind = EventKind::kPoll});
      return;
  }
}

void Simulation::Deliver(Event& event) {
  Node& node = *nodes_[event.node];
  if (!node.up) {
    ++stats_.dropped_down;
    datagrams_->Free(event.index);
    return;
  }
  if (Deferred(node, event)) return;
  if (HeldBackBySlowness(node, event)) return;
  const Datagram datagram = std::move((*datagrams_)[event.index]);
  datagrams_->Free(event.index);
  HashBytes(datagram.bytes);
  absl::StatusOr<core::Envelope> envelope = wire::Decode(datagram.bytes);
  if (!envelope.ok()) {
    ++stats_.decode_errors;
    return;
  }
  if (trace_messages_) {
    Say("  n", datagram.from, " -> ", node.Name(), ": ", core::DescribeMessage(envelope->body));
  }
  if (core::IsGossipMessage(envelope->body)) return DeliverGossip(node, *envelope);
  if (const auto* acquire = std::get_if<core::AcquireMsg>(&envelope->body)) {
    fairness_->OnAcquire(now_, acquire->resource, acquire->owner, acquire->ticket);
  }
  core::Effects fx;
  node.core->OnMessage(*envelope, node.Now(now_), fx);
  AfterCore(node, fx);
}

void Simulation::TickNode(Node& node) {
  core::Effects fx;
  node.core->OnTick(node.Now(now_), fx);
  AfterCore(node, fx);
  if (node.gossip) {
    core::GossipEffects gfx;
    node.gossip->OnTick(node.Now(now_), gfx);
    AfterGossip(node, gfx);
  }
}

bool Simulation::HeldBackBySlowness(const Node& node, Event& event) {
  if (node.slow_us <= 0 || event.delayed) return false;
  // A CPU-starved process: every datagram waits in its queue before it is
  // handled, while its timers still fire on time.
  event.delayed = true;
  event.at = now_ + rng_.Between(node.slow_us / 2, node.slow_us);
  Push(std::move(event));
  return true;
}

void Simulation::SendDatagram(const Node& from, int to, const core::Envelope& envelope) {
  absl::StatusOr<std::string> bytes = wire::Encode(envelope);
  LM_CHECK(bytes.ok());  // the core only builds messages the codec can carry
  if (const auto* acquire = std::get_if<core::AcquireMsg>(&envelope.body)) {
    fairness_->OnAcquire(now_, acquire->resource, acquire->owner, acquire->ticket);
  }
  ++stats_.sent[envelope.body.index()];
  stats_.bytes_by_kind[envelope.body.index()] += bytes->size();
  stats_.bytes_sent += bytes->size();
  if (!network_.CanReach(from.index, to)) {
    ++stats_.dropped_partition;
    return;
  }
  std::vector<int64_t> delays = network_.Fate(net_, rng_);
  if (delays.empty()) ++stats_.lost;
  if (delays.size() > 1) ++stats_.duplicated;
  for (int64_t d : delays) {
    Push(Event{.at = now_ + d,
               .node = to,
               .index = datagrams_->Put(Datagram{from.index, *bytes}),
               .kind = EventKind::kDeliver});
  }
}

void Simulation::AfterCore(Node& node, core::Effects& fx) {
  for (const core::Envelope& message : fx.messages) {
    auto to = index_of_.find(message.to);
    LM_CHECK(to != index_of_.end());
    SendDatagram(node, to->second, message);
  }
  for (const core::LeaseEvent& event : fx.events) OnLeaseEvent(node, event);
  Reschedule(node);
}

void Simulation::Reschedule(Node& node) {
  if (!node.up) return;
  int64_t next = node.core->NextTickUs();
  if (node.gossip) next = std::min(next, node.gossip->NextTickUs());
  if (next == std::numeric_limits<int64_t>::max()) {
    ++node.tick_gen;
    node.tick_at = -1;
    return;
  }
  const int64_t at = node.clock.TrueTimeAt(next, now_);
  if (at == node.tick_at) return;
  node.tick_at = at;
  Push(Event{.at = at, .gen = ++node.tick_gen, .node = node.index, .kind = EventKind::kTick});
}

int Simulation::Resolve(const Target& target) const {
  if (target.node != Target::kHolder) return target.node;
  for (int r = 0; r < scenario_.resources; ++r) {
    const int holder = checker_->ValidHolder(absl::StrCat("res-", r));
    if (holder >= 0) return holder;
  }
  return 0;
}

void Simulation::Crash(int index) {
  Node& node = *nodes_[index];
  if (!node.up) return;
  Say(node.Name(), " crashes and loses its memory");
  if (timeline_ != nullptr) timeline_->NodeDown(now_, index, "crashed");
  node.up = false;
  node.core.reset();
  node.gossip.reset();
  node.paused_until = 0;
  ReleaseHeld(node);  // each is dropped as it comes: the node is down
  node.client_of_request.clear();
  checker_->OnNodeCrashed(index);
  for (int c : node.clients) {
    Client& client = *clients_[c];
    if (client.state == Client::State::kWaiting) {
      checker_->OnWaitEnd(client.resource, index, now_, /*gave_up=*/false);
    }
    client.state = Client::State::kIdle;
    ++client.gen;
  }
}

void Simulation::StartNode(Node& node, core::StartMode mode) {
  node.up = true;
  node.rng = std::make_unique<core::Rng>(rng_.Next());
  node.core = std::make_unique<core::LeaseNode>(node.config, node.incarnation, mode, node.Now(now_),
                                                *node.rng);
  if (scenario_.gossip) StartGossip(node);
}

void Simulation::Restart(int index) {
  Node& node = *nodes_[index];
  if (node.up) return;
  ++node.incarnation;
  StartNode(node, core::StartMode::kRestart);
  if (timeline_ != nullptr) timeline_->NodeUp(now_, index);
  const core::Voter* voter = node.core->voter();
  Say(node.Name(), " restarts (incarnation ", node.incarnation, ")",
      voter != nullptr && voter->InQuarantine(node.Now(now_))
          ? absl::StrCat(", in quarantine for ", node.config.quarantine_us / 1000, "ms")
          : std::string());
  Reschedule(node);
  StartClients(node);
}

void Simulation::Pause(int index, int64_t length_us) {
  Node& node = *nodes_[index];
  if (!node.up) return;
  node.paused_until = std::max(node.paused_until, now_ + length_us);
  Say(node.Name(), " pauses for ", length_us / 1000, "ms (time runs on)");
  if (timeline_ != nullptr) timeline_->Paused(now_, index, node.paused_until);
  Push(Event{.at = node.paused_until, .node = index, .kind = EventKind::kResume});
}

void Simulation::ApplyAction(const Action& action) {
  using Kind = Action::Kind;
  const int target = Resolve(action.target);
  const int n = scenario_.Nodes();
  Say("fault: ", ActionText(action),
      action.target.node == Target::kHolder ? absl::StrCat(" (n", target, ")") : "");
  if (timeline_ != nullptr) timeline_->FaultApplied(now_, action, target);
  switch (action.kind) {
    case Kind::kPartitionHalves: {
      std::vector<int> order(n);
      for (int i = 0; i < n; ++i) order[i] = i;
      network_.Halves(order);
      break;
    }
    case Kind::kPartitionRandomHalves: {
      std::vector<int> order(n);
      for (int i = 0; i < n; ++i) order[i] = i;
      for (int i = n - 1; i > 0; --i) std::swap(order[i], order[rng_.Uniform(i + 1)]);
      network_.Halves(order);
      break;
    }
    case Kind::kPartitionIsolate:
      network_.Isolate(target);
      break;
    case Kind::kPartitionRing:
      network_.Ring();
      break;
    case Kind::kPartitionBridge:
      network_.Bridge();
      break;
    case Kind::kCutInbound:
      network_.CutInbound(target);
      break;
    case Kind::kCutOutbound:
      network_.CutOutbound(target);
      break;
    case Kind::kHeal:
      network_.Heal();
      break;
    case Kind::kCrash:
      Crash(target);
      break;
    case Kind::kRestart:
      Restart(target);
      break;
    case Kind::kCrashAll:
      for (int i = 0; i < n; ++i) Crash(i);
      break;
    case Kind::kCrashMajority: {
      // Jepsen's "kill a majority": the voters other than the holder first, so a
      // voter set that forgets a live lease is what this fault produces.
      const int holder = Resolve(Target{Target::kHolder});
      std::vector<int> order;
      for (int i = 0; i < scenario_.voters; ++i) {
        if (i != holder) order.push_back(i);
      }
      for (int i = static_cast<int>(order.size()) - 1; i > 0; --i) {
        std::swap(order[i], order[rng_.Uniform(i + 1)]);
      }
      if (holder < scenario_.voters) order.push_back(holder);
      for (int i = 0; i < scenario_.voters / 2 + 1; ++i) Crash(order[i]);
      break;
    }
    case Kind::kRestartAll:
      for (int i = 0; i < n; ++i) Restart(i);
      break;
    case Kind::kPause: {
      // The GC-pause story: when the target holds a lease, it pauses in the
      // middle of a fenced update (after its read, before its write).
      bool staged = false;
      for (int c : nodes_[target]->clients) {
        Client& client = *clients_[c];
        if (client.state == Client::State::kHolding && !staged) {
          client.pause_after_read_us = action.value;
          staged = true;
        }
      }
      if (!staged) Pause(target, action.value);
      break;
    }
    case Kind::kDrift:
      NoteWallOffset(*nodes_[target]);
      nodes_[target]->clock.SetDriftPpm(now_, action.value);
      Reschedule(*nodes_[target]);
      break;
    case Kind::kClockJump:
      NoteWallOffset(*nodes_[target]);
      nodes_[target]->clock.JumpWall(now_, action.value);
      NoteWallOffset(*nodes_[target]);
      break;
    case Kind::kLoss:
      net_.loss = action.p;
      break;
    case Kind::kDuplicate:
      net_.duplicate = action.p;
      break;
    case Kind::kDelay:
      net_.delay_us_min = action.value;
      net_.delay_us_max = action.value2;
      break;
    case Kind::kTail:
      net_.tail = action.p;
      net_.tail_us_max = action.value;
      break;
    case Kind::kSlow:
      nodes_[target]->slow_us = action.value;
      break;
    case Kind::kStart:
      Restart(target);
      break;
  }
  if (action.kind <= Kind::kHeal && network_.Partitioned()) {
    Say("network: ", network_.Describe());
  }
  if (timeline_ != nullptr && action.kind <= Kind::kHeal) timeline_->NetworkChanged(now_, network_);
}

void Simulation::Quiet() {
  Say("faults stop: heal, restart the crashed, resume the paused, clocks back in bound");
  quiet_ = true;
  network_.Heal();
  if (timeline_ != nullptr) {
    timeline_->Quiet(now_);
    timeline_->NetworkChanged(now_, network_);
  }
  net_ = scenario_.net;
  for (auto& node : nodes_) {
    node->slow_us = 0;
    if (!node->up) Restart(node->index);
    if (node->Paused(now_)) {
      node->paused_until = now_;
      Push(Event{.at = now_, .node = node->index, .kind = EventKind::kResume});
    }
    if (node->clock.drift_ppm() != node->base_drift_ppm) {
      NoteWallOffset(*node);
      node->clock.SetDriftPpm(now_, node->base_drift_ppm);
      Reschedule(*node);
    }
  }
  for (auto& client : clients_) client->pause_after_read_us = 0;
}

}  // namespace lockmesh::sim
