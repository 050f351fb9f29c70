#include "lib/core/messages.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace lockmesh::core {

absl::string_view RefuseReasonName(RefuseReason reason) {
  switch (reason) {
    case RefuseReason::kNone:
      return "none";
    case RefuseReason::kQuarantine:
      return "quarantine";
    case RefuseReason::kStaleBallot:
      return "stale-ballot";
    case RefuseReason::kHeld:
      return "held";
    case RefuseReason::kNoLease:
      return "no-lease";
    case RefuseReason::kTableFull:
      return "table-full";
    case RefuseReason::kBadRequest:
      return "bad-request";
    case RefuseReason::kNotVoter:
      return "not-voter";
  }
  return "unknown";
}

absl::string_view MessageKindName(std::size_t index) {
  static constexpr absl::string_view kNames[] = {
      "acquire", "acquire-reply", "renew", "renew-reply", "release", "release-notice",
      "ping",    "ping-req",      "ack",   "nack",        "gossip",  "push-pull"};
  static_assert(std::size(kNames) == kMessageKindCount);
  return index < std::size(kNames) ? kNames[index] : "unknown";
}

bool IsGossipMessage(const MessageBody& body) {
  return std::visit([]<typename T>(const T&) { return GossipBody<T>; }, body);
}

const std::string& ResourceOf(const MessageBody& body) {
  static const std::string kNone;
  return std::visit(
      []<typename T>(const T& m) -> const std::string& {
        if constexpr (GossipBody<T>) {
          return kNone;
        } else {
          return m.resource;
        }
      },
      body);
}

}  // namespace lockmesh::core

namespace lockmesh::core {

std::string DescribeMessage(const MessageBody& body) {
  struct Visitor {
    std::string operator()(const AcquireMsg& m) {
      return absl::StrFormat("acquire '%s' ballot %d ticket %d owner %s for %dms", m.resource,
                             m.ballot, m.ticket, m.owner.ToString(), m.duration_us / 1000);
    }
    std::string operator()(const AcquireReplyMsg& m) {
      return m.accepted
                 ? absl::StrFormat("accept '%s' ballot %d", m.resource, m.ballot)
                 : absl::StrFormat(
                       "refuse '%s' ballot %d: %s (highest %d, holder %s ballot %d for %dms)",
                       m.resource, m.ballot, RefuseReasonName(m.reason), m.highest_ballot,
                       m.holder.ToString(), m.holder_ballot, m.holder_remaining_us / 1000);
    }
    std::string operator()(const RenewMsg& m) {
      return absl::StrFormat("renew '%s' token %d round %d", m.resource, m.token, m.round);
    }
    std::string operator()(const RenewReplyMsg& m) {
      return absl::StrFormat("renew-%s '%s' token %d round %d%s", m.renewed ? "ok" : "refused",
                             m.resource, m.token, m.round,
                             m.renewed ? "" : absl::StrCat(": ", RefuseReasonName(m.reason)));
    }
    std::string operator()(const ReleaseMsg& m) {
      return absl::StrFormat("release '%s' ballot %d owner %s", m.resource, m.ballot,
                             m.owner.ToString());
    }
    std::string operator()(const ReleaseNoticeMsg& m) {
      return absl::StrFormat("notice '%s' free (ballot %d ended)", m.resource, m.ballot);
    }
    std::string operator()(const PingMsg& m) {
      return absl::StrCat("ping seq ", m.seq, Updates(m.updates));
    }
    std::string operator()(const PingReqMsg& m) {
      return absl::StrFormat("ping-req seq %d target %x%s%s", m.seq, m.target,
                             m.nack ? " (nack)" : "", Updates(m.updates));
    }
    std::string operator()(const AckMsg& m) {
      return absl::StrCat("ack seq ", m.seq, Updates(m.updates));
    }
    std::string operator()(const NackMsg& m) {
      return absl::StrCat("nack seq ", m.seq, Updates(m.updates));
    }
    std::string operator()(const GossipMsg& m) {
      return absl::StrCat("gossip", Updates(m.updates));
    }
    std::string operator()(const PushPullMsg& m) {
      return absl::StrFormat("push-pull%s%s %d/%d, %d members", m.join ? " join" : "",
                             m.reply ? " reply" : "", m.chunk_index + 1, m.chunk_count,
                             m.members.size());
    }
    // The first few updates: enough to follow a trace, short enough to read.
    static std::string Updates(const std::vector<MemberUpdate>& updates) {
      constexpr std::size_t kShown = 4;
      if (updates.empty()) return "";
      std::string out = " [";
      for (std::size_t i = 0; i < updates.size() && i < kShown; ++i) {
        absl::StrAppend(&out, i == 0 ? "" : ", ", DescribeUpdate(updates[i]));
      }
      if (updates.size() > kShown) absl::StrAppend(&out, ", +", updates.size() - kShown);
      return out + "]";
    }
  };
  return std::visit(Visitor{}, body);
}

}  // namespace lockmesh::core
