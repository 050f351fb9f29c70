// File: voter_fixture.h
//
// The fixture of the voter tests: one Voter fed by hand on a fixed clock, an
// Outbox that records what it sends, and helpers that send one message and
// return the single reply.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "lib/core/lease/voter.h"
#include "tests/core/printers.h"

namespace lockmesh::core::voter_testing {

inline constexpr int64_t kWallMs = 1'700'000'000'000;
inline constexpr int64_t kD = 5'000'000;  // lease duration used by most tests
inline constexpr int64_t kNever = std::numeric_limits<int64_t>::max();

inline Ballot B(int64_t ms_after_base, uint64_t logical = 0) {
  return (static_cast<uint64_t>(kWallMs + ms_after_base) << kHlcLogicalBits) | logical;
}

// Monotonic and wall time move together, starting at mono 0 / kWallMs.
inline Now At(int64_t mono_us) { return Now{mono_us, kWallMs + mono_us / 1000}; }

class RecordingOutbox : public Outbox {
 public:
  void Send(NodeId to, MessageBody body) override { sent.emplace_back(to, std::move(body)); }
  void Emit(LeaseEvent event) override { events.push_back(std::move(event)); }
  std::vector<std::pair<NodeId, MessageBody>> sent;
  std::vector<LeaseEvent> events;
};

inline const Owner kA{10, 1, 1};
inline const Owner kB{20, 1, 1};
inline const Owner kC{30, 1, 1};

class VoterTest : public ::testing::Test {
 protected:
  VoterTest() {
    config_.voters = {1, 2, 3};
    config_.self = 1;
  }

  Voter& Make(bool quarantine = false, Now now = At(0)) {
    hlc_.Tick(now.wall_ms);
    voter_.emplace(config_, hlc_, quarantine, now);
    return *voter_;
  }
  Voter& v() {
    if (!voter_) Make();
    return *voter_;
  }

  // Sends an acquire from `from` and returns the single reply. `ticket` 0: the ballot.
  AcquireReplyMsg Acquire(NodeId from, const Owner& owner, Ballot ballot, int64_t now_us,
                          int64_t duration_us = kD, std::string resource = "r", Ballot ticket = 0) {
    RecordingOutbox out;
    // Ticket 0 here: a request that waits, queued by its ballot (a try-acquire sends 0).
    v().OnAcquire(from,
                  AcquireMsg{resource, ballot, owner, duration_us, ticket == 0 ? ballot : ticket},
                  At(now_us), out);
    EXPECT_EQ(out.sent.size(), 1u);
    EXPECT_EQ(out.sent.at(0).first, from);
    const auto& reply = std::get<AcquireReplyMsg>(out.sent.at(0).second);
    EXPECT_EQ(reply.resource, resource);
    EXPECT_EQ(reply.ballot, ballot);
    EXPECT_EQ(reply.owner, owner);
    EXPECT_EQ(reply.accepted, reply.reason == RefuseReason::kNone);
    return reply;
  }
  RenewReplyMsg Renew(NodeId from, const Owner& owner, Ballot token, int64_t now_us,
                      int64_t duration_us = kD) {
    RecordingOutbox out;
    v().OnRenew(from, RenewMsg{"r", token, owner, duration_us, 7}, At(now_us), out);
    EXPECT_EQ(out.sent.size(), 1u);
    const auto& reply = std::get<RenewReplyMsg>(out.sent.at(0).second);
    EXPECT_EQ(reply.round, 7u);
    EXPECT_EQ(reply.token, token);
    EXPECT_EQ(reply.renewed, reply.reason == RefuseReason::kNone);
    return reply;
  }
  // Returns the messages the voter sent in response (release notices).
  // `still_waiting`: a failed attempt's release, whose request waits on (rule 10).
  RecordingOutbox Release(const Owner& owner, Ballot ballot, int64_t now_us,
                          bool still_waiting = false) {
    RecordingOutbox out;
    v().OnRelease(owner.node, ReleaseMsg{"r", ballot, owner, false, still_waiting}, At(now_us),
                  out);
    return out;
  }
  // An acquire for "r" with an explicit ticket (rule 10).
  AcquireReplyMsg AcquireTicket(NodeId from, const Owner& owner, Ballot ballot, Ballot ticket,
                                int64_t now_us) {
    return Acquire(from, owner, ballot, now_us, kD, "r", ticket);
  }
  RecordingOutbox Tick(int64_t now_us) {
    RecordingOutbox out;
    v().OnTick(At(now_us), out);
    return out;
  }
  bool Live(int64_t now_us, Voter::LeaseView* view) const {
    return voter_->FindLive("r", At(now_us), view);
  }

  LeaseConfig config_;
  Hlc hlc_;
  std::optional<Voter> voter_;
};

// The nodes that got a release notice for "r", in order.
inline std::vector<NodeId> NoticesTo(const RecordingOutbox& out) {
  std::vector<NodeId> to;
  for (const auto& [node, body] : out.sent) {
    EXPECT_EQ(std::get<ReleaseNoticeMsg>(body).resource, "r");
    to.push_back(node);
  }
  return to;
}

}  // namespace lockmesh::core::voter_testing
