#include "lib/core/messages.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace lockmesh::core {

absl::string_view RefuseReasonName(RefuseReason reason) {
  switch (reason) {
    case RefuseReason::kNone: return "none";
    case RefuseReason::kQuarantine: return "quarantine";
    case RefuseReason::kStaleBallot: return "stale-ballot";
    case RefuseReason::kHeld: return "held";
    case RefuseReason::kNoLease: return "no-lease";
    case RefuseReason::kTableFull: return "table-full";
    case RefuseReason::kBadRequest: return "bad-request";
    case RefuseReason::kNotVoter: return "not-voter";
  }
  return "unknown";
}

absl::string_view MessageKindName(std::size_t index) {
  static constexpr absl::string_view kNames[] = {"acquire", "acquire-reply", "renew",
                                                "renew-reply", "release", "release-notice"};
  static_assert(std::size(kNames) == kMessageKindCount);
  return index < std::size(kNames) ? kNames[index] : "unknown";
}

const std::string& ResourceOf(const MessageBody& body) {
  return std::visit([](const auto& m) -> const std::string& { return m.resource; }, body);
}

}  // namespace lockmesh::core

namespace lockmesh::core {

std::string DescribeMessage(const MessageBody& body) {
  struct Visitor {
    std::string operator()(const AcquireMsg& m) {
      return absl::StrFormat("acquire '%s' ballot %d owner %s for %dms", m.resource, m.ballot,
                             m.owner.ToString(), m.duration_us / 1000);
    }
    std::string operator()(const AcquireReplyMsg& m) {
      return m.accepted ? absl::StrFormat("accept '%s' ballot %d", m.resource, m.ballot)
                        : absl::StrFormat("refuse '%s' ballot %d: %s (highest %d, holder %dms)",
                                          m.resource, m.ballot, RefuseReasonName(m.reason),
                                          m.highest_ballot, m.holder_remaining_us / 1000);
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
  };
  return std::visit(Visitor{}, body);
}

}  // namespace lockmesh::core
