#include "tests/core/membership/gossip_net.h"

#include <algorithm>
#include <limits>

#include "gtest/gtest.h"
#include "lib/core/limits.h"
#include "lib/wire/codec.h"

namespace lockmesh::core::testing {
namespace {

constexpr int64_t kNever = std::numeric_limits<int64_t>::max();
// More steps than this at one instant means a node keeps asking for a tick it does not
// consume: a bug, reported rather than spun on.
constexpr int kStepsPerInstantMax = 100'000;

}  // namespace

GossipNet::GossipNet(GossipConfig config, uint64_t seed, int64_t latency_us)
    : config_(config), seed_(seed), latency_us_(latency_us) {}

int GossipNet::Add(std::string name, uint64_t incarnation) {
  const int i = size();
  if (name.empty()) name = "node-" + std::to_string(i);
  Node node;
  uint64_t state = seed_ * 1'000'003 + static_cast<uint64_t>(i);
  node.rng = std::make_unique<Rng>(SplitMix64(state));
  node.name = name;
  node.gossip = std::make_unique<Gossip>(config_, MemberInfo{.name = name, .address = Address(i)},
                                         incarnation, NowOf(), *node.rng);
  nodes_.push_back(std::move(node));
  by_address_[Address(i)] = i;
  return i;
}

void GossipNet::Restart(int i, uint64_t incarnation) {
  Node& node = nodes_[i];
  node.gossip =
      std::make_unique<Gossip>(config_, MemberInfo{.name = node.name, .address = Address(i)},
                               incarnation, NowOf(), *node.rng);
  node.up = true;
}

int GossipNet::IndexOf(NodeId id) const {
  for (int i = 0; i < size(); ++i) {
    if (Id(i) == id) return i;
  }
  return -1;
}

void GossipNet::Do(int i, const std::function<void(Gossip&, Now, GossipEffects&)>& input) {
  GossipEffects fx;
  input(*nodes_[i].gossip, NowOf(), fx);
  Route(i, fx);
}

void GossipNet::Join(int i, const std::vector<int>& seeds) {
  std::vector<std::string> addresses;
  for (int s : seeds) addresses.push_back(Address(s));
  Do(i,
     [&](Gossip& g, Now now, GossipEffects& fx) { EXPECT_TRUE(g.Join(addresses, now, fx).ok()); });
}

void GossipNet::Inject(int from, int to, MessageBody body) {
  Envelope env{Id(from), (*this)[from].incarnation(), Id(to), 0, 0, std::move(body)};
  GossipEffects fx;
  nodes_[to].gossip->OnMessage(env, NowOf(), fx);
  Route(to, fx);
}

void GossipNet::Route(int from, GossipEffects& fx) {
  for (const MemberEvent& event : fx.events) events_.push_back({now_, from, event});
  for (const Outgoing& out : fx.messages) {
    absl::StatusOr<std::string> bytes = wire::Encode(out.envelope);
    if (!bytes.ok()) {
      ++encode_failures_;
      ADD_FAILURE() << "encode failed: " << bytes.status() << " for "
                    << DescribeMessage(out.envelope.body);
      continue;
    }
    EXPECT_LE(bytes->size(), kDatagramBytesMax);
    max_bytes_ = std::max(max_bytes_, bytes->size());
    auto it = by_address_.find(out.to_address);
    const int to = it == by_address_.end() ? -1 : it->second;
    sent_.push_back(
        SentRecord{now_, from, to, out.envelope.body.index(), out.envelope, bytes->size()});
    if (to < 0) continue;
    if (drop_ && drop_(from, to, out.envelope)) continue;
    const int64_t at = now_ + latency_us_ + nodes_[to].inbound_delay_us;
    queue_.emplace(std::make_pair(at, order_++), Pending{from, to, *std::move(bytes)});
  }
  fx.Clear();
}

void GossipNet::Deliver(const Pending& p) {
  if (!nodes_[p.to].up) return;
  absl::StatusOr<Envelope> env = wire::Decode(p.bytes);
  ASSERT_TRUE(env.ok()) << env.status();
  GossipEffects fx;
  nodes_[p.to].gossip->OnMessage(*env, NowOf(), fx);
  Route(p.to, fx);
}

int64_t GossipNet::NextTick() const {
  int64_t next = kNever;
  for (const Node& node : nodes_) {
    if (node.up) next = std::min(next, node.gossip->NextTickUs());
  }
  return next;
}

void GossipNet::RunUntil(int64_t t) {
  RunUntil([] { return false; }, t);
}

bool GossipNet::RunUntil(const std::function<bool()>& done, int64_t deadline) {
  int steps_at_instant = 0;
  while (!done()) {
    const int64_t next_message = queue_.empty() ? kNever : queue_.begin()->first.first;
    const int64_t next_tick = NextTick();
    const int64_t next = std::min(next_message, next_tick);
    if (next > deadline) {
      now_ = std::max(now_, deadline);
      return false;
    }
    steps_at_instant = next > now_ ? 0 : steps_at_instant + 1;
    if (steps_at_instant > kStepsPerInstantMax) {
      ADD_FAILURE() << "no progress at t=" << now_;
      return false;
    }
    now_ = std::max(now_, next);
    if (next_message <= next_tick) {
      const Pending p = std::move(queue_.begin()->second);
      queue_.erase(queue_.begin());
      Deliver(p);
      continue;
    }
    for (int i = 0; i < size(); ++i) {
      if (nodes_[i].up && nodes_[i].gossip->NextTickUs() <= now_) {
        Do(i, [](Gossip& g, Now now, GossipEffects& fx) { g.OnTick(now, fx); });
      }
    }
  }
  return true;
}

std::vector<MemberEvent::Kind> GossipNet::EventsAbout(int observer, int subject) const {
  std::vector<MemberEvent::Kind> out;
  for (const EventRecord& r : events_) {
    if (r.observer == observer && r.event.node == Id(subject)) out.push_back(r.event.kind);
  }
  return out;
}

std::optional<MemberState> GossipNet::StateOf(int observer, int subject) const {
  const Member* m = nodes_[observer].gossip->Find(Id(subject));
  if (m == nullptr) return std::nullopt;
  return m->state;
}

bool GossipNet::AllSee(int subject, MemberState state) const {
  for (int i = 0; i < size(); ++i) {
    if (i == subject || !nodes_[i].up) continue;
    if (StateOf(i, subject) != state) return false;
  }
  return true;
}

bool GossipNet::Converged() const {
  for (int i = 0; i < size(); ++i) {
    if (!nodes_[i].up) continue;
    for (int j = 0; j < size(); ++j) {
      const std::optional<MemberState> s = StateOf(i, j);
      if (nodes_[j].up ? s != MemberState::kAlive
                       : (s == MemberState::kAlive || s == MemberState::kSuspect)) {
        return false;
      }
    }
  }
  return true;
}

}  // namespace lockmesh::core::testing
