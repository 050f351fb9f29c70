// Tests that drive one Gossip by hand with crafted envelopes: bad input of every kind is
// counted and dropped without a crash or an event; tables are bounded; suspicion timeouts
// take the exact values of the formula as confirmations arrive; a join addressed by address
// only is answered; push-pull state of 500 members is split into datagrams that fit.
#include <cmath>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/core/config.h"
#include "lib/core/lease_node.h"
#include "lib/core/limits.h"
#include "lib/core/membership/gossip.h"
#include "lib/core/membership/wire_budget.h"
#include "lib/wire/codec.h"

namespace lockmesh::core {
namespace {

constexpr int64_t kSecond = 1'000'000;

MemberInfo InfoOf(const std::string& name) {
  return MemberInfo{.name = name, .address = "addr-" + name};
}

MemberUpdate Alive(const MemberInfo& info, uint64_t incarnation = 0) {
  const NodeId id = NodeIdFromName(info.name);
  return MemberUpdate{.state = MemberState::kAlive,
                      .node = id,
                      .incarnation = incarnation,
                      .from = id,
                      .info = info};
}

// One node, "self", fed by hand.
class Solo {
 public:
  explicit Solo(GossipConfig config = GossipConfig::Lan())
      : rng_(1), gossip_(config, InfoOf("self"), 0, Now{0, 0}, rng_) {}

  Gossip& g() { return gossip_; }
  GossipEffects& fx() { return fx_; }
  Now now() const { return Now{now_us_, now_us_ / 1000}; }
  void Advance(int64_t us) { now_us_ += us; }

  // Delivers `body` from member `from` (a name) addressed to us.
  void Feed(const std::string& from, MessageBody body) {
    FeedEnvelope(Envelope{NodeIdFromName(from), 0, gossip_.id(), 0, 0, std::move(body)});
  }
  void FeedEnvelope(const Envelope& env) { gossip_.OnMessage(env, now(), fx_); }
  void Tick() { gossip_.OnTick(now(), fx_); }

  // Teaches us members m-0 .. m-(n-1), alive, through push-pull replies.
  void Learn(int n, const std::function<MemberInfo(int)>& info_of = nullptr) {
    PushPullMsg chunk{.reply = true};
    for (int i = 0; i < n; ++i) {
      MemberInfo info = info_of ? info_of(i) : InfoOf("m-" + std::to_string(i));
      chunk.members.push_back(Alive(info));
      if (chunk.members.size() == kGossipUpdatesPerMessageMax || i == n - 1) {
        Feed("m-0", chunk);
        chunk.members.clear();
      }
    }
  }

 private:
  Rng rng_;
  Gossip gossip_;
  GossipEffects fx_;
  int64_t now_us_ = 0;
};

NodeId Id(const std::string& name) { return NodeIdFromName(name); }

TEST(GossipInputTest, BadInputIsCountedAndDropped) {
  Solo s;
  s.Learn(3);
  s.fx().Clear();
  const std::size_t members = s.g().Members().size();
  const GossipStats& st = s.g().stats();

  s.Feed("m-1", AcquireMsg{"r", 1, {}, 1});  // a lease message
  EXPECT_EQ(st.dropped_not_gossip, 1u);
  s.FeedEnvelope(Envelope{s.g().id(), 0, s.g().id(), 0, 0, GossipMsg{}});  // from ourselves
  s.FeedEnvelope(Envelope{0, 0, s.g().id(), 0, 0, GossipMsg{}});           // from node 0
  EXPECT_EQ(st.dropped_from_self, 2u);
  s.FeedEnvelope(Envelope{Id("m-1"), 0, Id("m-2"), 0, 0, GossipMsg{}});         // someone else's
  s.FeedEnvelope(Envelope{Id("m-1"), 0, 0, 0, 0, PingMsg{1, "addr-m-1", {}}});  // only joins
  s.FeedEnvelope(Envelope{Id("m-1"), 0, 0, 0, 0, PushPullMsg{.join = false}});  // may omit `to`
  s.Feed("m-1", PingReqMsg{1, s.g().id(), "addr-self", "addr-m-1", true, {}});  // probe ourselves
  EXPECT_EQ(st.dropped_misaddressed, 4u);
  s.Feed("m-1", PingMsg{1, "", {}});                                // nowhere to answer
  s.Feed("m-1", PingMsg{1, std::string(65, 'a'), {}});              // oversized address
  s.Feed("m-1", AckMsg{1, std::vector<MemberUpdate>(65)});          // too many updates
  s.Feed("m-1", PushPullMsg{.chunk_index = 2, .chunk_count = 2});   // bad chunk numbers
  s.Feed("m-1", PingReqMsg{1, 0, "addr-x", "addr-m-1", true, {}});  // no target
  EXPECT_EQ(st.dropped_malformed, 5u);
  EXPECT_EQ(st.messages_out, 0u);

  MemberUpdate bad_hash = Alive(InfoOf("m-9"));
  bad_hash.node = 77;
  MemberUpdate no_address = Alive(InfoOf("m-8"));
  no_address.info.address.clear();
  MemberUpdate huge_name = Alive(InfoOf(std::string(100, 'n')));
  MemberUpdate future = Alive(InfoOf("m-7"), kIncarnationMax + 1);
  MemberUpdate bad_state = Alive(InfoOf("m-6"));
  bad_state.state = static_cast<MemberState>(9);
  MemberUpdate no_accuser{.state = MemberState::kSuspect, .node = Id("m-1"), .from = 0};
  MemberUpdate forged_leave{.state = MemberState::kLeft, .node = Id("m-1"), .from = Id("m-2")};
  MemberUpdate big_tags = Alive(InfoOf("m-5"));
  for (int i = 0; i < 17; ++i) big_tags.info.tags[std::to_string(i)] = "v";
  s.Feed("m-1", GossipMsg{{bad_hash, no_address, huge_name, future, bad_state, no_accuser,
                           forged_leave, big_tags}});
  EXPECT_EQ(st.malformed_updates, 8u);

  s.Feed("m-1", GossipMsg{{MemberUpdate{
                    .state = MemberState::kDead, .node = Id("stranger"), .from = Id("m-1")}}});
  EXPECT_EQ(st.unknown_member_updates, 1u);
  // m-2 is known at incarnation 0 at addr-m-2: the same incarnation is stale news, and
  // another address for a live member is a conflict.
  s.Feed("m-1", GossipMsg{{Alive(InfoOf("m-2"), 0)}});
  EXPECT_EQ(st.stale_updates, 1u);
  MemberUpdate moved = Alive(InfoOf("m-2"), 5);
  moved.info.address = "elsewhere";
  s.Feed("m-1", GossipMsg{{moved}});
  EXPECT_EQ(st.address_conflicts, 1u);
  s.Feed("m-1", AckMsg{999, {}});
  EXPECT_EQ(st.unexpected_acks, 1u);
  s.Feed("m-1", NackMsg{999, {}});
  EXPECT_EQ(st.unexpected_nacks, 1u);

  EXPECT_TRUE(s.fx().events.empty());
  EXPECT_TRUE(s.fx().messages.empty());
  EXPECT_EQ(s.g().Members().size(), members);
  for (const Member& m : s.g().Members()) {
    EXPECT_EQ(m.state, MemberState::kAlive);
    EXPECT_EQ(m.incarnation, 0u);
  }
}

TEST(GossipInputTest, MemberTableIsBounded) {
  Solo s;
  s.Learn(static_cast<int>(kMembersMax) + 10);
  EXPECT_EQ(s.g().Members().size(), kMembersMax);
  EXPECT_EQ(s.g().stats().table_full, 11u);  // 10 beyond the bound, plus ourselves
  EXPECT_LE(s.g().broadcasts().size(), kMembersMax);
}

TEST(GossipInputTest, RelayedProbesAreBounded) {
  Solo s;
  s.Learn(2);
  for (std::size_t i = 0; i <= kIndirectProbesMax; ++i) {
    s.Feed("m-0",
           PingReqMsg{static_cast<uint32_t>(i), Id("m-1"), "addr-m-1", "addr-m-0", true, {}});
  }
  EXPECT_EQ(s.g().stats().relayed_probes, kIndirectProbesMax);
  EXPECT_EQ(s.g().stats().dropped_relay_full, 1u);
  // After a probe timeout every relay sends its nack and the table empties.
  s.fx().Clear();
  s.Advance(GossipConfig::Lan().RelayTimeoutUs());
  s.Tick();
  EXPECT_EQ(s.g().stats().nacks_sent, kIndirectProbesMax);
}

TEST(GossipInputTest, SuspicionTimeoutShrinksWithConfirmationsExactly) {
  Solo s;
  s.Learn(9);  // with ourselves: n = 10, so min = 4 s, max = 24 s, k = 2
  ASSERT_EQ(s.g().LiveMembers(), 10u);
  const GossipConfig& c = s.g().config();
  const int64_t min = c.SuspicionTimeoutMinUs(10), max = c.SuspicionTimeoutMaxUs(10);
  ASSERT_EQ(min, 4 * kSecond);
  ASSERT_EQ(max, 24 * kSecond);
  auto suspect_from = [&](const std::string& accuser) {
    s.Feed(accuser, GossipMsg{{MemberUpdate{
                        .state = MemberState::kSuspect, .node = Id("m-8"), .from = Id(accuser)}}});
  };
  s.Advance(kSecond);
  const int64_t start = s.now().mono_us;
  suspect_from("m-1");
  const Suspicion* susp = s.g().FindSuspicion(Id("m-8"));
  ASSERT_NE(susp, nullptr);
  EXPECT_EQ(susp->expected(), 2);
  EXPECT_EQ(susp->deadline_us(), start + max);

  s.Advance(kSecond);
  suspect_from("m-2");  // first independent confirmation
  const auto after_one = static_cast<int64_t>(
      std::floor(static_cast<double>(max) - (max - min) * std::log(2.0) / std::log(3.0)));
  EXPECT_EQ(susp->deadline_us(), start + after_one);
  EXPECT_EQ(s.g().broadcasts().Find(Id("m-8"))->from, Id("m-2"));  // re-gossiped

  suspect_from("m-2");  // the same member again: no change
  suspect_from("m-1");  // the accuser: no change
  EXPECT_EQ(susp->deadline_us(), start + after_one);
  suspect_from("m-3");  // second: k reached, the timeout is min
  EXPECT_EQ(susp->deadline_us(), start + min);
  suspect_from("m-4");  // beyond k: ignored
  EXPECT_EQ(susp->confirmations(), 2);
  EXPECT_EQ(s.g().stats().confirmations, 2u);

  s.fx().Clear();
  s.Advance(start + min - s.now().mono_us - 1);
  s.Tick();
  EXPECT_EQ(s.g().Find(Id("m-8"))->state, MemberState::kSuspect);
  s.Advance(1);
  s.Tick();
  EXPECT_EQ(s.g().Find(Id("m-8"))->state, MemberState::kDead);
  ASSERT_FALSE(s.fx().events.empty());
  EXPECT_EQ(s.fx().events.back().kind, MemberEvent::Kind::kDead);
  EXPECT_EQ(s.g().stats().deaths_declared, 1u);
}

TEST(GossipInputTest, WithoutLifeguardTheSuspicionTimeoutIsFixedAtMin) {
  GossipConfig config = GossipConfig::Lan();
  config.lifeguard = false;
  Solo s(config);
  s.Learn(9);
  s.Feed("m-1", GossipMsg{{MemberUpdate{
                    .state = MemberState::kSuspect, .node = Id("m-8"), .from = Id("m-1")}}});
  const Suspicion* susp = s.g().FindSuspicion(Id("m-8"));
  ASSERT_NE(susp, nullptr);
  EXPECT_EQ(susp->expected(), 0);
  EXPECT_EQ(susp->deadline_us(), s.now().mono_us + 4 * kSecond);
  s.Feed("m-2", GossipMsg{{MemberUpdate{
                    .state = MemberState::kSuspect, .node = Id("m-8"), .from = Id("m-2")}}});
  EXPECT_EQ(susp->deadline_us(), s.now().mono_us + 4 * kSecond);
  EXPECT_EQ(s.g().stats().confirmations, 0u);
}

TEST(GossipInputTest, AJoinAddressedByAddressOnlyIsAnswered) {
  Solo s;
  s.Learn(2);
  s.fx().Clear();
  const MemberInfo joiner = InfoOf("newcomer");
  s.FeedEnvelope(Envelope{Id("newcomer"), 0, /*to=*/0, 0, 0,
                          PushPullMsg{.join = true, .members = {Alive(joiner)}}});
  ASSERT_FALSE(s.fx().messages.empty());
  for (const Outgoing& out : s.fx().messages) {
    EXPECT_EQ(out.to_address, joiner.address);
    EXPECT_EQ(out.envelope.to, Id("newcomer"));
    const auto* pp = std::get_if<PushPullMsg>(&out.envelope.body);
    ASSERT_NE(pp, nullptr);
    EXPECT_TRUE(pp->reply);
  }
  EXPECT_TRUE(s.g().LooksAlive(Id("newcomer")));
  EXPECT_EQ(s.fx().events.back().kind, MemberEvent::Kind::kJoined);
}

// Asks `s` for its full state and checks the reply: chunks within a datagram through the
// real codec, every member exactly once, ourselves first.
void ExpectStateSplitIntoDatagrams(Solo& s, std::size_t members, std::size_t chunks_min) {
  s.fx().Clear();
  const std::vector<Member> all = s.g().Members();
  const Member& asker = all.front().id == s.g().id() ? all.back() : all.front();
  s.FeedEnvelope(
      Envelope{asker.id, 0, s.g().id(), 0, 0, PushPullMsg{.members = {Alive(asker.info)}}});
  const std::vector<Outgoing>& out = s.fx().messages;
  ASSERT_GE(out.size(), chunks_min);
  std::set<NodeId> seen;
  for (std::size_t i = 0; i < out.size(); ++i) {
    const auto& pp = std::get<PushPullMsg>(out[i].envelope.body);
    EXPECT_EQ(pp.chunk_index, i);
    EXPECT_EQ(pp.chunk_count, out.size());
    if (i == 0) {
      EXPECT_EQ(pp.members.front().node, s.g().id());
    }
    absl::StatusOr<std::string> bytes = wire::Encode(out[i].envelope);
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    EXPECT_LE(bytes->size(), kDatagramBytesMax);
    absl::StatusOr<Envelope> back = wire::Decode(*bytes);
    ASSERT_TRUE(back.ok()) << back.status();
    for (const MemberUpdate& u : std::get<PushPullMsg>(back->body).members) {
      EXPECT_TRUE(seen.insert(u.node).second);
    }
  }
  EXPECT_EQ(seen.size(), members);
  std::cout << members << " members: " << out.size() << " push-pull datagrams\n";
}

TEST(GossipInputTest, PushPullOfFiveHundredMembersIsSplitIntoDatagrams) {
  Solo s;
  s.Learn(499, [](int i) {
    MemberInfo info = InfoOf("member-" + std::to_string(i) + ".dc1.example.internal");
    info.voter = i < 5;
    info.tags = {{"zone", "eu-" + std::to_string(i % 3)}, {"rack", std::to_string(i % 40)}};
    return info;
  });
  ASSERT_EQ(s.g().LiveMembers(), 500u);
  ExpectStateSplitIntoDatagrams(s, 500, 20);
}

TEST(GossipInputTest, PushPullOfFiveHundredLargestMembersIsSplitIntoDatagrams) {
  Solo s;
  s.Learn(499, [](int i) {
    std::string name = "m-" + std::to_string(i);
    MemberInfo info{.name = name + std::string(kMemberNameBytesMax - name.size(), 'x'),
                    .address = std::string(kMemberAddressBytesMax, 'a'),
                    .voter = true};
    // A unique address per member: equal addresses would be fine, but look odd.
    info.address.replace(0, name.size(), name);
    for (std::size_t t = 0; t < kMemberTagsMax; ++t) {
      info.tags[std::string(1, static_cast<char>('a' + t)) + std::string(7, 'k')] =
          std::string(kMemberTagsBytesMax / kMemberTagsMax - 8, '\xff');
    }
    return info;
  });
  ASSERT_EQ(s.g().Members().size(), 500u);
  ExpectStateSplitIntoDatagrams(s, 500, 100);
}

TEST(GossipInputTest, NextTickIsAlwaysSetUntilLeaveCompletes) {
  Solo s;
  EXPECT_LT(s.g().NextTickUs(), std::numeric_limits<int64_t>::max());
  s.Learn(2);
  s.g().Leave(s.now(), s.fx());
  EXPECT_TRUE(s.g().left());
  EXPECT_FALSE(s.g().broadcasts().empty());
  for (int i = 0; i < 100 && s.g().NextTickUs() != std::numeric_limits<int64_t>::max(); ++i) {
    s.Advance(s.g().NextTickUs() - s.now().mono_us);
    s.Tick();
  }
  EXPECT_EQ(s.g().NextTickUs(), std::numeric_limits<int64_t>::max());
  // A leaving node is not talked back into the cluster.
  s.Feed("m-1", GossipMsg{{Alive(InfoOf("self"), 100)}});
  EXPECT_TRUE(s.g().left());
  EXPECT_EQ(s.g().Find(s.g().id())->state, MemberState::kLeft);
}

TEST(GossipInputTest, ANodeThatSleptThroughItsProbeStillAsksRelays) {
  Solo s;
  s.Learn(3);
  s.fx().Clear();
  // Tick until the first probe goes out.
  while (s.g().stats().probes == 0) {
    s.Advance(s.g().NextTickUs() - s.now().mono_us);
    s.Tick();
  }
  const NodeId target = std::get_if<PingMsg>(&s.fx().messages.back().envelope.body) != nullptr
                            ? s.fx().messages.back().envelope.to
                            : 0;
  ASSERT_NE(target, 0u);
  s.fx().Clear();
  // Paused for 5 s: past the direct timeout and the end of the probe at once.
  s.Advance(5 * kSecond);
  s.Tick();
  int ping_reqs = 0;
  for (const Outgoing& out : s.fx().messages) {
    ping_reqs += std::holds_alternative<PingReqMsg>(out.envelope.body) ? 1 : 0;
  }
  EXPECT_EQ(ping_reqs, 2);  // the two other members
  EXPECT_EQ(s.g().Find(target)->state, MemberState::kAlive);
  // Without any answer within the relays' window, the target becomes suspect.
  const GossipConfig& c = s.g().config();
  s.Advance(c.probe_interval_us - c.probe_timeout_us);
  s.Tick();
  EXPECT_EQ(s.g().Find(target)->state, MemberState::kSuspect);
}

TEST(GossipInputTest, LeaseNodeIgnoresMembershipMessages) {
  LeaseConfig config;
  config.voters = {1, 2, 3};
  config.self = 1;
  Rng rng(1);
  LeaseNode node(config, 0, StartMode::kBootstrap, Now{0, 0}, rng);
  Effects fx;
  node.OnMessage(Envelope{2, 0, 1, 0, 0, PingMsg{1, "addr-2", {}}}, Now{0, 0}, fx);
  node.OnMessage(Envelope{2, 0, 1, 0, 0, PushPullMsg{}}, Now{0, 0}, fx);
  EXPECT_EQ(node.stats().ignored_gossip, 2u);
  EXPECT_EQ(node.stats().dropped_voter_set_mismatch, 0u);
  EXPECT_TRUE(fx.messages.empty());
  EXPECT_TRUE(fx.events.empty());
}

}  // namespace
}  // namespace lockmesh::core
